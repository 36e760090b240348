#!/usr/bin/env bash
# Signed-PDF throughput, tekser beside pyHanko on the same files, in one run, each pinned to
# core 0 (BENCHMARKS.md). Needs python3 with pyHanko==0.38.0 and /usr/bin/time.
#   bash scripts/bench-pdf.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/bench-pdf; mkdir -p "$out"
python3 scripts/bench-pdf.py make "$out"
cargo build --release --example pdf_rate -q
for f in signed-50k signed-10m signed-100m; do
  case $f in signed-50k) n=2000 pn=100;; signed-10m) n=40 pn=5;; *) n=5 pn=2;; esac
  echo "== $f ($(stat -c %s "$out/$f.pdf") bytes)"
  /usr/bin/time -f "   tekser peak RSS %M KB" taskset -c 0 target/release/examples/pdf_rate "$out/$f.pdf" "$n"
  /usr/bin/time -f "   pyHanko peak RSS %M KB" taskset -c 0 python3 scripts/bench-pdf.py validate "$out/$f.pdf" "$pn"
done
