# Quark's everyday tasks. `make help` lists them.
GO ?= go
RUNTIME_PKGS := . ./quarktest/... ./quarkerr/... ./internal/testactors/... ./examples/... ./storage/... ./internal/faultproxy

.PHONY: help test race bench fuzz generate checkgenerate lint ci

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

test: ## run every test (the README's command)
	$(GO) test ./...

race: ## run the runtime packages' tests under the race detector
	$(GO) test -race -count=1 $(RUNTIME_PKGS)

bench: ## print the benchmark table and run the Go benchmarks
	$(GO) run ./bench
	$(GO) test -run XXX -bench . -benchmem .

FUZZTIME ?= 10s
fuzz: ## run every fuzz target for FUZZTIME (default 10s)
	@for pkg in $$($(GO) list ./...); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "-- $$pkg $$t"; \
			$(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

generate: ## regenerate actor code (quark gen via go generate)
	$(GO) generate ./...

checkgenerate: ## fail if committed generated code is stale
	$(GO) test -run TestCommittedGeneratedCode ./internal/gen/

# golangci-lint at a pinned version, built by go run on first use (about two
# minutes, then seconds from the build cache). Override to use another
# binary: make lint GOLANGCI_LINT=golangci-lint
GOLANGCI_LINT ?= $(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0

lint: ## gofmt check, go vet and golangci-lint with .golangci.yml
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GOLANGCI_LINT) run ./...

ci: ## what CI runs
	bash .ci/run
