# Flotilla's build. `make help` lists the targets.

CONTROLLER_GEN_VERSION ?= v0.23.0
CONTROLLER_GEN ?= go run sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_GEN_VERSION)
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/flotilla-io/flotilla/internal/version.Version=$(VERSION)
# IMAGE is the agent's image `make image` tags (and pushes with PUSH=1);
# IMAGE_FLAGS passes registry flags to hack/image, such as
# IMAGE_FLAGS="-ca-file ca.pem -username ci -password-file pw".
IMAGE ?= ghcr.io/flotilla-io/flotilla:$(VERSION)
IMAGE_FLAGS ?=
# SOURCE_DATE_EPOCH fixes the images' timestamps: the same commit gives the
# same image digest.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
RELEASE_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
RELEASE_IMAGE_PLATFORMS ?= linux/amd64,linux/arm64

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build bin/flotilla.
	go build -ldflags "$(LDFLAGS)" -o bin/flotilla ./cmd/flotilla

.PHONY: image
image: ## Build the agent's image FROM SCRATCH (static bin/flotilla) into bin/flotilla-image.tar; PUSH=1 pushes IMAGE instead.
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) go run ./hack/image -version "$(VERSION)" -image "$(IMAGE)" $(if $(PUSH),-push "$(IMAGE)") $(IMAGE_FLAGS)

.PHONY: release
release: ## Build dist/: static flotilla for linux and darwin on amd64 and arm64, the image for linux/amd64 and linux/arm64 (tarballs, an OCI archive of the index), sha256sums.txt.
	rm -rf dist
	@set -e; for p in $(RELEASE_PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; echo "go build dist/flotilla-$$os-$$arch"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build -trimpath -ldflags "-s -w $(LDFLAGS)" -o dist/flotilla-$$os-$$arch ./cmd/flotilla; \
	done
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) go run ./hack/image -version "$(VERSION)" -image "$(IMAGE)" \
		-platforms $(RELEASE_IMAGE_PLATFORMS) -bin-dir dist -tarball dist/flotilla-image.tar -oci-archive dist/flotilla-image-oci.tar
	cd dist && sha256sum flotilla-* > sha256sums.txt

.PHONY: demo
demo: ## Run the fleet in a box: three local clusters converge from one Git repository (DEMO_FLAGS=--keep to keep it).
	go run -ldflags "$(LDFLAGS)" ./cmd/flotilla demo $(DEMO_FLAGS)

.PHONY: generate
generate: ## Regenerate deepcopy code, CRDs and the agent's RBAC from the Go markers.
	$(CONTROLLER_GEN) object paths=./api/...
	$(CONTROLLER_GEN) crd:allowDangerousTypes=true paths=./api/... output:crd:artifacts:config=config/crd/bases
	$(CONTROLLER_GEN) rbac:roleName=flotilla-agent paths=./internal/controller/... output:rbac:artifacts:config=config/rbac

.PHONY: verify-generate
verify-generate: ## Fail when generated deepcopy code or CRDs are stale.
	@CONTROLLER_GEN="$(CONTROLLER_GEN)" ./hack/verify-generate.sh

.PHONY: testenv
testenv: ## Install and build the test ground if missing (etcd, the Kubernetes commands, CoreDNS, containerd, the registry, sops, GnuPG, Prometheus, Traefik, the Sealed Secrets controller and kubeseal, the External Secrets operator); print its directory.
	@./hack/testenv.sh

.PHONY: fmt
fmt: ## Format the code.
	gofmt -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## Run go vet and staticcheck (pinned in go.mod's tool directive), check formatting and that go.mod is tidy.
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed" >&2; exit 1; }
	go vet ./...
	go tool staticcheck ./...
	@go mod tidy -diff >/dev/null || { echo "go.mod/go.sum are not tidy: run 'go mod tidy'" >&2; go mod tidy -diff; exit 1; }
	@./hack/verify-tracked-sizes.sh

.PHONY: test
test: vet verify-generate ## Run every test, integration tests against a real kube-apiserver, etcd, Git servers and a real single-node cluster (as root).
	KUBEBUILDER_ASSETS="$$(./hack/testenv.sh | tail -n 1)" go test -count=1 -timeout 30m ./...

# RACE_PACKAGES run controllers, watches and goroutines of their own.
RACE_PACKAGES ?= ./internal/controller/... ./internal/drift/... ./internal/apply/... ./internal/notify/... ./internal/canary/... ./internal/render/... ./internal/source/... ./test/faults/...

.PHONY: test-race
test-race: ## Run the packages that run controllers and goroutines under the race detector.
	KUBEBUILDER_ASSETS="$$(./hack/testenv.sh | tail -n 1)" go test -race -count=1 -timeout 40m $(RACE_PACKAGES)

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME each (default 3000x, a count of inputs; a duration such as 1m works too).
	./hack/fuzz.sh

.PHONY: test-short
test-short: ## Run the unit tests only.
	go test -short ./...

# BENCH_HEADLINES collects each benchmark's headline figures for the
# summary table of `make bench`.
BENCH_HEADLINES ?= $(HOME)/.cache/flotilla/bench/headlines
BENCH_SMOKE_HEADLINES ?= $(HOME)/.cache/flotilla/bench/smoke-headlines

