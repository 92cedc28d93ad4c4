# offline: developer entry points. `make test` needs nothing but Node 20 and npm on a Debian-like host as root:
# it installs the system packages it uses and starts a private Docker engine when none answers.
SHELL := /bin/bash
NPM ?= npm

.PHONY: install build lint format test bench demo demo-clean clean

node_modules/.package-lock.json: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund
	@touch $@

install: node_modules/.package-lock.json

build: install
	$(NPM) run --silent build
	$(NPM) run --silent build:importer

lint: install
	npx biome check --error-on-warnings .
	npx tsc -p tsconfig.check.json

format: install
	npx biome check --write .

test: install
	bash scripts/install-system-deps.sh
	bash scripts/with-docker.sh npx vitest run $(TEST_ARGS)

bench: install
	bash scripts/install-system-deps.sh
	bash scripts/with-docker.sh npx tsx bench/run.ts $(BENCH_ARGS)

# The main job on the built-in demo bundle: export, import with the network off, start, wait for healthy.
demo: build
	bash scripts/install-system-deps.sh
	OFFLINE_KEEP_DOCKER=1 bash scripts/with-docker.sh bash scripts/demo.sh

demo-clean:
	bash scripts/demo-clean.sh

clean:
	rm -rf dist build .tmp
