#!/usr/bin/env bash
# Signed-PDF throughput and the in-process rows of issue #15, each with its same-run baseline,
# everything pinned to core 0 (clients on core 1). Needs python3 with pyHanko==0.38.0, openssl,
# curl and /usr/bin/time. Release build (no LTO).
#   bash scripts/bench-pdf.sh          (SKIP_100M=1 leaves out the 100 MB file)
#
# Rates are given from CPU time where the machine is shared: `openssl speed` reports CPU time,
# pyHanko's and tekser's in-process loops are timed with their own CPU time, and the server's
# CPU per request comes from /proc (scripts/http-rate.py). Wall-clock rates are printed beside
# them; on a quiet machine the two agree.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/bench-pdf; mkdir -p "$out"
python3 scripts/bench-pdf.py make "$out"
cp fixtures/pdf/signed-image.pdf "$out/signed-image.pdf"
cargo build --release -q --example pdf_rate --example warm_loop --bin tekser
cpu_s() { /usr/bin/time -f "%U %S" "$@" 2>&1 >/dev/null | tail -1 | awk '{print $1 + $2}'; }
PORT=${PORT:-18437}

# Row 2: in-process warm detached CMS (1 KB, RSA-2048, chain of 3) ÷ openssl speed rsa2048 verify.
rsa_vps=$(taskset -c 0 openssl speed -seconds 3 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $NF}')
n=40000; c=$(cpu_s taskset -c 0 target/release/examples/warm_loop $n)
cms_us=$(python3 -c "print($c / $n * 1e6)")

# Rows 4 and 5 over HTTP: a server with one verification thread on core 0, one keep-alive
# client on core 1.
TEKSER_WORKERS=1 taskset -c 0 target/release/tekser serve --listen 127.0.0.1:$PORT \
  --trust fixtures/pki/rsa-root.crt --at 2027-01-01T00:00:00Z 2>/dev/null &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
http() { taskset -c 1 python3 scripts/http-rate.py $SERVER $PORT "$1" application/pdf "$2"; }
img_http=$(http $out/signed-image.pdf 2000)
big_http=$(http $out/signed-5m.pdf 100)
kill -TERM $SERVER; wait $SERVER 2>/dev/null || true; trap - EXIT
big_size=$(stat -c %s $out/signed-5m.pdf)
sha_kbs=$(taskset -c 0 openssl speed -seconds 3 -evp sha256 -bytes "$big_size" 2>/dev/null | awk '/^sha256/ {sub("k", "", $2); print $2}')
py_img=$(taskset -c 0 python3 scripts/bench-pdf.py validate $out/signed-image.pdf 100)
img_auto=$(taskset -c 0 target/release/examples/pdf_rate $out/signed-image.pdf 2000 auto)
img_always=$(taskset -c 0 target/release/examples/pdf_rate $out/signed-image.pdf 300 always)

python3 - "$rsa_vps" "$cms_us" "$img_http" "$big_http" "$big_size" "$sha_kbs" "$py_img" "$img_auto" "$img_always" <<'PY'
import re, sys
rsa_vps, cms_us, img_http, big_http, big_size, sha_kbs, py_img, img_auto, img_always = sys.argv[1:]
kv = lambda s: dict(x.split("=") for x in s.split())
rsa_us = 1e6 / float(rsa_vps)
ih, bh = kv(img_http), kv(big_http)
py_cpu = float(re.search(r"cpu_per_op_ms=([\d.]+)", py_img).group(1))
sha_ms = int(big_size) / (float(sha_kbs) * 1000) * 1000
rate = lambda s: float(re.search(r"([\d.]+) verifications/s", s).group(1))
print("| issue #15 row | tekser | baseline, same run | ratio | target |")
print("|---|---|---|---|---|")
print(f"| in-process warm detached CMS, RSA-2048, 1 KB (CPU time) | {float(cms_us):.1f} µs | openssl speed rsa2048 verify {rsa_us:.1f} µs | **{float(cms_us)/rsa_us:.2f}×** | ≤ 1.1× |")
print(f"| pyHanko-signed 55 KB PDF, one page image, over HTTP (server CPU) | {ih['server_cpu_ms']} ms ({1000/float(ih['server_cpu_ms']):.0f}/s; wall {ih['wall_ms']} ms) | pyHanko 0.38 in-process {py_cpu:.2f} ms CPU ({1000/py_cpu:.1f}/s) | **{py_cpu/float(ih['server_cpu_ms']):.0f}×** | ≥ 50× |")
print(f"| pyHanko-signed {int(big_size)/1e6:.1f} MB PDF over HTTP (server CPU) | {bh['server_cpu_ms']} ms ({1000/float(bh['server_cpu_ms']):.0f}/s; wall {bh['wall_ms']} ms) | openssl speed -evp sha256, {int(big_size)} bytes: {sha_ms:.2f} ms ({1000/sha_ms:.0f}/s) | **{sha_ms/float(bh['server_cpu_ms']):.2f}** | ≥ 0.6 |")
print(f"| same 55 KB PDF in-process, barcodes auto / always (wall) | {rate(img_auto):.0f}/s / {rate(img_always):.0f}/s | | {rate(img_auto)/rate(img_always):.1f}× | |")
PY

# The earlier table: in-process rates beside pyHanko, with peak RSS.
for f in signed-50k signed-10m signed-100m; do
  [[ -f "$out/$f.pdf" ]] || continue
  case $f in signed-50k) n=2000 pn=100;; signed-10m) n=40 pn=5;; *) n=5 pn=2;; esac
  echo "== $f ($(stat -c %s "$out/$f.pdf") bytes)"
  /usr/bin/time -f "   tekser peak RSS %M KB" taskset -c 0 target/release/examples/pdf_rate "$out/$f.pdf" "$n"
  /usr/bin/time -f "   pyHanko peak RSS %M KB" taskset -c 0 python3 scripts/bench-pdf.py validate "$out/$f.pdf" "$pn"
done
