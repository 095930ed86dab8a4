# WAIckoff API. `make run` serves the whole API on 127.0.0.1:$(PORT);
# `make test` runs every check. See README.md.
SHELL := /bin/bash
GO ?= go
PORT ?= 3000
export PORT
# The AWS SDK and the Lambda runtime client wait on the network, so their
# packages are built without inlining: ~40 KB less code and tables in every
# store-using function, no measurable cost a call (BenchmarkSDKCall in
# shared/dynamo; README, "Performance").
GOFLAGS_LAMBDA := -trimpath -tags lambda.norpc -ldflags="-s -w" -gcflags=github.com/aws/...=-l
BUILD_DIR ?= build
# SAM passes ARTIFACTS_DIR to each build-<LogicalId> target.
ARTIFACTS_DIR ?= $(BUILD_DIR)/$(patsubst build-%,%,$@)
FUZZTIME ?= 20000x

define lambda
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(GOFLAGS_LAMBDA) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(1)
endef

.PHONY: help docs-assets browser-check py-check run test unit lint vet fmt-check fuzz build sizes bench eval soak clean clients clients-deps clients-check

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | \
	  awk -F':.*## ' '{ printf "  make %-14s %s\n", $$1, $$2 }'
	@echo "  make build-<LogicalId>  one Lambda, as sam build runs it (ARTIFACTS_DIR)"

# make run builds the local server once (go build, not go run, so that
# make's SIGTERM reaches the server itself: the recipe execs it), prints
# one line a request and writes the JSON logs to $(RUN_LOG).
RUN_LOG ?= $(BUILD_DIR)/run.log
run: ## Serve the whole API locally (moto started and stopped for you)
	@t0=$$(date +%s%N); mkdir -p $(BUILD_DIR) && $(GO) build -o $(BUILD_DIR)/local ./infra/cmd/local && \
	exec $(BUILD_DIR)/local -logs $(RUN_LOG) -started-at $$t0

PYTHON ?= python3
REQUIREMENTS ?= infra/requirements.txt
py-check: ## Check the Python packages are at the versions infra/requirements.txt pins
	@$(PYTHON) infra/pycheck.py $(REQUIREMENTS)

# make run and make test check them before anything else, in one line.
ifneq ($(filter run test,$(MAKECMDGOALS)),)
PY_PROBLEM := $(shell $(PYTHON) infra/pycheck.py $(REQUIREMENTS))
ifneq ($(PY_PROBLEM),)
$(error $(PY_PROBLEM))
endif
endif

test: lint vet clients-check browser-check ## Everything CI runs
	$(GO) test -count=1 -timeout 480s $$($(GO) list ./... | grep -v '/tests/load\|/tests/lambdasize')
	$(MAKE) --no-print-directory sizes
	@# The short load run goes alone: it measures the API, not the other
	@# packages' moto servers fighting it for the two cores.
	$(GO) test -count=1 -timeout 240s ./tests/load/...
	$(MAKE) --no-print-directory fuzz

# The docs page (GET /api/v1/docs) embeds Swagger UI, pinned in
# shared/docs/package-lock.json. Its files are committed in
# shared/docs/assets (a clone builds and tests without npm); this target
# refreshes them, licences included, after a change of version.
DOCS_DIR := shared/docs
DOCS_FILES := swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE swagger-ui-bundle.js.LICENSE.txt

docs-assets: ## Copy the docs page's renderer (swagger-ui-dist, pinned) and its licences into shared/docs/assets
	npm ci --prefix $(DOCS_DIR) --no-audit --no-fund --ignore-scripts
	rm -rf $(DOCS_DIR)/assets && mkdir -p $(DOCS_DIR)/assets
	cp $(addprefix $(DOCS_DIR)/node_modules/swagger-ui-dist/,$(DOCS_FILES)) $(DOCS_DIR)/assets/

browser-check: ## Check Chromium is installed (the docs page test drives it)
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || [ -n "$$CHROME_PATH" ] || { echo "make test needs Chromium for the docs page test: run apt-get update && apt-get install -y chromium"; exit 1; }

# tests/contract generates clients from the OpenAPI document: the TypeScript
# generator and compiler are npm packages pinned in its package-lock.json.
CONTRACT_DIR := tests/contract

clients-deps: ## Install the npm packages tests/contract needs (openapi-typescript, typescript)
	npm ci --prefix $(CONTRACT_DIR) --no-audit --no-fund

clients-check: ## Check Node.js, npm and tests/contract's npm packages are installed
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "make test needs node and npm (for tests/contract): install Node.js and npm, then run make clients-deps"; exit 1; }
	@test -x $(CONTRACT_DIR)/node_modules/.bin/openapi-typescript -a -x $(CONTRACT_DIR)/node_modules/.bin/tsc || { echo "make test needs openapi-typescript and typescript in $(CONTRACT_DIR)/node_modules: run make clients-deps"; exit 1; }

clients: ## Regenerate the Go client (tests/contract/goclient) after changing the OpenAPI document
	$(GO) test -count=1 ./shared/openapi -run TestGolden -update >/dev/null
	cd $(CONTRACT_DIR)/goclient && $(GO) generate .

lint: fmt-check ## cfn-lint on template.yaml and gofmt
	cfn-lint template.yaml

fmt-check: ## gofmt -l on every Go file
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet: ## go vet ./...
	$(GO) vet ./...

