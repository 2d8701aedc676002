#!/usr/bin/env bash
# The demo from a fresh machine: setup, build, then workers contending for locks through both
# drivers on an embedded redis-server (or on $REDIS_URL).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
pnpm demo
