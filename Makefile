# baocao — two commands: `make up` runs the embedded stack, `make test` runs every check.
# Both bootstrap what they need (a virtual environment with the project installed).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Browser tests drive Debian's Chromium (a browser download is not possible here).
CHROMIUM := /usr/bin/chromium
# The brief's tests read its PDF with poppler's pdftotext and pdftoppm.
PDFTOTEXT := /usr/bin/pdftotext
# Apache Kafka, the production broker, runs in the suite next to Tansu (tools/kafka/).
JAVA     := /usr/bin/java
# tsc checks the dashboards against Grafana's own schema (tools/grafana-schema/).
NPM      := /usr/bin/npm
MAVEN    := /usr/bin/mvn
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: up test lint typecheck unit bench bench-smoke clean constraints

# Every dependency at its tested version (constraints.txt; the Dockerfile uses it too).
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --constraint constraints.txt -e ".[dev]"
	touch $(STAMP)

# Pin what .venv holds now, after a dependency was added or upgraded and `make test`
# passed (docs/operations.md, Pins). Keeps the file's comment header.
constraints:
	{ grep '^#' constraints.txt; $(BIN)/pip freeze --exclude-editable --exclude baocao; } \
		> constraints.txt.new
	mv constraints.txt.new constraints.txt

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

$(PDFTOTEXT):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils

up: $(STAMP)
	$(BIN)/baocao up

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

$(JAVA) $(MAVEN):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless maven

$(NPM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm

test: lint typecheck $(CHROMIUM) $(PDFTOTEXT) $(JAVA) $(MAVEN) $(NPM)
	$(BIN)/baocao schemas --check
	$(BIN)/baocao dashboards generate --check
	$(BIN)/python -m pytest -ra

unit: $(STAMP)
	$(BIN)/python -m pytest -ra --ignore=tests/integration --ignore=tests/browser tests

bench: $(STAMP)
	$(BIN)/python -m bench

bench-smoke: $(STAMP)
	$(BIN)/python -m bench --scale small

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
