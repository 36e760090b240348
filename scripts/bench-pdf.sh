#!/usr/bin/env bash
# Signed-PDF throughput, tekser beside pyHanko on the same files, in one run, each pinned to
# core 0 (BENCHMARKS.md). Needs python3 with pyHanko==0.38.0 and /usr/bin/time.
#   bash scripts/bench-pdf.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/bench-pdf; mkdir -p "$out"
python3 scripts/bench-pdf.py make "$out"
cargo build --release --example pdf_rate -q
for f in signed-50k signed-10m; do
  n=$([ "$f" = signed-50k ] && echo 2000 || echo 40)
  pn=$([ "$f" = signed-50k ] && echo 100 || echo 5)
  echo "== $f ($(stat -c %s "$out/$f.pdf") bytes)"
  /usr/bin/time -f "   tekser peak RSS %M KB" taskset -c 0 target/release/examples/pdf_rate "$out/$f.pdf" "$n"
  /usr/bin/time -f "   pyHanko peak RSS %M KB" taskset -c 0 python3 scripts/bench-pdf.py validate "$out/$f.pdf" "$pn"
done
