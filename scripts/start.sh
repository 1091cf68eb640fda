#!/usr/bin/env bash
# Builds Turnpike (tests skipped) and starts it on the embedded default: conf/config.yaml + conf/apisix.yaml.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mvn -B -DskipTests package
exec bin/turnpike start -c conf/config.yaml
