# The two commands a newcomer needs: `make run` and `make test`. Both build the virtualenv
# and install everything on first use.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench-quick clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m services.cli run

# Lint and type checks run first: main stays clean because CI refuses what they find.
# Two workers, each file's tests on one of them: most tests wait on a broker or a browser, so
# two run side by side in little more than the time of one (module fixtures stay whole).
test: $(STAMP)
	bash deploy/ensure-test-deps.sh
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest -q -n 2 --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check shared services tests bench
	$(VENV)/bin/ruff format --check shared services tests bench
	$(VENV)/bin/mypy shared services

bench-quick: $(STAMP)
	$(PY) -m bench.matching --quick

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
