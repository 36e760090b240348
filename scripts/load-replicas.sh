#!/usr/bin/env bash
# One replica vs two behind nginx (issue #18), in one run with the same wrk settings:
#   1. one replica, direct            (what scripts/load.sh measures)
#   2. one replica behind nginx       (nginx's own cost)
#   3. two replicas behind nginx      (scale-out)
# nginx runs deploy/nginx/tekser.conf as shipped, rendered with loopback ports and a temp log
# directory (the same rewrites tests/deploy.rs makes), with one worker process.
#   REPLICAS=2 bash scripts/load.sh    (or bash scripts/load-replicas.sh; DURATION, PROFILE as there)
#
# Pinning (documented in BENCHMARKS.md with the numbers): each replica runs one verification
# thread and its I/O thread on a core of its own (REPLICA_CPUS, default "0 1"); wrk and nginx
# share LOAD_CPUS (default: the cores after the replicas' when there are 4 or more; on a 2-core
# machine, core 1). On 2 cores, rows 1-2 keep core 1 for the load and row 3 puts replica 2 on
# that same core: the wall rate of row 3 is then bounded by the machine, not by tekser, and the
# comparable figures are the CPU per request (server and nginx, from /proc), printed per row.
# All traffic goes to 127.0.0.1; every run is bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${DUR:-${DURATION:-10}}
DOC=${DOC:-fixtures/cms/rsa-attached-1k.p7s}
CT=${CT:-application/pkcs7-signature}
if [ -z "${BIN:-}" ]; then
  PROFILE=${PROFILE:-dist}
  cargo build --profile "$PROFILE" --quiet --bin tekser
  BIN=target/$PROFILE/tekser
