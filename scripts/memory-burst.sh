#!/usr/bin/env bash
# Issue 16: does resident memory go back after a burst? bin/turnpike start (etcd mode) with the launcher's default
# memory bound, then: a value at the size limit, 8 writers of small routes for 10 s, 10,000 idle connections opened
# (by a separate process) and closed, and 60 s of quiet. Prints VmRSS (/proc/PID/status) after each phase, the probe
# latency per phase, and the JVM's native memory summary (NMT) at the end.
#
#   scripts/memory-burst.sh [--idle 10000] [--settle-s 60] [--launcher PATH] [any big-write-stall.sh option]
#
# RLIMIT_NOFILE is raised to 2 x idle + 4096 for the harness and the gateway (within the hard limit).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec python3 "$root/scripts/lib/hostile_writes.py" --field nodes --big-bytes 1500000 --idle 10000 --settle-s 60 \
  --nmt "$@"
