#!/usr/bin/env bash
# Seeds fuzz/corpus/<target> from fixtures/ (run from anywhere).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/cms corpus/cert_bundle
cp ../fixtures/cms/*.p7s ../fixtures/cms/*.pem corpus/cms/
cp ../fixtures/pki/*.crt corpus/cert_bundle/
cat ../fixtures/pki/rsa-leaf.crt ../fixtures/pki/rsa-int.crt > corpus/cert_bundle/leaf-and-int.pem
