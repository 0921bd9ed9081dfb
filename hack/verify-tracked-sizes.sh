#!/usr/bin/env bash
# verify-tracked-sizes.sh fails when Git tracks a file over 1 MiB: build
# outputs (binaries, images, tarballs) belong in no commit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
limit=$((1024 * 1024))
big=$(git ls-files -z | xargs -0 -r stat -c '%s %n' 2>/dev/null | awk -v l="$limit" '$1 > l {print "  " $2 " (" $1 " bytes)"}')
if [[ -n $big ]]; then
  echo "tracked files over 1 MiB (build outputs are never committed; remove them and add them to .gitignore):" >&2
  echo "$big" >&2
  exit 1
fi
