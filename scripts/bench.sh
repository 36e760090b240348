#!/usr/bin/env bash
# Runs the criterion benches and the OpenSSL baselines in one session, on one pinned core, and
# prints a Markdown table of ratios for BENCHMARKS.md.
#
#   bash scripts/bench.sh            (full: criterion defaults)
#   QUICK=1 bash scripts/bench.sh    (shorter measurement; noisier)
set -euo pipefail
cd "$(dirname "$0")/.."
CORE=${CORE:-0}
pin() { if command -v taskset >/dev/null; then taskset -c "$CORE" "$@"; else "$@"; fi; }
N=${N:-200}
F=fixtures

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), pinned to core $CORE" >&2

# 1. openssl speed on the same core.
speed=$(pin openssl speed -seconds 3 rsa2048 ecdsap256 2>/dev/null)
rsa_vps=$(awk '/^rsa 2048 bits/ {print $NF}' <<<"$speed")
p256_vps=$(awk '/256 bits ecdsa \(nistp256\)/ {print $NF}' <<<"$speed")

# 2. Per-process baselines: N runs of `openssl cms -verify` and of `tekser verify cms` on the
#    1 KB RSA detached fixture (process start and file reading included for both).
per_run() { # prints microseconds per invocation of "$@"
  local t0 t1
  t0=$(date +%s%N)
  for _ in $(seq "$N"); do "$@" >/dev/null 2>&1 || true; done
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / N / 1000 ))
}
cargo build --release --quiet
AT=$(date -d 2025-06-01T00:00:00Z +%s)
ossl_cms=$(per_run pin openssl cms -verify -binary -inform DER -in $F/cms/rsa-detached-1k.p7s -content $F/cms/content-1k.bin \
  -CAfile $F/pki/rsa-root.crt -attime "$AT" -out /dev/null)
tekser_cli=$(per_run pin target/release/tekser verify cms --signature $F/cms/rsa-detached-1k.p7s --content $F/cms/content-1k.bin \
  --trust $F/pki/rsa-root.crt --at 2025-06-01T00:00:00Z --revocation off --json)

# 3. Criterion, pinned.
args=()
[[ -n ${QUICK:-} ]] && args=(-- --warm-up-time 1 --measurement-time 3)
pin cargo bench --quiet --bench verify "${args[@]}" >/dev/null 2>&1
est() { python3 -c "import json,sys; print(json.load(open('target/criterion/$1/new/estimates.json'))['mean']['point_estimate']/1000)"; }

rsa_1k=$(est cms_detached_verify_warm/rsa2048_1k); p256_1k=$(est cms_detached_verify_warm/p256_1k)
rsa_1m=$(est cms_detached_verify_warm/rsa2048_1m); p256_1m=$(est cms_detached_verify_warm/p256_1m)
ring_rsa=$(est ring_rsa2048_pkcs1_sha256_verify)
cold=$(est chain_3_certs/cold); cached=$(est chain_3_certs/cached)

python3 - "$rsa_vps" "$p256_vps" "$ossl_cms" "$tekser_cli" "$rsa_1k" "$p256_1k" "$rsa_1m" "$p256_1m" "$ring_rsa" "$cold" "$cached" <<'PY'
import sys
rsa_vps, p256_vps, ossl_cms, tekser_cli, rsa_1k, p256_1k, rsa_1m, p256_1m, ring_rsa, cold, cached = map(float, sys.argv[1:])
rsa_us = 1e6 / rsa_vps; p256_us = 1e6 / p256_vps
print("| measurement | tekser | baseline (same run, same core) | ratio |")
print("|---|---|---|---|")
print(f"| openssl speed rsa2048 verify | | {rsa_us:.1f} µs ({rsa_vps:.0f}/s) | |")
print(f"| openssl speed ecdsap256 verify | | {p256_us:.1f} µs ({p256_vps:.0f}/s) | |")
print(f"| ring RSA-2048 verify alone (in our bench) | {ring_rsa:.1f} µs | openssl speed rsa2048 | {ring_rsa/rsa_us:.2f}× |")
print(f"| detached CMS, RSA-2048, 1 KB, warm caches | {rsa_1k:.1f} µs | openssl speed rsa2048 verify | **{rsa_1k/rsa_us:.2f}×** (target ≤ 1.5×) |")
print(f"| detached CMS, ECDSA P-256, 1 KB, warm caches | {p256_1k:.1f} µs | openssl speed ecdsap256 verify | {p256_1k/p256_us:.2f}× |")
print(f"| detached CMS, RSA-2048, 1 MB, warm caches | {rsa_1m:.0f} µs | | |")
print(f"| detached CMS, ECDSA P-256, 1 MB, warm caches | {p256_1m:.0f} µs | | |")
print(f"| chain of 3, cold (2 signature checks) | {cold:.1f} µs | chain of 3, cached | **{cold/cached:.0f}× faster cached** (target ≥ 2.5×) |")
print(f"| chain of 3, cached | {cached*1000:.0f} ns | | |")
print(f"| `tekser verify cms` per process, RSA 1 KB | {tekser_cli:.0f} µs | `openssl cms -verify` per process: {ossl_cms:.0f} µs | {ossl_cms/tekser_cli:.2f}× faster |")
PY