fi
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
if ((${#need[@]})); then
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi
NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)

ncpu=$(nproc)
read -r -a RCPU <<<"${REPLICA_CPUS:-0 1}"
if [ -z "${LOAD_CPUS:-}" ]; then
  if ((ncpu >= 4)); then LOAD_CPUS="2-$((ncpu - 1))"; else LOAD_CPUS=1; fi
fi
RPORTS=(18441 18442)
NPORT=18440
WORK=$(mktemp -d /tmp/tekser-replicas.XXXXXX)
PIDS=()
NGINX=""
cleanup() {
  [ -n "$NGINX" ] && kill -TERM "$NGINX" 2>/dev/null && wait "$NGINX" 2>/dev/null
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$WORK"
  return 0
}
trap cleanup EXIT

start_replica() { # $1 = port, $2 = cpu list; sets PID
  TEKSER_WORKERS=1 taskset -c "$2" "$BIN" serve --listen 127.0.0.1:"$1" \
    --trust fixtures/pki/rsa-root.crt --at 2025-06-01T00:00:00Z 2>/dev/null &
  PID=$!
  for _ in $(seq 50); do curl -sf http://127.0.0.1:"$1"/healthz >/dev/null && return; sleep 0.1; done
  echo "replica on port $1 did not start" >&2; exit 1
}
stop_replicas() {
  for p in "${PIDS[@]}"; do kill -TERM "$p"; wait "$p" 2>/dev/null || true; done
  PIDS=()
}
start_nginx() { # replica ports as arguments; sets NGINX
  local upstreams=()
  for p in "$@"; do upstreams+=("127.0.0.1:$p"); done
  python3 - "$WORK" "$NPORT" "${upstreams[@]}" <<'PY'
import re, sys
work, port, ups = sys.argv[1], sys.argv[2], sys.argv[3:]
out, done = [], False
for line in open("deploy/nginx/tekser.conf"):
    t = line.lstrip(); ind = line[: len(line) - len(t)]
    if t.startswith("listen "):
        out.append(f"{ind}listen 127.0.0.1:{port};\n")
    elif t.startswith("access_log /var/log/nginx/"):
        out.append(line.replace("/var/log/nginx/", work + "/"))
    elif re.match(r"server [0-9.]+:[0-9]+ ", t):
        if not done:
            opts = t.rstrip().rstrip(";").split()[2:]
            out += [f"{ind}server {u} {' '.join(opts)};\n" for u in ups]
            done = True
    else:
        out.append(line)
open(f"{work}/tekser.conf", "w").writelines(out)
open(f"{work}/nginx.conf", "w").write(f"""daemon off; pid {work}/nginx.pid; error_log {work}/error.log;
worker_processes 1;
events {{ worker_connections 1024; }}
http {{ access_log off; client_body_temp_path {work}/body; proxy_temp_path {work}/proxy;
  fastcgi_temp_path {work}/fastcgi; uwsgi_temp_path {work}/uwsgi; scgi_temp_path {work}/scgi;
  include {work}/tekser.conf; }}
""")
PY
  taskset -c "$LOAD_CPUS" "$NGINX_BIN" -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/error.log" &
  NGINX=$!
  for _ in $(seq 50); do curl -sf http://127.0.0.1:$NPORT/healthz >/dev/null && return; sleep 0.1; done
  echo "nginx did not start: $(cat "$WORK/error.log")" >&2; exit 1
}
stop_nginx() { kill -TERM "$NGINX"; wait "$NGINX" 2>/dev/null || true; NGINX=""; }
# utime+stime in clock ticks of the given processes and their live children (nginx's worker).
ticks() {
  local t=0 p c
  for p in "$@"; do
    for c in $p $(ps --ppid "$p" -o pid= 2>/dev/null); do
      t=$((t + $(awk '{print $14 + $15}' /proc/"$c"/stat)))
    done
  done
  echo $t
}
served() { # requests a replica answered with 200 on /v1/verify, from its /metrics
  curl -sf http://127.0.0.1:"$1"/metrics |
    awk '/^tekser_http_requests_total\{route="\/v1\/verify",code="200"\}/ {print $2}'
}

cat >"$WORK/wrk.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "$CT"
local f = io.open("$DOC", "rb"); wrk.body = f:read("*a"); f:close()
LUA
ROWS=()
run_row() { # $1 = label, $2 = URL base; uses PIDS and NGINX
  curl -sf -H "Content-Type: $CT" --data-binary @"$DOC" "$2/v1/verify" | grep -q TOTAL_PASSED
  local s0 n0 s1 n1 out rps nreq p50 p99 non2xx
  s0=$(ticks "${PIDS[@]}"); n0=0; [ -n "$NGINX" ] && n0=$(ticks "$NGINX")
  out=$(taskset -c "$LOAD_CPUS" wrk -t1 -c32 -d"${DUR}s" --latency -s "$WORK/wrk.lua" "$2/v1/verify")
  s1=$(ticks "${PIDS[@]}"); n1=0; [ -n "$NGINX" ] && n1=$(ticks "$NGINX")
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  nreq=$(awk '/requests in/ {print $1}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out"); p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  local split="" p
  if ((${#PIDS[@]} > 1)); then
    for p in "${RPORTS[@]}"; do split+="$(served "$p")/"; done
    split=${split%/}
  fi
  ROWS+=("$1|$rps|$nreq|$p50|$p99|$non2xx|$((s1 - s0))|$((n1 - n0))|$split")
}

# 1. one replica, direct
start_replica "${RPORTS[0]}" "${RCPU[0]}"; PIDS+=("$PID")
run_row "1 replica, direct" "http://127.0.0.1:${RPORTS[0]}"
# 2. the same replica behind nginx
start_nginx "${RPORTS[0]}"
run_row "1 replica behind nginx" "http://127.0.0.1:$NPORT"
stop_nginx; stop_replicas
# 3. two replicas behind nginx (fresh processes, counters from zero)
start_replica "${RPORTS[0]}" "${RCPU[0]}"; PIDS+=("$PID")
start_replica "${RPORTS[1]}" "${RCPU[1]}"; PIDS+=("$PID")
start_nginx "${RPORTS[0]}" "${RPORTS[1]}"
run_row "2 replicas behind nginx" "http://127.0.0.1:$NPORT"
stop_nginx; stop_replicas

python3 - "$(getconf CLK_TCK)" "$ncpu" "${RCPU[*]}" "$LOAD_CPUS" "$DUR" "${ROWS[@]}" <<'PY'
import sys
tck, ncpu, rcpu, lcpu, dur = float(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
rows = [r.split("|") for r in sys.argv[6:]]
print(f"| POST /v1/verify, 1 KB RSA-2048 attached CMS, wrk 1 thread 32 conns {dur} s; {ncpu} cores, replicas on cores {rcpu.split()}, wrk+nginx on {lcpu} | req/s | p50 / p99 | non-2xx | server CPU per request | nginx CPU per request | requests per replica |")
print("|---|---|---|---|---|---|---|")
base = float(rows[0][1])
for label, rps, n, p50, p99, non2xx, sticks, nticks, split in rows:
    n = int(n); s_us = int(sticks) / tck / n * 1e6; n_us = int(nticks) / tck / n * 1e6
    rel = f" ({float(rps) / base:.2f}×)" if label != rows[0][0] else ""
    ngx = f"{n_us:.1f} µs" if "nginx" in label else "-"
    print(f"| {label} | {float(rps):.0f}{rel} | {p50} / {p99} | {non2xx} | {s_us:.1f} µs | {ngx} | {split or '-'} |")
PY
