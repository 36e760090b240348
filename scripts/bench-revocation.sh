#!/usr/bin/env bash
# Revocation benches with same-run baselines, pinned to one core; prints a Markdown table.
#   bash scripts/bench-revocation.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CORE=${CORE:-0}
pin() { if command -v taskset >/dev/null; then taskset -c "$CORE" "$@"; else "$@"; fi; }
pin cargo bench --quiet --bench revocation >/dev/null 2>&1
est() { python3 -c "import json; print(json.load(open('target/criterion/$1/new/estimates.json'))['mean']['point_estimate'])"; }
parse=$(est crl_1m/parse_and_index); sig=$(est crl_1m/verify_signature)
hit=$(est crl_1m_lookup/hit); miss=$(est crl_1m_lookup/miss)
off=$(est cms_rsa2048_1k_revocation/off); cached=$(est cms_rsa2048_1k_revocation/cached_ocsp_whole_path)
size=$(stat -c %s target/bench-crl-1m.der)
# Baseline: OpenSSL parsing the same CRL (DER in, nothing out), best of 3, same core.
best=999999
for _ in 1 2 3; do
  t0=$(date +%s%N); pin openssl crl -inform DER -in target/bench-crl-1m.der -noout; t1=$(date +%s%N)
  ms=$(( (t1 - t0) / 1000000 )); (( ms < best )) && best=$ms
done
python3 - "$parse" "$sig" "$hit" "$miss" "$off" "$cached" "$size" "$best" <<'PY'
import sys
parse, sig, hit, miss, off, cached, size, ossl = map(float, sys.argv[1:])
print("| measurement | tekser | baseline (same run, same core) | ratio |")
print("|---|---|---|---|")
print(f"| load a 1,000,000-entry CRL ({size/1e6:.1f} MB): parse + index | {parse/1e6:.0f} ms | `openssl crl -noout` on the same file: {ossl:.0f} ms (process included) | {ossl/(parse/1e6):.1f}× faster (target < 2 s) |")
print(f"| its signature (SHA-256 over {size/1e6:.0f} MB + RSA-2048) | {sig/1e6:.0f} ms | | once per CRL (memoised) |")
print(f"| lookup, listed serial | {hit:.0f} ns | | target < 1 µs |")
print(f"| lookup, absent serial | {miss:.0f} ns | | target < 1 µs |")
print(f"| CMS RSA-2048 1 KB, revocation off | {off/1e3:.1f} µs | | |")
print(f"| same, `require`, cached OCSP for leaf and intermediate | {cached/1e3:.1f} µs | revocation off | **{cached/off:.3f}×** (target ≤ 1.1×) |")
PY
