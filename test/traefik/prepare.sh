#!/usr/bin/env bash
# prepare.sh makes ./patched in the directory it is given (a copy of this
# build module): the two modules that go.mod replaces with local copies,
# taken from the Go module cache and changed by one file each, because the
# module proxy refuses modules that Traefik needs as it is:
#
#   - lego's providers/dns imports every ACME DNS provider of lego, and the
#     proxy refuses the SDKs of a dozen of them: the copy's
#     zz_gen_dns_providers.go is patches/lego_dns_providers.go.in, which has
#     no provider (the test ground's Traefik gets no ACME certificates);
#   - Traefik's fork of go-http-auth is refused: the copy is upstream v0.4.0
#     plus patches/goauth_fork.go.in, the two functions the fork adds.
#
# Usage: prepare.sh DIR (DIR holds a copy of test/traefik).
set -euo pipefail

LEGO=github.com/go-acme/lego/v5@v5.4.1
GOAUTH=github.com/abbot/go-http-auth@v0.4.0

dest=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# copy_module MODULE@VERSION NAME copies the module's source into
# $dest/patched/NAME, writable.
copy_module() {
  local src
  src=$(cd "$dest" && GOFLAGS=-mod=mod go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [[ -n $src ]] || { echo "prepare.sh: cannot download $1" >&2; exit 1; }
  rm -rf "$dest/patched/$2"
  mkdir -p "$dest/patched"
  cp -r "$src" "$dest/patched/$2"
  chmod -R u+w "$dest/patched/$2"
}

copy_module "$LEGO" lego
cp "$here/patches/lego_dns_providers.go.in" "$dest/patched/lego/providers/dns/zz_gen_dns_providers.go"
copy_module "$GOAUTH" go-http-auth
cp "$here/patches/goauth_fork.go.in" "$dest/patched/go-http-auth/fork.go"
# v0.4.0 predates modules: a local replacement needs a go.mod (its two
# imports, x/crypto and x/net, come from the build list).
printf 'module github.com/abbot/go-http-auth\n\ngo 1.16\n' >"$dest/patched/go-http-auth/go.mod"
