# Two entry points that work on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# torch is pinned here (not in pyproject) so pip takes the CPU wheel on local disk
# instead of resolving a multi-GB CUDA build.
TORCH_PIN ?= torch==2.13.0

.PHONY: demo test lint bench clean install umap docs boundscheck

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_PIN)"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

# Optional extra: UMAP latent maps (method="umap", latentmodels map --method umap).
umap: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[umap]"

demo: $(STAMP)
	$(BIN)/latentmodels demo --out runs/demo
	@echo "Explore the runs in a browser:"
	@for run in runs/demo runs/demo/*/; do test -f "$$run/model.lm" && echo "  $(BIN)/latentmodels explore $$run"; done; true

test: $(STAMP)
	$(BIN)/python -m ruff check latentmodels tests benchmarks scripts
	$(BIN)/python -m pytest -q --durations=25

lint: $(STAMP)
	$(BIN)/python -m ruff check latentmodels tests benchmarks scripts

# Every compiled kernel's tests with numba bounds checking on, kernels run serially (numba
# does not check inside parallel loops): an out-of-range index raises instead of reading on.
boundscheck: $(STAMP)
	NUMBA_BOUNDSCHECK=1 NUMBA_CACHE_DIR=$$(mktemp -d) $(BIN)/python -m pytest -q -p no:cacheprovider \
	    -p tests.numba_boundscheck tests/test_lda*.py tests/test_hmm*.py tests/test_bad_input_matrix.py

# The documentation site: user guide, API reference, executed example gallery; offline.
# Open docs/_build/html/index.html from disk. -W: a warning (broken link, failing example) fails.
docs: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html
	@echo "Open docs/_build/html/index.html"

bench: $(STAMP)
	$(BIN)/python benchmarks/vae_mnist.py
	$(BIN)/python benchmarks/hmm_vs_hmmlearn.py
	$(BIN)/python benchmarks/hmm_fsdd.py

clean:
	rm -rf $(VENV) runs build *.egg-info docs/_build docs/generated docs/auto_examples
