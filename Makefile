# Developer entry points for chainviz.
#
# Kept to POSIX make features (no GNU functions or conditionals) so that it
# works with GNU make and BSD make alike.  Expensive pip installs are guarded
# by stamp files inside .venv that depend on pyproject.toml, so re-running a
# target after the first time costs almost nothing until the dependencies
# change.
#
#   make venv       .venv with the package (editable) and its test extras
#   make test       the whole pytest suite          (PYTEST_ARGS="-k foo")
#   make lint       ruff + mypy --strict
#   make demo       JupyterLab on the demo notebook (DEMO_ARGS="--no-browser ...")
#   make bench      the benchmarks
#   make clean      build outputs and caches (keeps .venv)
#   make distclean  clean, and remove .venv too

.POSIX:

PYTHON ?= python3
VENV = .venv
VPY = $(VENV)/bin/python
NOTEBOOK = notebooks/01_parallelize_steps.ipynb
LINT_PATHS = chainviz tests benchmarks
DEMO_ARGS =
PYTEST_ARGS =

test: venv
	$(VPY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

venv: $(VENV)/.stamp-test

# The interpreter and an up-to-date pip, created once.
$(VENV)/.stamp-venv:
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --upgrade pip
	touch $@

# The "test" extra includes "all", so a test install satisfies the demo's
# stamp too; touching both saves `make demo` a redundant pip run.
$(VENV)/.stamp-test: $(VENV)/.stamp-venv pyproject.toml
	$(VPY) -m pip install -e '.[test]'
	touch $(VENV)/.stamp-all $@

$(VENV)/.stamp-all: $(VENV)/.stamp-venv pyproject.toml
	$(VPY) -m pip install -e '.[all]'
	touch $@

$(VENV)/.stamp-bench: $(VENV)/.stamp-venv pyproject.toml
	$(VPY) -m pip install -e '.[test,bench]'
	touch $@

lint: venv
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/mypy -p chainviz

# JupyterLab refuses to run as root unless told to; CI and containers are root.
# Given a file, JupyterLab would serve only the file's folder: root_dir keeps
# the whole repository browsable (and URLs like /lab/tree/notebooks/...).
# The notebooks are stored with their outputs; JupyterLab shows the pictures and
# the saved views only in notebooks this user trusts, so trust the shipped ones.
demo: $(VENV)/.stamp-all
	$(VENV)/bin/jupyter trust notebooks/*.ipynb
	@if [ "$$(id -u)" = 0 ]; then set -- --allow-root; else set --; fi; \
	set -- --ServerApp.root_dir=. "$$@"; \
	echo "$(VENV)/bin/jupyter lab $(NOTEBOOK) $$* $(DEMO_ARGS)"; \
	exec $(VENV)/bin/jupyter lab $(NOTEBOOK) "$$@" $(DEMO_ARGS)

bench: $(VENV)/.stamp-bench
	$(VPY) benchmarks/run.py

clean:
	rm -rf build dist ./*.egg-info ci-artifacts .mypy_cache .ruff_cache .pytest_cache
	find . -path ./$(VENV) -prune -o \
		\( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -prune \
		-exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)

.PHONY: test venv lint demo bench clean distclean
