#!/usr/bin/env bash
# verify-generate.sh regenerates deepcopy code, CRDs and RBAC in a scratch copy of
# the module and fails when they differ from what is committed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
gen=${CONTROLLER_GEN:?set by the Makefile}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -C "$root" --exclude=./.git --exclude=./bin -cf - . | tar -C "$tmp" -xf -
rm -rf "$tmp/config/crd/bases" "$tmp/config/rbac"
(cd "$tmp" &&
  $gen object paths=./api/... &&
  $gen crd:allowDangerousTypes=true paths=./api/... output:crd:artifacts:config=config/crd/bases &&
  $gen rbac:roleName=flotilla-agent paths=./internal/controller/... output:rbac:artifacts:config=config/rbac)
if ! diff -r "$root/api" "$tmp/api" || ! diff -r "$root/config/crd/bases" "$tmp/config/crd/bases" ||
  ! diff "$root/config/rbac/role.yaml" "$tmp/config/rbac/role.yaml"; then
  echo "generated files are stale: run 'make generate' and commit the result" >&2
  exit 1
fi
echo "generated files are up to date"
