#!/usr/bin/env bash
# testenv.sh installs or builds the binaries of the local control plane that
# Flotilla's integration tests and demo run against, and prints, as its last
# line, the directory that holds kube-apiserver and etcd (KUBEBUILDER_ASSETS).
#
# etcd comes from Debian's etcd-server package; kube-apiserver is built from
# the k8s.io/kubernetes Go module in test/controlplane/build (its own module, so the
# product's go.mod never sees it). Binaries are cached outside the clone,
# keyed by version, and reused when present. Progress goes to stderr.
set -euo pipefail

KUBE_VERSION=v1.37.2
ETCD_VERSION=3.4.23

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${FLOTILLA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flotilla}
dir="$cache/testenv/kube-$KUBE_VERSION-etcd-$ETCD_VERSION"
mkdir -p "$dir"

log() { printf 'testenv: %s\n' "$*" >&2; }

ensure_etcd() {
  if [[ -x $dir/etcd ]] && "$dir/etcd" --version 2>/dev/null | grep -q "$ETCD_VERSION"; then
    return
  fi
  if ! command -v etcd >/dev/null || ! etcd --version 2>/dev/null | grep -q "$ETCD_VERSION"; then
    log "installing Debian's etcd-server $ETCD_VERSION"
    local sudo=""
    [[ $(id -u) == 0 ]] || sudo=sudo
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "etcd-server=$ETCD_VERSION*" >&2
  fi
  ln -sf "$(command -v etcd)" "$dir/etcd"
}

ensure_kube_apiserver() {
  if [[ -x $dir/kube-apiserver ]]; then
    return
  fi
  log "building kube-apiserver $KUBE_VERSION from source (first time only: about 10 minutes on 2 cores)"
  local pkg=k8s.io/component-base/version
  local minor=${KUBE_VERSION#v1.}
  minor=${minor%%.*}
  local ldflags="-s -w -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  (cd "$root/test/controlplane/build" &&
    CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$dir/kube-apiserver.tmp" ./kube-apiserver)
  mv "$dir/kube-apiserver.tmp" "$dir/kube-apiserver"
  log "built $dir/kube-apiserver"
}

ensure_etcd
ensure_kube_apiserver
echo "$dir"
