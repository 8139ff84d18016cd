PYTHON ?= python3
VENV := .venv
PIP := $(VENV)/bin/pip install --quiet --constraint constraints.txt

.PHONY: demo test docs lint clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

$(VENV)/.installed: $(VENV)/bin/python setup.py constraints.txt
	$(PIP) torch torchvision
	$(PIP) -e ".[test,docs]"
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/python examples/demo.py

test: $(VENV)/.installed
	$(VENV)/bin/ruff check sknas tests examples bench setup.py
	$(VENV)/bin/python -m pytest -q -n logical --maxprocesses 4 --dist loadfile -m "not timing" tests
	$(VENV)/bin/python -m pytest -q -m timing tests

docs: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check sknas tests examples bench setup.py

clean:
	rm -rf $(VENV) build site *.egg-info
