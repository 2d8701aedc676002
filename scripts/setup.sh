#!/usr/bin/env bash
# Installs what a fresh Debian machine with only Node and npm lacks: redis-server,
# redis-tools and tmux (apt-get), the pinned pnpm, and the workspace dependencies. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

# tmux drives the CLI's `hilok watch` test the way a person would use it in a terminal.
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1 || ! command -v tmux >/dev/null 2>&1; then
  echo "setup: installing redis-server, redis-tools and tmux"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools tmux >/dev/null
fi

PNPM_VERSION=$(node -p "require('./package.json').packageManager.split('@')[1]")
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm $PNPM_VERSION"
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1 || {
    # Node 20's bundled corepack fails its signature check without this.
    export COREPACK_INTEGRITY_KEYS=0
    corepack enable && corepack prepare "pnpm@$PNPM_VERSION" --activate
  }
fi

echo "setup: node $(node --version), pnpm $(pnpm --version), $(redis-server --version | cut -d' ' -f1-3)"
if [ "${CI:-}" = "true" ]; then pnpm install --frozen-lockfile; else pnpm install; fi
