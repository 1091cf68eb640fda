#!/usr/bin/env bash
# Issue 16: one big configuration value, then small writes from 8 concurrent writers, while a prober sends a plain
# request every 20 ms through the gateway (bin/turnpike start, etcd mode, Admin API; its own etcd on free ports).
# Prints per-phase probe latency (p50/p99/max) and the gateway's VmRSS after each phase.
#
#   scripts/big-write-stall.sh [--field nodes|vars|labels|plugins|desc] [--big-bytes N] [--writers 8] [--write-s 10]
#                              [--settle-s 30] [--launcher PATH] [--jvm-opts="..."] [--nmt] [--keep]
#
# --big-bytes defaults to just under the value limit (1.5 MiB, docs/config.md "Configuration size limits"); a larger
# value is refused with 413 (the harness then runs the writers next to nothing big). --launcher runs another copy of
# the launcher (e.g. `git show <rev>:bin/turnpike > /tmp/old; chmod +x /tmp/old`) to compare JVM flags.
# Needs: engine/target/turnpike.jar (mvn -B -o install -DskipTests), etcd, python3.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec python3 "$root/scripts/lib/hostile_writes.py" --field nodes --big-bytes 1500000 --settle-s 30 "$@"