# A failing target shows its output and the path of the failing input
# (the file to keep as a regression seed, and how to re-run it).
FUZZ_PKGS ?= ./shared/...
fuzz: ## Short fuzz runs of every decoder (FUZZTIME inputs each; a count: go1.26 can fail a clean duration run at its deadline)
	@for pkg in $$($(GO) list $(FUZZ_PKGS)); do \
	  list=$$($(GO) test -list '^Fuzz' $$pkg 2>&1) || { echo "$$list"; exit 1; }; \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for f in $$(echo "$$list" | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; \
	    if ! out=$$($(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg 2>&1); then \
	      echo "$$out"; \
	      input=$$(echo "$$out" | sed -n 's/.*Failing input written to \(.*\)$$/\1/p' | head -n1); \
	      if [ -n "$$input" ]; then \
	        echo "failing input: $${dir#$(CURDIR)/}/$$input (re-run: go test -run '$$f/'$$(basename $$input) $$pkg)"; \
	      fi; \
	      exit 1; \
	    fi; \
	  done; done

sizes: ## Build every Lambda as sam build does; print each bootstrap's size against its goal
	@set -o pipefail; $(GO) test -count=1 -v -run TestLambdaSizes ./tests/lambdasize | grep -v '^=== RUN'

BENCH_COUNT ?= 3
bench: ## Benchmarks as one table (ours, baseline, ratio, goal); rows in infra/cmd/benchtable/rows.go, raw output in bench.out
	$(GO) run ./infra/cmd/benchtable -count $(BENCH_COUNT) -raw bench.out

EVAL_N ?= 250
EVAL_WALK ?= 500000
eval: ## Wyckoff engine on planted schematics and random walks: recall, precision, false events per 1,000 bars
	$(GO) run ./infra/cmd/wyckoffeval -n $(EVAL_N) -walk $(EVAL_WALK)

SOAK_DURATION ?= 60s
SOAK_WORKERS ?= 8
SOAK_MOTO_WORKERS ?= 8
soak: ## Long load run (SOAK_DURATION) on moto and on memdb, audited; prints req/s, p50/p99, our overhead
	$(GO) run ./tests/load/cmd/soak -duration $(SOAK_DURATION) -workers $(SOAK_WORKERS) -moto-workers $(SOAK_MOTO_WORKERS)

clean: ## Remove build outputs
	rm -rf $(BUILD_DIR) .aws-sam bench.out

FUNCTIONS := \
	AccountCreateFunction \
	AuthorizerFunction \
	DocsFunction \
	DashboardFunction \
	HealthFunction \
	IndicatorBatchFunction \
	IndicatorCatalogFunction \
	IndicatorComputeFunction \
	IndicatorQuoteFunction \
	KeyCreateFunction \
	KeyGetFunction \
	KeyListFunction \
	KeyRevokeFunction \
	KeyRotateFunction \
	KeyUsageFunction \
	McpFunction \
	OperatorMetricsFunction \
	OpenAPIFunction \
	PricingFunction \
	QuotaAddFunction \
	QuotaGetFunction \
	QuotaReconcileFunction \
	SessionCurrentFunction \
	SessionExpiryFunction \
	SessionGetFunction \
	SessionListFunction \
	SessionStartFunction \
	SessionTerminateFunction \
	UsageFunction \
	WyckoffAnalysisFunction \

build: $(addprefix build-,$(FUNCTIONS)) ## Cross-compile every Lambda to build/<LogicalId>/bootstrap (linux/arm64)

build-AccountCreateFunction:
	$(call lambda,accountcreate)

build-AuthorizerFunction:
	$(call lambda,authorizer)

build-DocsFunction:
	$(call lambda,docs)

build-DashboardFunction:
	$(call lambda,dashboard)

build-OperatorMetricsFunction:
	$(call lambda,operatormetrics)

build-HealthFunction:
	$(call lambda,health)

build-IndicatorBatchFunction:
	$(call lambda,indicatorbatch)

build-IndicatorCatalogFunction:
	$(call lambda,indicatorcatalog)

build-IndicatorComputeFunction:
	$(call lambda,indicatorcompute)

build-IndicatorQuoteFunction:
	$(call lambda,indicatorquote)

build-WyckoffAnalysisFunction:
	$(call lambda,wyckoffanalysis)

build-KeyCreateFunction:
	$(call lambda,keycreate)

build-KeyGetFunction:
	$(call lambda,keyget)

build-KeyListFunction:
	$(call lambda,keylist)

build-KeyRevokeFunction:
	$(call lambda,keyrevoke)

build-KeyRotateFunction:
	$(call lambda,keyrotate)

build-KeyUsageFunction:
	$(call lambda,keyusage)

build-McpFunction:
	$(call lambda,mcp)

build-OpenAPIFunction:
	$(call lambda,openapi)

build-PricingFunction:
	$(call lambda,pricing)

build-QuotaAddFunction:
	$(call lambda,quotaadd)

build-QuotaGetFunction:
	$(call lambda,quotaget)

build-QuotaReconcileFunction:
	$(call lambda,quotareconcile)

build-SessionCurrentFunction:
	$(call lambda,sessioncurrent)

build-SessionExpiryFunction:
	$(call lambda,sessionexpiry)

build-SessionGetFunction:
	$(call lambda,sessionget)

build-SessionListFunction:
	$(call lambda,sessionlist)

build-SessionStartFunction:
	$(call lambda,sessionstart)

build-SessionTerminateFunction:
	$(call lambda,sessionterminate)

build-UsageFunction:
	$(call lambda,usage)

dashboard-assets: ## Copy the dashboard's pinned chart libraries from npm into shared/dashboard/assets/vendor
	cd shared/dashboard && npm ci --no-audit --no-fund && ./vendor.sh

screenshots: ## Keep the dashboard screenshots of the last browser test for the README
	mkdir -p tests/screenshots && cp tests/artifacts/dashboard-*.png tests/screenshots/
