# AutoPulse: `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO       ?= go
BIN      := $(CURDIR)/bin
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
PKGS     := ./...
# Set RACE= to skip the race detector (it roughly doubles test time).
RACE     ?= -race
FUZZTIME ?= 10s

SQLC          := $(BIN)/sqlc
GOLANGCI_LINT := $(BIN)/golangci-lint
SQUAWK        := $(CURDIR)/node_modules/.bin/squawk

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: run
run: ## Serve the API on an embedded Postgres at http://127.0.0.1:8080 with demo data
	$(GO) run ./cmd/autopulse serve

.PHONY: build
build: ## Build bin/autopulse
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/autopulse ./cmd/autopulse

.PHONY: test
test: ## Run the whole suite against one throwaway Postgres cluster
	$(GO) run ./cmd/pgrun -- $(GO) test $(RACE) -count=1 -timeout 20m $(PKGS)

.PHONY: cover
cover: ## Run the suite with coverage into coverage.out
	$(GO) run ./cmd/pgrun -- $(GO) test -count=1 -coverprofile=coverage.out -covermode=atomic $(PKGS)
	$(GO) tool cover -func=coverage.out | tail -1

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME each
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; done

.PHONY: bench
bench: ## Run the benchmarks (figures go to docs/PERFORMANCE.md)
	$(GO) run ./cmd/pgrun -- $(GO) test -run '^$$' -bench . -benchmem $(PKGS)

.PHONY: generate
generate: $(SQLC) ## Regenerate sqlc code from internal/postgres/queries
	$(SQLC) generate
	$(SQLC) vet

.PHONY: check-generated
check-generated: generate openapi ## Fail if generated code or docs/openapi.json is out of date
	@git diff --exit-code -- internal/postgres/db docs/openapi.json || (echo "generated files are stale: run make generate openapi" && exit 1)
	@test -z "$$(git status --porcelain -- internal/postgres/db docs/openapi.json)" || (echo "generated files are not committed" && exit 1)

.PHONY: openapi
openapi: ## Write the OpenAPI 3.1 document to docs/openapi.json
	$(GO) run ./cmd/autopulse openapi docs/openapi.json

.PHONY: lint
lint: $(GOLANGCI_LINT) ## gofmt and golangci-lint
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GOLANGCI_LINT) run ./...

.PHONY: squawk
squawk: $(SQUAWK) ## Lint SQL migrations with squawk
	$(SQUAWK) --config .squawk.toml internal/postgres/migrations/*.sql

.PHONY: tools
tools: $(SQLC) $(GOLANGCI_LINT) $(SQUAWK) ## Install the pinned tools into bin/ and node_modules/

$(SQLC): tools/sqlc/go.mod
	cd tools/sqlc && CGO_ENABLED=0 $(GO) build -o $(SQLC) github.com/sqlc-dev/sqlc/cmd/sqlc

$(GOLANGCI_LINT): tools/golangci/go.mod
	cd tools/golangci && $(GO) build -o $(GOLANGCI_LINT) github.com/golangci/golangci-lint/v2/cmd/golangci-lint

$(SQUAWK): package.json
	npm install --no-audit --no-fund --no-save

.PHONY: cdk-test
cdk-test: ## Test the AWS CDK stacks offline (deploy/cdk is its own Go module)
	cd deploy/cdk && $(GO) test ./...

.PHONY: cdk-synth
cdk-synth: ## Synthesize every environment's CloudFormation templates into cdk.out/ (offline)
	rm -rf cdk.out
	cd deploy/cdk && CDK_OUTDIR=$(CURDIR)/cdk.out $(GO) run . -image-tag $$(git rev-parse HEAD)

.PHONY: cdk-lint
cdk-lint: ## cfn-lint the synthesized templates
	cfn-lint cdk.out/*.template.json

.PHONY: clean
clean: ## Remove build output (keeps the embedded database in .autopulse/)
	rm -rf $(BIN) cdk.out coverage.out

.PHONY: dr-drill
dr-drill: build ## Backup/restore drill: dump the demo database, restore it into a fresh cluster, verify, time it
	AUTOPULSE_BIN=$(BIN)/autopulse scripts/dr-drill
