#!/usr/bin/env bash
# The project's test command (`npm test`). Installs the Debian packages the tests run for real
# (daemons, checkers, linters), makes sure the provider bindings exist, then runs jest.
set -euo pipefail
cd "$(dirname "$0")/.."
export CHECKPOINT_DISABLE=1
bash scripts/install-system-deps.sh
node scripts/get-providers.js
npx tsc --noEmit -p tsconfig.json
npx jest "$@"
