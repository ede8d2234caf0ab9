# rtagent: build the nginx module out of tree against Debian's nginx-dev,
# run it, test it, fuzz it.
#
#   make             build/ngx_http_rtagent_module.so
#   make deps        install the Debian packages listed in debian-packages.txt
#   make run         start nginx in the foreground with conf/rtagent.conf
#   make test        unit tests (cmocka) + t/*.t (Test::Nginx block format)
#   make test TESTS="t/023-redis-restart.t t/001-ws-handshake.t"
#                    just those files (no unit tests, no runner self-test)
#   make test SANITIZE=1   the same with ASan + UBSan
#   make fuzz        every t/fuzz/fuzz_*.c, FUZZ_RUNS executions each
#                    (make -j2 fuzz: two targets at a time)

SHELL := /bin/bash
.DEFAULT_GOAL := all

NGINX_SRC   ?= /usr/share/nginx/src
NGINX_BIN   ?= /usr/sbin/nginx
CONF        ?= conf/rtagent.conf
FUZZ_RUNS   ?= 1000000
FUZZ_MAX_LEN ?= 8192
FIXTURES    ?= $(CURDIR)/t/fixtures
SANITIZE    ?=

BUILD       ?= build
MODULE      := $(BUILD)/ngx_http_rtagent_module.so
# a driver for tests only (t/modules): never load it in production
TEST_MODULE := $(BUILD)/ngx_http_rtagent_test_module.so
PACKAGES    := $(shell sed -e 's/\#.*//' debian-packages.txt)

SAN_FLAGS   := -fsanitize=address,undefined -fno-omit-frame-pointer
CC_OPT      := -g -O2 -fPIC $(if $(SANITIZE),$(SAN_FLAGS))
LD_OPT      := -fPIC $(if $(SANITIZE),$(SAN_FLAGS))

MODULE_SRCS := $(shell sed -n 's|^ *\(src/.*\.c\)$$|\1|p' config)
MODULE_DEPS := $(shell sed -n 's|^ *\(src/.*\.h\)$$|\1|p' config)

# pure C codecs: unit-tested and fuzzed without nginx
CODEC_SRCS  := src/acs/ngx_http_rtagent_acs_msg.c \
               src/ws/ngx_http_rtagent_ws_hs.c \
               src/acs/ngx_http_rtagent_acs_text.c \
               src/acs/ngx_http_rtagent_acs_sign.c \
               src/json/ngx_http_rtagent_json.c \
               src/acs/ngx_http_rtagent_acs_jwt.c \
               src/acs/ngx_http_rtagent_acs_event.c \
               src/acs/ngx_http_rtagent_acs_body.c \
               src/acs/ngx_http_rtagent_acs_api.c \
               src/call/ngx_http_rtagent_call_id.c \
               src/store/ngx_http_rtagent_ctl_msg.c \
               src/audio/ngx_http_rtagent_ring.c \
               src/audio/ngx_http_rtagent_vad.c \
               src/agent/ngx_http_rtagent_agent_def.c \
               src/agent/ngx_http_rtagent_agent_data.c \
               src/agent/ngx_http_rtagent_tool_template.c \
               src/io/ngx_http_rtagent_retry_after.c \
               src/audio/ngx_http_rtagent_resample.c \
               src/speech/ngx_http_rtagent_sentence.c \
               src/call/ngx_http_rtagent_heard.c
# the browser channel's control messages (src/web)
CODEC_SRCS  += src/web/ngx_http_rtagent_web_msg.c
CODEC_INCS  := -Isrc -Isrc/acs -Isrc/audio -Isrc/ws -Isrc/speech -Isrc/call
CODEC_LIBS  := -lyajl -lcrypto -lwslay -lyaml -lspeexdsp -lm
# the cloud speech providers' codecs (src/speech)
CODEC_SRCS  += src/speech/ngx_http_rtagent_ssml.c \
               src/speech/ngx_http_rtagent_wav.c \
               src/speech/ngx_http_rtagent_multipart.c \
               src/speech/ngx_http_rtagent_stt_openai_parse.c \
               src/speech/ngx_http_rtagent_usp.c
