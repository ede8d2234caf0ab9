# rtagent: Debian's nginx 1.22 with the rtagent module, its agents and its
# configuration (local speech engines: pocketsphinx, espeak-ng).
#   docker build -t rtagent .
#   docker run --network host rtagent
# The shipped conf wants its Redis at 127.0.0.1:6390 (host names are refused:
# resolving would block); run one there, or mount a conf of your own:
#   docker run -p 8080:8080 -v $PWD/my.conf:/opt/rtagent/conf/rtagent.conf rtagent

FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        build-essential nginx nginx-dev libwslay-dev libyajl-dev libssl-dev \
        libcurl4-openssl-dev libhiredis-dev libyaml-dev libspeexdsp-dev \
        libespeak-ng-dev libpocketsphinx-dev libopus-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY config Makefile debian-packages.txt ./
COPY src src
# the configure step also names the test driver module (never loaded here)
COPY t/modules t/modules
# build/rtagent-call, the caller simulator, comes with it
COPY tools/rtagent-call tools/rtagent-call
RUN make

FROM debian:bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        nginx libwslay1 libyajl2 libcurl4 libhiredis0.14 libyaml-0-2 \
        libspeexdsp1 libespeak-ng1 espeak-ng-data libpocketsphinx3 \
        libsphinxbase3 pocketsphinx-en-us libopus0 espeak-ng curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/rtagent
COPY --from=build /src/build/ngx_http_rtagent_module.so \
                  /src/build/rtagent-call build/
COPY conf conf
COPY agents agents
# inside a container the gateway listens on every interface
RUN mkdir -p build/run \
 && sed -i 's/listen 127.0.0.1:8080;/listen 8080;/' conf/rtagent.conf
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=2s CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
STOPSIGNAL SIGQUIT
CMD ["nginx", "-p", "/opt/rtagent/", "-c", "/opt/rtagent/conf/rtagent.conf", "-g", "daemon off;"]
