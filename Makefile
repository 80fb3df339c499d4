# obsgen — `make test` installs what the tests need and runs them.
GO       ?= go
BIN      := bin
PROM_MOD := github.com/prometheus/prometheus
AM_MOD   := github.com/prometheus/alertmanager
export GONOSUMDB ?= github.com/np-guard/models
# What `obsgen version` and the output manifests report for `make build`.
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo "(devel)")
COMMIT   ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS  := -X obsgen.dev/obsgen/internal/version.Version=$(VERSION) -X obsgen.dev/obsgen/internal/version.Commit=$(COMMIT)

.PHONY: all build test tools vet generate check verify bench fuzz clean

all: test

## test: build the real tools, then go vet, every test, the race detector
## on the registry (which runs the generators in parallel) and the pipeline,
## every benchmark once (so they keep running), and a check that go.mod and
## go.sum are tidy
test: tools vet
	$(GO) test -timeout 30m ./...
	$(GO) test -race -timeout 20m ./generators/ ./internal/pipeline/
	$(GO) test ./internal/pipeline/ -run '^$$' -bench . -benchtime 1x
	$(GO) mod tidy -diff

vet:
	$(GO) vet ./...

## build: bin/obsgen, stamped with the version and commit of the checkout
build:
	@mkdir -p $(BIN)
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/obsgen ./cmd/obsgen

## tools: prometheus, promtool, amtool, istioctl and istio-analyze (Istio's
## analyzers over files that stand for a cluster) from the pinned modules
tools: $(BIN)/prometheus $(BIN)/promtool $(BIN)/amtool $(BIN)/istioctl $(BIN)/istio-analyze

# Built from the same Prometheus and Alertmanager modules obsgen links
# against (see internal/tools/tools.go); rebuilt when go.mod or go.sum change.
$(BIN)/prometheus $(BIN)/promtool: go.mod go.sum internal/tools/tools.go
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/prometheus $(PROM_MOD)/cmd/prometheus
	$(GO) build -o $(BIN)/promtool $(PROM_MOD)/cmd/promtool

$(BIN)/amtool: go.mod go.sum internal/tools/tools.go
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/amtool $(AM_MOD)/cmd/amtool

# istioctl comes from the istio.io/istio module pinned in tools/istioctl,
# a module of its own so obsgen's go.mod stays free of Istio's dependencies.
$(BIN)/istioctl: tools/istioctl/go.mod tools/istioctl/go.sum tools/istioctl/tools.go
	@mkdir -p $(BIN)
	cd tools/istioctl && $(GO) build -o ../../$(BIN)/istioctl istio.io/istio/istioctl/cmd/istioctl

$(BIN)/istio-analyze: tools/istioctl/go.mod tools/istioctl/go.sum tools/istioctl/analyze/main.go
	@mkdir -p $(BIN)
	cd tools/istioctl && $(GO) build -o ../../$(BIN)/istio-analyze ./analyze

## generate: regenerate out/, the published JSON Schema and docs/profile.md
generate:
	UPDATE_GOLDEN=1 $(GO) test ./internal/e2e/ ./internal/schema/ -run 'TestOutIsUpToDate|TestCommittedSchemaMatchesTheTypes|TestCommittedProfileReferenceMatchesTheTypes' -count=1
	$(GO) run ./cmd/obsgen generate --check profiles/*.yaml

## check: fail when out/ is stale (what CI does for users' repos)
check:
	$(GO) run ./cmd/obsgen generate --check profiles/*.yaml

## verify: the checks obsgen leaves to obsgen-verify (Prometheus' and
## Alertmanager's loaders, the netpol-analyzer) on every example profile
verify:
	$(GO) run ./cmd/obsgen-verify profiles/*.yaml

## bench: speed and memory of resolve + generate
bench:
	$(GO) test ./internal/pipeline/ -run '^$$' -bench . -benchmem -count 3

## fuzz: fuzz the profile loader for a minute, the writer's manifest and pending-run readers for 20 s each
fuzz:
	$(GO) test ./internal/pipeline/ -run '^$$' -fuzz FuzzLoad -fuzztime 60s
	$(GO) test ./internal/output/ -run '^$$' -fuzz FuzzParseManifest -fuzztime 20s
	$(GO) test ./internal/output/ -run '^$$' -fuzz FuzzParsePending -fuzztime 20s

clean:
	rm -rf $(BIN)