.PHONY: bench
bench: ## Run every benchmark at full size (about 40 min on 2 CPUs, 14 GiB of RAM free); print the summary and rewrite BENCHMARKS.md.
	rm -rf "$(BENCH_HEADLINES)"
	$(MAKE) bench-apply bench-fleet bench-drift bench-plan bench-node bench-imagescan bench-imagedelay bench-dashboard
	go run ./bench/cmd/summary -dir "$(BENCH_HEADLINES)" -update BENCHMARKS.md

.PHONY: bench-drift
bench-drift: ## Measure drift revert latency and reconcile cost (about 5 min); update the Drift section of BENCHMARKS.md.
	KUBEBUILDER_ASSETS="$$(./hack/testenv.sh | tail -n 1)" go run ./bench/cmd/drift -o markdown -headlines "$(BENCH_HEADLINES)" -update BENCHMARKS.md

.PHONY: bench-smoke
bench-smoke: ## Run every benchmark at tiny sizes (a few minutes) and print the summary; writes nothing.
	rm -rf "$(BENCH_SMOKE_HEADLINES)"
	KUBEBUILDER_ASSETS="$$(./hack/testenv.sh | tail -n 1)" go run ./bench/cmd/apply -quick -headlines "$(BENCH_SMOKE_HEADLINES)"
	KUBEBUILDER_ASSETS="$$(./hack/testenv.sh | tail -n 1)" go run ./bench/cmd/drift -quick -headlines "$(BENCH_SMOKE_HEADLINES)"
	KUBEBUILDER_ASSETS="$$(./hack/testenv.sh | tail -n 1)" go run ./bench/cmd/fleet -quick -headlines "$(BENCH_SMOKE_HEADLINES)"
	go run ./bench/cmd/plan -quick -headlines "$(BENCH_SMOKE_HEADLINES)"
	go run ./bench/cmd/imagescan -quick -headlines "$(BENCH_SMOKE_HEADLINES)"
	KUBEBUILDER_ASSETS="$$(./hack/testenv.sh | tail -n 1)" go run ./bench/cmd/imagedelay -quick -headlines "$(BENCH_SMOKE_HEADLINES)"
	KUBEBUILDER_ASSETS="$$(./hack/testenv.sh | tail -n 1)" go run ./bench/cmd/node -quick -headlines "$(BENCH_SMOKE_HEADLINES)"
	KUBEBUILDER_ASSETS="$$(./hack/testenv.sh | tail -n 1)" go run ./bench/cmd/dashboard -quick -headlines "$(BENCH_SMOKE_HEADLINES)"
	go run ./bench/cmd/summary -dir "$(BENCH_SMOKE_HEADLINES)"

.PHONY: bench-plan
bench-plan: ## Measure flotilla plan on a 50-cluster fleet against the kustomize CLI (a few minutes); update the Plan section of BENCHMARKS.md.
	go run ./bench/cmd/plan -o markdown -headlines "$(BENCH_HEADLINES)" -update BENCHMARKS.md

.PHONY: bench-imagescan
bench-imagescan: ## Measure an ImageRepository scan of 10,000 tags from an in-process registry over TLS (under a minute); update the Image scan section of BENCHMARKS.md.
	go run ./bench/cmd/imagescan -o markdown -headlines "$(BENCH_HEADLINES)" -update BENCHMARKS.md

.PHONY: bench-imagedelay
bench-imagedelay: ## Measure the delay from a new image tag in a registry to the ImageUpdate's commit in Git, agent as its own process, scan interval 1s (under a minute); update the Image delay section of BENCHMARKS.md.
	KUBEBUILDER_ASSETS="$$(./hack/testenv.sh | tail -n 1)" go run ./bench/cmd/imagedelay -o markdown -headlines "$(BENCH_HEADLINES)" -update BENCHMARKS.md

.PHONY: bench-fleet
bench-fleet: ## Measure fleets of 10 and 50 clusters, an agent each, converging from one Git repository (about 16 min; 50 clusters take 12 GiB of RAM); update the Fleet section of BENCHMARKS.md.
	KUBEBUILDER_ASSETS="$$(./hack/testenv.sh | tail -n 1)" go run ./bench/cmd/fleet -o markdown -headlines "$(BENCH_HEADLINES)" -update BENCHMARKS.md

.PHONY: bench-dashboard
bench-dashboard: ## Measure flotilla dashboard on 50 clusters x 20 Stacks: start, change latency to event streams and to headless Chromium, watches, memory (about 15 min on 2 CPUs, 14 GiB of RAM); update the Dashboard section of BENCHMARKS.md.
	KUBEBUILDER_ASSETS="$$(./hack/testenv.sh | tail -n 1)" go run ./bench/cmd/dashboard -o markdown -headlines "$(BENCH_HEADLINES)" -update BENCHMARKS.md

.PHONY: bench-node
bench-node: ## Measure the real single-node test cluster, as root (about 5 min): start-up, a Deployment's rollout, idle memory per component, stop; update the Real node section of BENCHMARKS.md.
	KUBEBUILDER_ASSETS="$$(./hack/testenv.sh | tail -n 1)" go run ./bench/cmd/node -o markdown -headlines "$(BENCH_HEADLINES)" -update BENCHMARKS.md

.PHONY: bench-apply
bench-apply: ## Measure a Stack's apply by the agent process at 100, 1000, 5000 and 10000 objects against a bare server-side apply floor; update the Apply section of BENCHMARKS.md.
	KUBEBUILDER_ASSETS="$$(./hack/testenv.sh | tail -n 1)" go run ./bench/cmd/apply -o markdown -headlines "$(BENCH_HEADLINES)" -update BENCHMARKS.md