# the WebSocket client's check of the upgrade's answer (src/io)
CODEC_SRCS  += src/io/ngx_http_rtagent_wsc_upgrade.c
# the local dialogue engine, its extractors, the safety screen (src/agent)
CODEC_SRCS  += src/agent/ngx_http_rtagent_dialog.c \
               src/agent/ngx_http_rtagent_extract.c \
               src/agent/ngx_http_rtagent_safety.c
# the local STT's language model builder (src/speech)
CODEC_SRCS  += src/speech/ngx_http_rtagent_lm.c \
               src/agent/ngx_http_rtagent_agent_grammar.c
# its tests read what it writes with sphinxbase
CODEC_LIBS  += -lsphinxbase
# the LLM engine's codecs (src/llm): SSE and chat completions
CODEC_SRCS  += src/llm/ngx_http_rtagent_sse.c \
               src/llm/ngx_http_rtagent_chat.c
# Prompt Shields' request and answer (src/llm)
CODEC_SRCS  += src/llm/ngx_http_rtagent_shield.c
UNIT_CFLAGS := -std=gnu99 -g -O1 -W -Wall -Wextra -Wpointer-arith \
               -Wno-unused-parameter -Werror $(if $(SANITIZE),$(SAN_FLAGS))
UNIT_TESTS  := $(patsubst t/unit/%.c,$(BUILD)/unit/%,$(wildcard t/unit/test_*.c))

FUZZ_CC     := clang
# fuzz_jwt signs with a small test key: the verifier accepts its size
FUZZ_FLAGS  := -g -O1 -fsanitize=fuzzer,address,undefined \
               -DNGX_HTTP_RTAGENT_JWK_BITS_MIN=512
# the six slowest first, in this order (FUZZ_RUNS=1000000, one at a time:
# 145, 130-190, 100, 93, 68 and 52 s; the other 17 take 3-40 s, 870 s in
# all), so that make -j2 fuzz does not end on one of them alone
FUZZ_SLOW   := fuzz_safety fuzz_agent_grammar fuzz_acs_events fuzz_chat \
               fuzz_dialog fuzz_sse
FUZZ_NAMES  := $(patsubst t/fuzz/%.c,%,$(wildcard t/fuzz/fuzz_*.c))
FUZZ_NAMES  := $(filter $(FUZZ_NAMES),$(FUZZ_SLOW)) \
               $(filter-out $(FUZZ_SLOW),$(FUZZ_NAMES))
FUZZ_TARGETS := $(addprefix $(BUILD)/fuzz/,$(FUZZ_NAMES))
# per target, optional: more seeds than t/fuzz/seeds/<name>/, a -max_len
FUZZ_SEEDS.fuzz_acs_msg := $(FIXTURES)/acs_ws_*.json
FUZZ_SEEDS.fuzz_acs_events := $(FIXTURES)/eventgrid_*.json \
                              $(FIXTURES)/callback_*.json
# a message up to the 64 KiB limit, in fragments with their headers
FUZZ_MAX_LEN.fuzz_ws_frames := 72000
# a few caller turns: the engine's cost is per turn, not per byte; each
# input is a whole call (~800 runs/s): a fifth of FUZZ_RUNS
FUZZ_MAX_LEN.fuzz_dialog := 1024
FUZZ_RUNS.fuzz_dialog = $(shell echo $$(( $(FUZZ_RUNS) / 5 )))
# SSE events are bounded at 64 bytes there: longer inputs add little;
# the chat decoder parses every chunk twice (in pieces and whole)
FUZZ_MAX_LEN.fuzz_sse := 2048
FUZZ_MAX_LEN.fuzz_chat := 4096
# an answer is a small object: longer inputs add little
FUZZ_MAX_LEN.fuzz_shield := 2048

# Use upstream Test::Nginx when it is installed, else our runner in t/lib.
PROVE_INC   := $(shell perl -MTest::Nginx::Socket -e1 2>/dev/null || echo -It/lib)
SAN_LIBS     = $(shell gcc -print-file-name=libasan.so) \
               $(shell gcc -print-file-name=libubsan.so)
TEST_NGINX_BIN := $(if $(SANITIZE),$(CURDIR)/$(BUILD)/nginx-sanitize,$(NGINX_BIN))

.PHONY: all deps run test unit prove selftest fuzz clean

all: $(MODULE)

