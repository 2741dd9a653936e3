#!/usr/bin/env bash
# `npm test`'s pretest step: the suite needs Debian's redis-server (and
# redis-cli) for its own Redis servers and Cluster, and Debian's chromium for
# the browser tests. Installs what is missing when it can (root or
# passwordless sudo, with apt-get); otherwise stops with the one command to run.
set -euo pipefail

missing=()
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  missing+=(redis-server)
fi
if [ ! -x /usr/bin/chromium ]; then
  missing+=(chromium)
fi
[ "${#missing[@]}" -eq 0 ] && exit 0

command_line="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "The tests need ${missing[*]} (Debian packages; /usr/bin/chromium for the browser tests). Install them, then run npm test again." >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  run=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  run=(sudo)
else
  echo "The tests need ${missing[*]}. Run this once, then npm test again:" >&2
  echo "  sudo sh -c '$command_line'" >&2
  exit 1
fi

echo "pretest: installing ${missing[*]} (Debian packages the tests need)"
"${run[@]}" apt-get update -qq
"${run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
