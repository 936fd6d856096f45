# Strata: `make demo` (sample drops -> pipeline -> results), `make test`, `make dev` (Dagster UI), `make bench`,
# `make docs` (the manual on http://127.0.0.1:8000).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/.dagster_home

.PHONY: setup demo test dev bench bench-evidently-env docs docs-build clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)
	@mkdir -p $(DAGSTER_HOME) && cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

demo: setup
	$(BIN)/python -m pipeline.demo

test: setup
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

# From $(DAGSTER_HOME), where dagster.yaml is, so `dagster dev` does not warn about the repo's copy; the location is
# `strata` (workspace.yaml, its working directory made absolute) and the default data paths stay under the repo.
dev: setup
	sed 's|working_directory: \.$$|working_directory: $(CURDIR)|' workspace.yaml > $(DAGSTER_HOME)/workspace.yaml
	cd $(DAGSTER_HOME) && \
	STRATA_DROPS_URL="$${STRATA_DROPS_URL:-$(CURDIR)/data/drops}" STRATA_LAKE_URL="$${STRATA_LAKE_URL:-$(CURDIR)/data/lake}" \
	STRATA_ARTIFACTS_URL="$${STRATA_ARTIFACTS_URL:-$(CURDIR)/data/artifacts}" \
	STRATA_WAREHOUSE_PATH="$${STRATA_WAREHOUSE_PATH:-$(CURDIR)/data/warehouse.duckdb}" \
	$(CURDIR)/$(BIN)/dagster dev -w workspace.yaml

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

docs: setup  # the manual, rebuilt on every edit; the configuration page is generated from the code
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve -a 127.0.0.1:8000

docs-build: setup  # what CI runs: a broken link or a missing page fails
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

bench-evidently-env:  # Evidently for bench/drift_quality.py's comparison (needs pandas < 3, so its own venv)
	test -x .venv-evidently/bin/python || $(PYTHON) -m venv .venv-evidently
	.venv-evidently/bin/python -m pip install --quiet "evidently>=0.7" "pandas<3" pyarrow

clean:
	rm -rf data .dagster_home site