# The configure step is redone when config (the source list) or the
# compiler flags change; the flags are remembered in build/.flags.
$(BUILD)/.flags: FORCE
	@mkdir -p $(BUILD)
	@echo '$(CC_OPT) | $(LD_OPT)' | cmp -s - $@ || echo '$(CC_OPT) | $(LD_OPT)' > $@

$(BUILD)/Makefile: config t/modules/config $(BUILD)/.flags
	@test -x $(NGINX_SRC)/configure || { echo "error: $(NGINX_SRC) is missing: run 'make deps' (package nginx-dev)"; exit 1; }
	cd $(NGINX_SRC) && . ./conf_flags && ./configure "$${NGX_CONF_FLAGS[@]}" \
	    --with-cc-opt='$(CC_OPT)' --with-ld-opt='$(LD_OPT)' \
	    --add-dynamic-module=$(CURDIR) --add-dynamic-module=$(CURDIR)/t/modules \
	    --builddir=$(CURDIR)/$(BUILD) \
	    > $(CURDIR)/$(BUILD)/configure.log 2>&1 \
	    || { tail -20 $(CURDIR)/$(BUILD)/configure.log; exit 1; }

$(MODULE): $(BUILD)/Makefile $(MODULE_SRCS) $(MODULE_DEPS) $(wildcard t/modules/*.c)
	$(MAKE) -C $(NGINX_SRC) -f $(CURDIR)/$(BUILD)/Makefile modules

FORCE:

deps:
	@missing=$$(for p in $(PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing:" $$missing; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	else echo "all Debian packages present"; fi

# a private redis-server for the shipped conf (rtagent_redis 127.0.0.1:6390),
# stopped with nginx
REDIS_PORT ?= 6390

run: deps $(MODULE)
	@mkdir -p $(BUILD)/run
	@echo "rtagent: http://127.0.0.1:8080/ (conf: $(CONF)); Ctrl-C stops"
	@echo "rtagent: place a simulated call with 'make call' in another terminal"
	@redis-server --port $(REDIS_PORT) --bind 127.0.0.1 --save '' \
	    --appendonly no --daemonize yes --pidfile $(CURDIR)/$(BUILD)/run/redis.pid \
	    --logfile $(CURDIR)/$(BUILD)/run/redis.log; \
	trap 'kill $$(cat $(CURDIR)/$(BUILD)/run/redis.pid) 2>/dev/null' EXIT; \
	$(NGINX_BIN) -p $(CURDIR)/ -c $(CURDIR)/$(CONF) -g 'daemon off;'

# ---- rtagent-call: the ACS caller simulator (tools/rtagent-call) --------
#   make call        a bundled FNOL caller into the `make run` gateway
#   make bench-calls 200 concurrent simulated calls (bench/calls/run)

CALL_TOOL   := $(BUILD)/rtagent-call
CALL_OWN    := $(filter-out tools/rtagent-call/test_%,$(wildcard tools/rtagent-call/*.c))
CALL_SRCS   := $(CALL_OWN) \
               src/acs/ngx_http_rtagent_acs_sign.c \
               src/acs/ngx_http_rtagent_acs_text.c \
               src/json/ngx_http_rtagent_json.c \
               src/speech/ngx_http_rtagent_wav.c \
               src/audio/ngx_http_rtagent_resample.c
CALL_INCS   := -D_GNU_SOURCE -Itools/rtagent-call -Isrc/acs -Isrc/json -Isrc/speech -Isrc/audio
CALL_LIBS   := -lcurl -lhiredis -lwslay -lyajl -lcrypto -lspeexdsp -lm
CALL_ARGS   ?= --script tools/rtagent-call/fnol-caller.txt --voice en-gb --rate 130 \
               --redis 127.0.0.1:$(REDIS_PORT) --out $(BUILD)/run/agent.wav

.PHONY: call bench-calls
all: $(CALL_TOOL)
# t/080-t/083 run it
prove: $(CALL_TOOL)

$(CALL_TOOL): $(CALL_SRCS) $(wildcard tools/rtagent-call/*.h) $(BUILD)/.flags
	@mkdir -p $(@D)
	gcc $(subst -O1,-O2,$(UNIT_CFLAGS)) -pthread $(CALL_INCS) $(CALL_SRCS) \
	    $(CALL_LIBS) -o $@

# its pure parts' cmocka test, run by `make unit`
$(BUILD)/unit/test_rc_wav: t/unit/test_rc_wav.c tools/rtagent-call/rc_wav.c \
                           tools/rtagent-call/rc_wav.h \
                           src/speech/ngx_http_rtagent_wav.c $(BUILD)/.flags
	@mkdir -p $(@D)
	gcc $(UNIT_CFLAGS) $(CALL_INCS) $< tools/rtagent-call/rc_wav.c \
	    src/speech/ngx_http_rtagent_wav.c -lcmocka -lm -o $@

call: $(CALL_TOOL)
	@mkdir -p $(BUILD)/run
	@$(CALL_TOOL) $(CALL_ARGS) \
	    || { echo "make call: a call failed; is 'make run' up in another terminal?"; exit 1; }

# 200 concurrent simulated calls against a private gateway (bench/calls)
bench-calls:
	bench/calls/run

# ---- tests ---------------------------------------------------------------

# the codecs are compiled once for all the unit tests (and once for all
# the fuzzers): each test is its own file and a link
UNIT_OBJS   := $(patsubst %.c,$(BUILD)/codec-unit/%.o,$(CODEC_SRCS))
FUZZ_OBJS   := $(patsubst %.c,$(BUILD)/codec-fuzz/%.o,$(CODEC_SRCS))
-include $(UNIT_OBJS:.o=.d) $(FUZZ_OBJS:.o=.d)
.SECONDARY: $(UNIT_OBJS) $(FUZZ_OBJS)

$(BUILD)/codec-unit/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(@D)
	gcc $(UNIT_CFLAGS) $(CODEC_INCS) -MMD -MP -c $< -o $@

$(BUILD)/unit/%: t/unit/%.c $(UNIT_OBJS) $(wildcard src/acs/*.h src/audio/*.h src/speech/*.h) \
                 src/call/ngx_http_rtagent_heard.h \
                 $(wildcard t/unit/*.h) $(BUILD)/.flags
	@mkdir -p $(@D)
	gcc $(UNIT_CFLAGS) $(CODEC_INCS) $< $(UNIT_OBJS) -lcmocka $(CODEC_LIBS) -o $@

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do RTAGENT_FIXTURES=$(FIXTURES) $$t; done

$(BUILD)/nginx-sanitize: Makefile
	@mkdir -p $(@D)
	printf '#!/bin/sh\nexport LD_PRELOAD="%s"\nexec %s "$$@"\n' '$(SAN_LIBS)' $(NGINX_BIN) > $@
	chmod +x $@

# the Node clients' dependencies (npm registry): ws, and playwright-core
# for the browser test (t/088); tests skip without node
tools/node_modules/ws: tools/package.json
	@if command -v npm >/dev/null; then \
	    cd tools && npm install --no-package-lock --no-audit --no-fund --loglevel=error \
	    && touch node_modules/ws; \
	else echo "npm not found: the Node client tests will be skipped"; fi

# t/*.t, or just the files named in TESTS.  Under RTAGENT_NO_SKIP=1
# (.ci/run) every test program loads t/helpers/RtagentNoSkip.pm, which makes
# a skip a failure, and the log (--directives lists every skip) must name no
# skip either; CI=1 asks for the log check alone.
TESTS       ?=
# test files run at once: most of their time is spent waiting (audio at real
# time, timers), so four at a time on two cores (26 of the audio files: 86 s
# at 4, ~360 s one at a time); each on its own random ports and servroot
# (TEST_NGINX_RANDOMIZE)
PROVE_JOBS  ?= 4
PROVE_PAR   := $(filter-out 1,$(PROVE_JOBS))
# the longest files first, in this order, so that the others run beside
# them (t/072 175 s, then 60 to 20 s)
PROVE_SLOW  := t/072-spoken-fnol.t t/055-speech-apology.t t/003-acs-media.t \
               t/049-speech-azure-barge.t t/088-web-browser.t
PROVE_FILES := $(or $(TESTS),$(filter $(wildcard t/*.t),$(PROVE_SLOW)) \
               $(filter-out $(PROVE_SLOW),$(wildcard t/*.t)))
NO_SKIP_ENV := $(if $(RTAGENT_NO_SKIP),RTAGENT_NO_SKIP=1 \
               PERL5LIB=$(CURDIR)/t/helpers$${PERL5LIB:+:$$PERL5LIB} \
               PERL5OPT="$${PERL5OPT:+$$PERL5OPT }-MRtagentNoSkip")

prove: $(MODULE) tools/node_modules/ws $(if $(SANITIZE),$(BUILD)/nginx-sanitize)
	rm -rf $(BUILD)/sanitizer && mkdir -p $(BUILD)/sanitizer
	$(NO_SKIP_ENV) \
	TEST_NGINX_BINARY=$(TEST_NGINX_BIN) \
	TEST_NGINX_LOAD_MODULES="$(CURDIR)/$(MODULE) $(CURDIR)/$(TEST_MODULE)" \
	RTAGENT_FIXTURES=$(FIXTURES) \
	ASAN_OPTIONS=detect_leaks=0:detect_odr_violation=0:log_path=$(CURDIR)/$(BUILD)/sanitizer/asan \
	UBSAN_OPTIONS=print_stacktrace=1:log_path=$(CURDIR)/$(BUILD)/sanitizer/ubsan \
	$(if $(PROVE_PAR),TEST_NGINX_RANDOMIZE=1) \
	    prove --directives --timer $(if $(PROVE_PAR),-j$(PROVE_JOBS)) $(PROVE_INC) \
	    $(PROVE_FILES) 2>&1 \
	    | tee $(BUILD)/prove.log; \
	    test $${PIPESTATUS[0]} -eq 0
	@# suites skip when node, openssl or redis-server is missing; CI has them
	@if [ -n "$$CI$$RTAGENT_NO_SKIP" ]; then \
	    t/helpers/no-skips $(BUILD)/prove.log; fi
	@if ls $(BUILD)/sanitizer/* >/dev/null 2>&1; then \
	    echo "sanitizer reports:"; cat $(BUILD)/sanitizer/*; exit 1; fi

# our block-format runner tests itself against plain nginx (no module)
selftest:
	$(if $(findstring t/lib,$(PROVE_INC)),env -u TEST_NGINX_LOAD_MODULES \
	    TEST_NGINX_BINARY=$(NGINX_BIN) prove -It/lib t/lib/selftest, \
	    @echo "upstream Test::Nginx is installed: t/lib is not used")

test: $(if $(TESTS),,unit selftest) prove

# ---- fuzzing -------------------------------------------------------------

$(BUILD)/codec-fuzz/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(CODEC_INCS) -MMD -MP -c $< -o $@

$(BUILD)/fuzz/%: t/fuzz/%.c $(FUZZ_OBJS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(CODEC_INCS) $< $(FUZZ_OBJS) $(CODEC_LIBS) -o $@

$(FUZZ_TARGETS): $(wildcard src/*/*.h t/fuzz/*.h)
$(FUZZ_TARGETS) $(UNIT_TESTS): $(wildcard src/speech/*.h)

fuzz: $(addprefix fuzz-run-,$(FUZZ_NAMES))

# one target: its seeds, FUZZ_RUNS executions, and it must run them all
fuzz-run-%: $(BUILD)/fuzz/%
	@corpus=$(BUILD)/fuzz/corpus-$*; log=$(BUILD)/fuzz/$*.log; \
	mkdir -p $$corpus; \
	if [ -d t/fuzz/seeds/$* ]; then cp t/fuzz/seeds/$*/* $$corpus/; fi; \
	$(if $(FUZZ_SEEDS.$*),cp $(FUZZ_SEEDS.$*) $$corpus/;) \
	$< -runs=$(or $(FUZZ_RUNS.$*),$(FUZZ_RUNS)) -max_len=$(or $(FUZZ_MAX_LEN.$*),$(FUZZ_MAX_LEN)) \
	    $$corpus > $$log 2>&1 || { tail -40 $$log; exit 1; }; \
	grep -q 'Done $(or $(FUZZ_RUNS.$*),$(FUZZ_RUNS)) runs' $$log \
	    || { tail -20 $$log; echo "$*: did not run $(or $(FUZZ_RUNS.$*),$(FUZZ_RUNS)) inputs"; exit 1; }; \
	echo "$*: $$(grep -o 'Done [0-9]* runs in [0-9]* second(s)' $$log), clean"

clean:
	rm -rf $(BUILD) t/servroot* tools/node_modules
