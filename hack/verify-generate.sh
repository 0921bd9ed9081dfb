#!/usr/bin/env bash
# verify-generate.sh regenerates deepcopy code and CRDs in a scratch copy of
# the module and fails when they differ from what is committed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
gen=${CONTROLLER_GEN:?set by the Makefile}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$root/go.mod" "$root/go.sum" "$root/api" "$tmp/"
mkdir -p "$tmp/config/crd/bases"
(cd "$tmp" &&
  $gen object paths=./api/... &&
  $gen crd paths=./api/... output:crd:artifacts:config=config/crd/bases)
if ! diff -r "$root/api" "$tmp/api" || ! diff -r "$root/config/crd/bases" "$tmp/config/crd/bases"; then
  echo "generated files are stale: run 'make generate' and commit the result" >&2
  exit 1
fi
echo "generated files are up to date"
