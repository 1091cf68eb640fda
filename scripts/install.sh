#!/usr/bin/env bash
# Installs Turnpike for bare metal (docs/operations.md, "Install layout"):
#   PREFIX/opt/turnpike/bin/turnpike        launcher (bin/turnpike)
#   PREFIX/opt/turnpike/lib/turnpike.jar    the shaded jar
#   PREFIX/opt/turnpike/docs/               operations.md, config.md
#   PREFIX/etc/turnpike/config.yaml         process configuration (kept when present), pid_file under PREFIX/run
#   PREFIX/etc/turnpike/apisix.yaml         standalone routes (kept when present)
#   PREFIX/etc/default/turnpike             JVM sizing for the unit (kept when present)
#   PREFIX/etc/systemd/system/turnpike.service, turnpike@.service
#   PREFIX/var/log/turnpike, PREFIX/var/lib/turnpike, PREFIX/run/turnpike
#
#   scripts/install.sh [--prefix DIR] [--jar FILE] [--user NAME] [--no-user]
# --prefix: the root of the layout (default /); paths written into the unit and config.yaml point inside it, so a
#           temporary prefix gives a complete, self-consistent tree (that is how the tests use it).
# --user:   the account the unit runs as (default turnpike); created (system account, no login) only when running as
#           root, with --prefix /, and it does not exist yet. --no-user: do not create it.
# Does not start or enable anything: systemctl daemon-reload && systemctl enable --now turnpike.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
PREFIX=/
JAR="$ROOT/engine/target/turnpike.jar"
USER_NAME=turnpike
CREATE_USER=1
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=${2:?--prefix needs a folder}; shift 2 ;;
    --jar) JAR=${2:?--jar needs a file}; shift 2 ;;
    --user) USER_NAME=${2:?--user needs a name}; shift 2 ;;
    --no-user) CREATE_USER=0; shift ;;
    -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -f "$JAR" ] || { echo "install.sh: $JAR missing: mvn -B -pl engine -am package -DskipTests" >&2; exit 2; }
[[ "$USER_NAME" =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] || { echo "install.sh: bad user name $USER_NAME" >&2; exit 2; }
mkdir -p "$PREFIX"
PREFIX=$(cd -- "$PREFIX" && pwd)
P=${PREFIX%/}   # "" for /

install -d -m 0755 "$P/opt/turnpike/bin" "$P/opt/turnpike/lib" "$P/opt/turnpike/docs" "$P/etc/turnpike" \
  "$P/etc/default" "$P/etc/systemd/system" "$P/var/log/turnpike" "$P/var/lib/turnpike" "$P/run/turnpike"
install -m 0755 "$ROOT/bin/turnpike" "$P/opt/turnpike/bin/turnpike"
install -m 0644 "$JAR" "$P/opt/turnpike/lib/turnpike.jar"
install -m 0644 "$ROOT/docs/operations.md" "$ROOT/docs/config.md" "$P/opt/turnpike/docs/"

if [ ! -e "$P/etc/turnpike/config.yaml" ]; then
  # conf/config.yaml, with the PID file under /run (the unit waits for it) and the log folder named.
  sed -e 's|^turnpike:$|turnpike:\n  pid_file: '"$P"'/run/turnpike/turnpike.pid   # the unit'"'"'s ExecStartPost reads it|' \
    "$ROOT/conf/config.yaml" >"$P/etc/turnpike/config.yaml"
  grep -q "pid_file: $P/run/turnpike/turnpike.pid" "$P/etc/turnpike/config.yaml" \
    || { echo "install.sh: conf/config.yaml has no turnpike: section to put pid_file in" >&2; exit 1; }
  chmod 0640 "$P/etc/turnpike/config.yaml"
  echo "installed $P/etc/turnpike/config.yaml"
else
  echo "kept $P/etc/turnpike/config.yaml"
fi
if [ ! -e "$P/etc/turnpike/apisix.yaml" ]; then
  install -m 0644 "$ROOT/conf/apisix.yaml" "$P/etc/turnpike/apisix.yaml"
else
  echo "kept $P/etc/turnpike/apisix.yaml"
fi
if [ ! -e "$P/etc/default/turnpike" ]; then
  cat >"$P/etc/default/turnpike" <<'ENV'
# Environment of turnpike.service (bin/turnpike reads these; docs/config.md "Memory bound").
#TURNPIKE_HEAP_MAX=1g
#TURNPIKE_DIRECT_MAX=512m
# Start-up cache (docs/startup.md): the first start trains it, the file is written at stop, later starts map it.
#TURNPIKE_STARTUP_CACHE=@STATE@/startup
#TURNPIKE_JVM_OPTS=
ENV
  sed -i "s|@STATE@|$P/var/lib/turnpike|" "$P/etc/default/turnpike"
fi
for unit in turnpike.service turnpike@.service; do
  sed -e "s|@PREFIX@|$P|g" -e "s|@USER@|$USER_NAME|g" "$ROOT/packaging/systemd/$unit" >"$P/etc/systemd/system/$unit"
  chmod 0644 "$P/etc/systemd/system/$unit"
done

if [ "$CREATE_USER" = 1 ] && [ "$(id -u)" = 0 ] && [ -z "$P" ] && ! id "$USER_NAME" >/dev/null 2>&1; then
  useradd --system --no-create-home --home-dir /var/lib/turnpike --shell /usr/sbin/nologin "$USER_NAME"
  echo "created system user $USER_NAME"
fi
if [ "$(id -u)" = 0 ] && id "$USER_NAME" >/dev/null 2>&1; then
  chown -R "$USER_NAME:$USER_NAME" "$P/var/log/turnpike" "$P/var/lib/turnpike" "$P/run/turnpike"
  chgrp "$USER_NAME" "$P/etc/turnpike/config.yaml"
fi
echo "installed Turnpike under ${P:-/}: $P/opt/turnpike, $P/etc/turnpike, $P/etc/systemd/system/turnpike.service"
[ -z "$P" ] && echo "next: systemctl daemon-reload && systemctl enable --now turnpike"
exit 0
