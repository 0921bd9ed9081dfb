#!/usr/bin/env bash
# testenv.sh installs or builds the binaries of the local test ground that
# Flotilla's integration tests and demo run against, and prints, as its last
# line, the directory that holds them (KUBEBUILDER_ASSETS).
#
# - etcd comes from Debian's etcd-server package;
# - kube-apiserver, kube-controller-manager, kube-scheduler, kubelet and
#   kube-proxy are built from the k8s.io/kubernetes Go module in
#   test/controlplane/build (its own module, so the product's go.mod never
#   sees it);
# - CoreDNS is built from its Go module in internal/localnode/coredns;
# - the sops command line tool is built from its Go module in test/sops, and
#   GnuPG comes from Debian's gnupg package (the tests encrypt fixtures with
#   both, as a user does);
# - Prometheus comes from Debian's prometheus package (the canary checks
#   query a real one), and Traefik v3, the Gateway API implementation that
#   splits canary traffic, is built from its Go module in test/traefik;
# - the Sealed Secrets controller and kubeseal are built from their Go module
#   in test/sealedsecrets, the External Secrets operator in
#   test/externalsecrets;
# - Chromium comes from Debian's chromium package: the dashboard's browser
#   tests drive it headless with chromedp (test/browser);
# - the real node's runtime comes from Debian: containerd, runc, the CNI
#   plugins, iptables and conntrack, and the OCI registry (docker-registry).
#
# Binaries are cached outside the clone, keyed by version, and reused when
# present. Progress goes to stderr.
set -euo pipefail

KUBE_VERSION=v1.37.2
ETCD_VERSION=3.4.23
COREDNS_VERSION=v1.15.0
KUBE_COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)
SOPS_VERSION=v3.13.3
NODE_PACKAGES=(gnupg containerd runc containernetworking-plugins iptables conntrack iproute2 docker-registry)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${FLOTILLA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flotilla}
dir="$cache/testenv/kube-$KUBE_VERSION-etcd-$ETCD_VERSION"
mkdir -p "$dir"

# One preparation at a time: test packages that find nothing prepared run
# this script at once.
exec 9>"$cache/testenv.lock"
flock 9

log() { printf 'testenv: %s\n' "$*" >&2; }

ensure_etcd() {
  if [[ -x $dir/etcd ]] && "$dir/etcd" --version 2>/dev/null | grep -q "$ETCD_VERSION"; then
    return
  fi
  if ! command -v etcd >/dev/null || ! etcd --version 2>/dev/null | grep -q "$ETCD_VERSION"; then
    log "installing Debian's etcd-server $ETCD_VERSION"
    apt_install "etcd-server=$ETCD_VERSION*"
    stop_services etcd
  fi
  ln -sf "$(command -v etcd)" "$dir/etcd"
}

