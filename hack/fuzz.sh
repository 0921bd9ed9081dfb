#!/usr/bin/env bash
# fuzz.sh runs every native Go fuzz target of the module for a fixed budget
# each (FUZZTIME, default 3000x: a count of inputs, not a duration; with a
# duration, go1.26's fuzz coordinator can fail a target with a bare "context
# deadline exceeded" as the time ends, without any failing input:
# https://go.dev/issue/75804, fixed in Go 1.27). A failure leaves its input under the
# package's testdata/fuzz, as go test does, and fails the run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
fuzztime=${FUZZTIME:-3000x}

grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r file; do
  pkg=./$(dirname "${file#./}")
  for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file"); do
    echo "fuzz: $pkg $target ($fuzztime)"
    # -short: no control plane. Fuzz targets need none, and each fuzz
    # worker process runs TestMain again: a package whose TestMain starts
    # kube-apiserver (internal/canary/ledger) never got past its baseline.
    go test -short -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >/tmp/fuzz-$$.log 2>&1 || {
      cat /tmp/fuzz-$$.log
      rm -f /tmp/fuzz-$$.log
      exit 1
    }
  done
done
rm -f /tmp/fuzz-$$.log
