# Scaling Lab -- two commands: `make lab` and `make test`.
# Everything is installed into .venv with the standard library's venv and pip.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.scalinglab-installed
# make test also installs the classroom extra (nbgrader) and tests grading with it in Debian's bubblewrap
# sandbox, and the browser extra (Playwright) with Debian's chromium for the real-browser tests
CLASSROOM := $(VENV)/.scalinglab-classroom
BROWSER   := $(VENV)/.scalinglab-browser
# Extra flags for JupyterLab, e.g.  make lab LAB_ARGS="--no-browser --port 8890"
LAB_ARGS ?=
# Jupyter refuses to start as root without this flag (containers, CI).
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.PHONY: lab test setup bench exercises clean help

help:
	@echo "make lab    set up .venv if needed and open the course in JupyterLab"
	@echo "make test   set up .venv if needed and run the whole test suite"
	@echo "make bench  run the benchmarks in benchmarks/ (not part of the tests)"
	@echo "make setup  only set up .venv (the library, JupyterLab and the test tools)"
	@echo "make exercises  regenerate exercises/ from solutions/ with nbgrader (answers found there go to work/)"
	@echo "make clean  remove .venv and build output"

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; ok = (3, 10) <= v <= (3, 13); \
	  print(f"Python {v[0]}.{v[1]} found as $(PYTHON)" + ("" if ok else "; Scaling Lab needs 3.10 to 3.13: run  make PYTHON=python3.12 ...")); \
	  sys.exit(0 if ok else 1)'
	@$(PY) -m pip --version >/dev/null 2>&1 || $(PYTHON) -m venv --clear $(VENV)   # new, or left half-made
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test]"
	@touch $(STAMP)

$(CLASSROOM): $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test,classroom]"
	@touch $(CLASSROOM)

# Learners answer the exercises in work/ (git-ignored): copied from exercises/ once, never overwritten.
lab: $(STAMP)
	@$(VENV)/bin/scalinglab start --from exercises --to work
	$(VENV)/bin/jupyter lab notebooks/00_start_here.ipynb $(ROOT_FLAG) $(LAB_ARGS)

$(BROWSER): $(CLASSROOM)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test,classroom,browser]"
	@sh tools/install_system.sh
	@touch $(BROWSER)

test: $(BROWSER)
	$(PY) -m pytest

exercises: $(CLASSROOM)
	$(PY) tools/make_exercises.py

bench: $(BROWSER)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info