apt_install() {
  local sudo=""
  [[ $(id -u) == 0 ]] || sudo=sudo
  local apt=($sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
  "${apt[@]}" update -qq >&2
  "${apt[@]}" install -y -qq --no-install-recommends "$@" >&2
}

# stop_services stops and disables the services Debian starts on install
# on a host booted with systemd: the test ground runs its own containerd,
# registry and etcd, each with its own configuration and ports.
stop_services() {
  [[ -d /run/systemd/system ]] || return 0
  local sudo=""
  [[ $(id -u) == 0 ]] || sudo=sudo
  $sudo systemctl disable --now "$@" >/dev/null 2>&1 || true
}

# ensure_kube builds every Kubernetes command that is missing, in one go
# build so that they share the compiled packages.
ensure_kube() {
  local missing=() cmd
  for cmd in "${KUBE_COMMANDS[@]}"; do
    [[ -x $dir/$cmd ]] || missing+=("./$cmd")
  done
  ((${#missing[@]})) || return 0
  log "building ${missing[*]#./} $KUBE_VERSION from source (first time only: about 15 minutes on 2 cores)"
  local pkg=k8s.io/component-base/version
  local minor=${KUBE_VERSION#v1.}
  minor=${minor%%.*}
  local ldflags="-s -w -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  local tmp
  tmp=$(mktemp -d "$dir/build.XXXXXX")
  (cd "$root/test/controlplane/build" &&
    CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$tmp/" "${missing[@]}")
  mv "$tmp"/* "$dir/"
  rmdir "$tmp"
  log "built ${missing[*]#./} in $dir"
}

# ensure_coredns builds CoreDNS when missing or when its build module (the
# plugins it holds) changed since.
ensure_coredns() {
  local stamp
  stamp=$(cat "$root/internal/localnode/coredns/main.go" "$root/internal/localnode/coredns/go.sum" | sha256sum | cut -c1-16)
  [[ -x $dir/coredns && $(cat "$dir/coredns.stamp" 2>/dev/null) == "$stamp" ]] && return
  log "building CoreDNS $COREDNS_VERSION from source (first time only: a few minutes)"
  (cd "$root/internal/localnode/coredns" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dir/coredns.tmp" .)
  mv "$dir/coredns.tmp" "$dir/coredns"
  echo "$stamp" >"$dir/coredns.stamp"
}

# ensure_node_packages installs the real node's runtime from Debian. Nothing
# is started or enabled: the test ground runs its own containerd and
# registry with their own configuration.
ensure_node_packages() {
  local missing=() p
  for p in "${NODE_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  log "installing Debian packages: ${missing[*]}"
  apt_install "${missing[@]}"
  local p
  for p in "${missing[@]}"; do
    case $p in docker-registry) stop_services docker-registry ;; esac
  done
}

# ensure_sops builds the sops command when missing or when its build module
# changed since.
ensure_sops() {
  local stamp
  stamp=$(cat "$root/test/sops/go.mod" "$root/test/sops/go.sum" | sha256sum | cut -c1-16)
  [[ -x $dir/sops && $(cat "$dir/sops.stamp" 2>/dev/null) == "$stamp" ]] && return
  log "building sops $SOPS_VERSION from source (first time only: a few minutes)"
  (cd "$root/test/sops" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dir/sops.tmp" github.com/getsops/sops/v3/cmd/sops)
  mv "$dir/sops.tmp" "$dir/sops"
  echo "$stamp" >"$dir/sops.stamp"
}

# ensure_prometheus installs Debian's prometheus (2.42) for internal/localprometheus,
# which runs it on a free loopback port with its own configuration. The
# package's service must not run: a policy-rc.d refuses the start on hosts
# without systemd, stop_services disables it on hosts with it, and the
# install fails if anything listens on the package's ports afterwards.
ensure_prometheus() {
  local version=2.42.0 policy=/usr/sbin/policy-rc.d placed=""
  dpkg-query -W -f='${Status}' prometheus 2>/dev/null | grep -q "install ok installed" && return
  log "installing Debian's prometheus $version"
  if [[ $(id -u) == 0 && ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && placed=1
  fi
  apt_install "prometheus=$version*" || { [[ -z $placed ]] || rm -f "$policy"; return 1; }
  [[ -z $placed ]] || rm -f "$policy"
  stop_services prometheus
  if ss -Hltn 'sport = :9090' 2>/dev/null | grep -q .; then
    log "something listens on :9090 after installing prometheus: stop the package's service (service prometheus stop)"
    return 1
  fi
}

# ensure_traefik builds Traefik v3 (the Gateway API implementation of the
# canary tests) from its Go module in test/traefik when missing or when
# that build module changed since. The build runs in a copy of the module
# where prepare.sh puts the two patched modules its go.mod replaces.
ensure_traefik() {
  local src=$root/test/traefik stamp version
  version=$(awk '$1 == "github.com/traefik/traefik/v3" { print $2 }' "$src/go.mod")
  stamp=$(cat "$src"/go.mod "$src"/go.sum "$src"/prepare.sh "$src"/ext/* "$src"/patches/* | sha256sum | cut -c1-16)
  [[ -x $dir/traefik && $(cat "$dir/traefik.stamp" 2>/dev/null) == "$stamp" ]] && return
  log "building Traefik $version from source (first time only: 15 minutes or more on 2 cores)"
  local tmp
  tmp=$(mktemp -d "$dir/traefik-build.XXXXXX")
  cp -r "$src/go.mod" "$src/go.sum" "$src/ext" "$tmp/"
  "$src/prepare.sh" "$tmp"
  (cd "$tmp" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$version" \
    -o "$dir/traefik.tmp" github.com/traefik/traefik/v3/cmd/traefik)
  rm -rf "$tmp"
  mv "$dir/traefik.tmp" "$dir/traefik"
  echo "$stamp" >"$dir/traefik.stamp"
}

# ensure_sealedsecrets builds the Sealed Secrets controller (as
# sealed-secrets-controller) and kubeseal when missing or when their build
# module changed since.
ensure_sealedsecrets() {
  local stamp
  stamp=$(cat "$root/test/sealedsecrets/go.mod" "$root/test/sealedsecrets/go.sum" | sha256sum | cut -c1-16)
  [[ -x $dir/sealed-secrets-controller && -x $dir/kubeseal && $(cat "$dir/sealedsecrets.stamp" 2>/dev/null) == "$stamp" ]] && return
  log "building the Sealed Secrets controller and kubeseal from source (first time only: a few minutes)"
  local tmp
  tmp=$(mktemp -d "$dir/build.XXXXXX")
  (cd "$root/test/sealedsecrets" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp/" \
    github.com/bitnami/sealed-secrets/cmd/controller github.com/bitnami/sealed-secrets/cmd/kubeseal)
  mv "$tmp/controller" "$dir/sealed-secrets-controller"
  mv "$tmp/kubeseal" "$dir/kubeseal"
  rmdir "$tmp"
  echo "$stamp" >"$dir/sealedsecrets.stamp"
}

# ensure_externalsecrets builds the External Secrets operator when missing or
# when its build module changed since, and copies its CRDs beside it (in
# external-secrets-crds/).
ensure_externalsecrets() {
  local stamp mod
  stamp=$(cat "$root/test/externalsecrets/go.mod" "$root/test/externalsecrets/go.sum" | sha256sum | cut -c1-16)
  [[ -x $dir/external-secrets && -d $dir/external-secrets-crds && $(cat "$dir/externalsecrets.stamp" 2>/dev/null) == "$stamp" ]] && return
  log "building the External Secrets operator from source (first time only: about 10 minutes of CPU)"
  (cd "$root/test/externalsecrets" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dir/external-secrets.tmp" github.com/external-secrets/external-secrets)
  mod=$(cd "$root/test/externalsecrets" && go list -m -f '{{.Dir}}' github.com/external-secrets/external-secrets)
  rm -rf "$dir/external-secrets-crds"
  mkdir "$dir/external-secrets-crds"
  cp "$mod"/config/crds/bases/*external-secrets.io_*.yaml "$dir/external-secrets-crds/"
  chmod u+w "$dir/external-secrets-crds"/*
  mv "$dir/external-secrets.tmp" "$dir/external-secrets"
  echo "$stamp" >"$dir/externalsecrets.stamp"
}

# ensure_chromium installs Debian's chromium for the dashboard's browser
# tests (test/browser drives /usr/bin/chromium headless with chromedp).
ensure_chromium() {
  dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q "install ok installed" && return
  log "installing Debian's chromium (the dashboard's browser tests)"
  apt_install chromium
}

ensure_etcd
ensure_kube
ensure_node_packages
ensure_coredns
ensure_sops
ensure_prometheus
ensure_traefik
ensure_sealedsecrets
ensure_externalsecrets
ensure_chromium
echo "$dir"
