# Everything a fresh machine needs is installed by these targets themselves.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 8501

.PHONY: run refresh dashboard test test-fast bench eval train install-cron clean help

help:
	@echo "make run       build the store (live if PubMed answers, else the bundled snapshot) and start the dashboard"
	@echo "make test      run the whole test suite (installs Debian chromium for the browser test if missing)"
	@echo "make bench     speed and memory figures (reads ../shared when present)"
	@echo "make eval      measure the taggers on held-out labelled data -> docs/evaluation.md"
	@echo "make train     retrain the taggers' small models from ../shared"
	@echo "make install-cron   install a nightly refresh in the user's crontab (flock-guarded)"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m pipeline run
	$(PY) -m streamlit run dashboards/app.py --server.port $(PORT) --server.headless true

refresh: $(STAMP)
	$(PY) -m pipeline refresh

dashboard: $(STAMP)
	$(PY) -m streamlit run dashboards/app.py --server.port $(PORT) --server.headless true

test: $(STAMP)
	bash scripts/ensure-chromium
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not browser"

bench: $(STAMP)
	$(PY) -m bench

eval: $(STAMP)
	$(PY) -m pipeline.tag.evaluate

train: $(STAMP)
	$(PY) -m pipeline.tag.train

install-cron: $(STAMP)
	bash scripts/install-cron

clean:
	rm -rf data/curated .pytest_cache tests/artifacts
