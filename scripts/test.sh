#!/usr/bin/env bash
# The whole test suite from a fresh machine: setup, then build, package checks and every test
# against real redis-servers the tests start themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
pnpm test
