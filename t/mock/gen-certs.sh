#!/bin/sh
# Test-only TLS material for the HTTPS mock, made fresh at test time:
#   ca.pem              the test CA (what rtagent_upstream_ssl_trusted_certificate names)
#   server.pem/.key     the mock's certificate for 127.0.0.1 and localhost, signed by it
#   other-ca.pem        an unrelated CA: trusting it must fail verification
# Usage: gen-certs.sh DIR
set -eu

dir=$1
mkdir -p "$dir"
cd "$dir"

ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"

openssl req -x509 $ec -keyout ca.key -out ca.pem -days 2 \
    -subj "/CN=rtagent test CA" 2>/dev/null
openssl req -x509 $ec -keyout other-ca.key -out other-ca.pem -days 2 \
    -subj "/CN=rtagent other CA" 2>/dev/null

openssl req $ec -keyout server.key -out server.csr \
    -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' \
    > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
    -out server.pem -days 2 -extfile server.ext 2>/dev/null

rm -f server.csr server.ext ca.srl
