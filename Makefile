# emflow: `make demo` runs the demo, `make test` runs the tests. Both install what is missing.
SWIFT ?= swift
CONFIG ?= release
VENV := .venv-test
PYTHON := $(abspath $(VENV))/bin/python
EMFLOW = .build/$(CONFIG)/emflow
DEMO_DIR ?= demo-output

# Debian packages only the tests need (headless Chromium renders the HTML report in a test).
TEST_PACKAGES := chromium

.PHONY: all deps test-deps build test demo bench clean

all: build

deps:
	@bash scripts/install-deps.sh

test-deps:
	@bash scripts/install-deps.sh $(TEST_PACKAGES)

$(VENV)/.ready: scripts/requirements-test.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r scripts/requirements-test.txt
	touch $@

build: deps
	$(SWIFT) build -c $(CONFIG)

test: test-deps $(VENV)/.ready
	EMFLOW_PYTHON=$(PYTHON) $(SWIFT) test -c $(CONFIG) -Xswiftc -enable-testing

demo: build
	bash scripts/demo.sh $(EMFLOW) $(DEMO_DIR)

bench: build $(VENV)/.ready
	EMFLOW_PYTHON=$(PYTHON) bash benchmarks/run-storage-bench.sh $(EMFLOW)
	bash benchmarks/run-unet-bench.sh $(EMFLOW)
	bash benchmarks/run-pipeline-bench.sh $(EMFLOW)

# README's pipeline reference and completions/ are generated from the code; tests fail when they drift.
.PHONY: docs
docs: deps
	$(SWIFT) build -c $(CONFIG) --product emflow
	bash scripts/update-docs.sh $(EMFLOW)

clean:
	rm -rf .build $(VENV) $(DEMO_DIR)
