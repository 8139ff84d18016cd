PYTHON ?= python3
VENV := .venv
PIP := $(VENV)/bin/pip install --quiet --constraint constraints.txt

.PHONY: demo test lint clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

$(VENV)/.installed: $(VENV)/bin/python setup.py constraints.txt
	$(PIP) torch
	$(PIP) -e ".[test]"
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/python examples/demo.py

test: $(VENV)/.installed
	$(VENV)/bin/ruff check sknas tests examples bench
	$(VENV)/bin/python -m pytest -q tests

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check sknas tests examples bench

clean:
	rm -rf $(VENV) build *.egg-info
