#!/usr/bin/env bash
# Seeds fuzz/corpus/<target> from fixtures/ (run from anywhere).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/cms corpus/cert_bundle corpus/revocation
cp ../fixtures/cms/*.p7s ../fixtures/cms/*.pem corpus/cms/
cp ../fixtures/pki/*.crt corpus/cert_bundle/
cat ../fixtures/pki/rsa-leaf.crt ../fixtures/pki/rsa-int.crt > corpus/cert_bundle/leaf-and-int.pem
cp ../fixtures/tsa/revoked-after.crl ../fixtures/tsa/token.tsr corpus/revocation/
if [ -d ../../shared/testdata/openssl-ocsp ]; then
  for f in ../../shared/testdata/openssl-ocsp/*.ors; do base64 -d "$f" > "corpus/revocation/$(basename "$f").der" 2>/dev/null || true; done
  cp ../../shared/testdata/pkits/crls/GoodCACRL.crl ../../shared/testdata/kz/ocsp/*.bin corpus/revocation/ 2>/dev/null || true
fi
