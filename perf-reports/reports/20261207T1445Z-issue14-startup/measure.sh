#!/bin/bash
cd /work/main
J25=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
F=/tmp/final; mkdir -p $F/warm17 $F/warm25 $F/tls17 $F/tls25
export TURNPIKE_JAR=/tmp/tp-final.jar
b() { flock -o /tmp/turnpike-bench.lock env "$@" ; }
echo "== A plain jdk17"; b OUT=$F/warm17 scripts/bench.sh --only turnpike --warmup-curve --rounds 3 --duration 15 2>&1 | grep -E "^round|median|JSON"
b OUT=$F/warm17 scripts/bench.sh --only turnpike --warmup-curve --startup-cache --rounds 3 --duration 15 2>&1 | grep -E "^round|median|JSON|training"
echo "== B plain jdk25"; b JAVA=$J25 OUT=$F/warm25 scripts/bench.sh --only turnpike --warmup-curve --rounds 3 --duration 15 2>&1 | grep -E "^round|median|JSON"
b JAVA=$J25 OUT=$F/warm25 scripts/bench.sh --only turnpike --warmup-curve --startup-cache --rounds 3 --duration 15 2>&1 | grep -E "^round|median|JSON|training"
echo "== C tls"; b OUT=$F/tls17 scripts/bench.sh --only turnpike --warmup-curve --tls --rounds 2 --duration 20 2>&1 | grep -E "^round|median|JSON"
b OUT=$F/tls17 scripts/bench.sh --only turnpike --warmup-curve --tls --startup-cache --rounds 2 --duration 20 2>&1 | grep -E "^round|median|JSON|training"
b JAVA=$J25 OUT=$F/tls25 scripts/bench.sh --only turnpike --warmup-curve --tls --rounds 2 --duration 20 2>&1 | grep -E "^round|median|JSON"
b JAVA=$J25 OUT=$F/tls25 scripts/bench.sh --only turnpike --warmup-curve --tls --startup-cache --rounds 2 --duration 20 2>&1 | grep -E "^round|median|JSON|training"
echo "== D coldstart ssls"; b TIMEOUT_S=150 scripts/coldstart.sh --routes 1000 --ssls 2000 --runs 4 --jars /tmp/tp-pkcs12.jar,/tmp/tp-final.jar 2>&1 | grep -vE "^coldstart: (starting|waiting)"
echo "== E coldstart 50k jdk25"; b JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 scripts/coldstart.sh --routes 50000 --runs 2 --jars /tmp/tp-final.jar 2>&1 | tail -12
rm -rf /tmp/cs-cache; b JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 TURNPIKE_STARTUP_CACHE=/tmp/cs-cache/tp scripts/coldstart.sh --routes 50000 --runs 3 --jars /tmp/tp-final.jar 2>&1 | tail -14; ls -la /tmp/cs-cache
echo "== done $(date)"
