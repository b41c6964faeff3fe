PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Azurite (the Azure Blob emulator) from npm, for the storage tests; started by their fixtures.
AZURITE := .tools/node_modules/.bin/azurite-blob

.PHONY: run test lint bench clean official-mltable mltable-differential

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

$(AZURITE):
	npm install --no-audit --no-fund --silent --prefix .tools azurite@3

# Run the example job (conf/examples/file_scoring) on a local Dask cluster.
run: $(STAMP)
	$(BIN)/dask-parallel run conf/examples/file_scoring/job.yml

# The whole test suite: unit, integration (LocalCluster) and end-to-end (CLI, dask scheduler/worker).
test: $(STAMP) $(AZURITE)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -p no:cacheprovider

# Style, the stage layering (import-linter contracts in pyproject.toml) and types (mypy).
lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check dask_parallel tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/overhead.py

# Record how the official mltable package loads tests/fixtures/mltable (its own environment:
# it pins older pandas); tests/unit/test_mltable_official.py compares dask_parallel with it.
OFFICIAL_MLTABLE := .venv-mltable/.installed

$(OFFICIAL_MLTABLE):
	test -x .venv-mltable/bin/python || $(PYTHON) -m venv .venv-mltable
	.venv-mltable/bin/python -m pip install --quiet "mltable==1.7.0" "azureml-dataprep[pandas]==5.5.0"
	touch $(OFFICIAL_MLTABLE)

official-mltable: $(OFFICIAL_MLTABLE)
	.venv-mltable/bin/python tests/conformance/official_mltable.py

# The differential tier: run the official package on the generated cases (fixed seed),
# record its results in tests/conformance/official/, then compare dask_parallel with them.
mltable-differential: $(STAMP) $(OFFICIAL_MLTABLE)
	.venv-mltable/bin/python tests/conformance/record_official_cases.py
	$(BIN)/python tests/conformance/differential.py --isolated
	$(BIN)/python -m pytest -p no:cacheprovider tests/conformance -q

clean:
	rm -rf $(VENV) dask-parallel-runs .pytest_cache
