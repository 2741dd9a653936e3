#!/usr/bin/env bash
# `npm run test:mutation [-- STRYKER_ARGS]`: Stryker on the security-critical
# modules (stryker.config.mjs; docs/testing.md says how to read the result).
#
# Stryker 10 is the release that runs mocha 12 and checks mutants with
# TypeScript 7, and it needs Node >= 22; the package itself supports Node 20.
# On an older Node this runs Stryker (and so the tests) on a Node 22 taken from
# the npm registry's `node` package, which npx caches after the first time.
# stryker/node-hooks.mjs bridges Stryker 10.1 to TypeScript 7 and mocha 12.
set -euo pipefail
cd "$(dirname "$0")/.."
stryker=node_modules/@stryker-mutator/core/bin/stryker.js
if [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 22 ]; then
  exec node --import ./stryker/node-hooks.mjs "$stryker" run stryker.config.mjs "$@"
fi
exec npx --yes --package node@22 -- node --import ./stryker/node-hooks.mjs "$stryker" run stryker.config.mjs "$@"
