#!/usr/bin/env bash
# Seeds fuzz/corpus/<target> from fixtures/ (run from anywhere).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/cms corpus/cert_bundle corpus/revocation corpus/fetch_response corpus/xml corpus/egov corpus/ddc corpus/gost corpus/pdf corpus/http_body corpus/image
cp ../fixtures/cms/*.p7s ../fixtures/cms/*.pem corpus/cms/
cp ../fixtures/pki/*.crt corpus/cert_bundle/
cat ../fixtures/pki/rsa-leaf.crt ../fixtures/pki/rsa-int.crt > corpus/cert_bundle/leaf-and-int.pem
cp ../fixtures/tsa/revoked-after.crl ../fixtures/tsa/token.tsr corpus/revocation/
if [ -d ../tests/data/openssl-ocsp ]; then
  for f in ../tests/data/openssl-ocsp/*.ors; do base64 -d "$f" > "corpus/revocation/$(basename "$f").der" 2>/dev/null || true; done
  cp ../tests/data/pkits/crls/GoodCACRL.crl ../tests/data/kz/ocsp/*.bin corpus/revocation/ 2>/dev/null || true
fi
cp ../fixtures/barcode/egov-rsa/document.xml corpus/xml/
# fetch_response: first byte = limit / 64, then an HTTP response (plain, chunked, with 1xx).
printf '\377HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello' > corpus/fetch_response/plain
printf '\377HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' > corpus/fetch_response/chunked
cp ../fixtures/barcode/egov-rsa/all.txt corpus/egov/egov-rsa.txt
cp ../fixtures/barcode/hello.zip corpus/egov/
cp ../fixtures/barcode/ddc-rsa/all.txt corpus/ddc/ddc-rsa.txt
printf '<a xmlns="urn:a" xmlns:p="urn:p" xml:lang="kk"><p:b p:x="1">t&amp;<!--c--><?pi d?></p:b><![CDATA[<x>]]></a>' > corpus/xml/ns.xml
# GOST: selector byte, then x||y, then r||s, then a message (the gostcrypto vectors' shapes).
python3 - <<'PY'
import json
v = json.load(open("../fixtures/gost/vectors.json"))["vectors"]
sel = {"Tc26_512A": 0, "Tc26_256A": 1, "CryptoProA": 2, "Tc26_512C": 3}
for x in v:
    if x["curve"] in sel:
        data = bytes([sel[x["curve"]]]) + bytes.fromhex(x["public_key_nca_hex"]) + bytes.fromhex(x["signature_nca_hex"]) + bytes.fromhex(x["message_hex"])
        open(f"corpus/gost/{x['curve']}.bin", "wb").write(data)
PY
if [ -d ../tests/data/kz/xml ]; then
  cp ../tests/data/kz/xml/*.xml corpus/xml/
fi
cp ../fixtures/pdf/*.pdf corpus/pdf/
# HTTP bodies: the selector byte (0 multipart, 1 JSON, 2 NDJSON, 3 payload lines), then the body.
printf '\000--B42\r\nContent-Disposition: form-data; name="signature"\r\n\r\n0\003\002\001\005\r\n--B42\r\nContent-Disposition: form-data; name="content"\r\n\r\nhello\r\n--B42--\r\n' > corpus/http_body/multipart
printf '\001{"id": 1, "cms": "MAMCAQU=", "content": "aGVsbG8="}' > corpus/http_body/json
printf '\002{"id": "a", "xml": "PGEvPg=="}\n{"id": 2, "barcodes": ["x"]}\n\n{"id": 3, "cms": 5}\n' > corpus/http_body/ndjson
{ printf '\003'; cat ../fixtures/barcode/egov-rsa/all.txt; } > corpus/http_body/lines
cp ../fixtures/barcode/egov-rsa/part-1.png corpus/image/
