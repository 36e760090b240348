#!/usr/bin/env python3
"""POSTs one file N times over one keep-alive connection to a running `tekser serve` and prints
the server's CPU time per request (utime + stime of PID from /proc, so the neighbours' load on a
shared machine does not count) and the wall time per request, as key=value pairs.
    http-rate.py PID PORT FILE CONTENT_TYPE N"""
import http.client
import os
import sys
import time

pid, port, path, ct, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
body = open(path, "rb").read()
tick = os.sysconf("SC_CLK_TCK")


def cpu():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick


conn = http.client.HTTPConnection("127.0.0.1", port)


def once():
    conn.request("POST", "/v1/verify?revocation=off", body, {"Content-Type": ct})
    r = conn.getresponse()
    data = r.read()
    assert r.status == 200 and b"TOTAL_PASSED" in data, data[:300]


for _ in range(3):
    once()
c0, t0 = cpu(), time.perf_counter()
for _ in range(n):
    once()
c1, t1 = cpu(), time.perf_counter()
print(f"server_cpu_ms={(c1 - c0) * 1000 / n:.3f} wall_ms={(t1 - t0) * 1000 / n:.3f}")
