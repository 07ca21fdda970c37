# Make targets are the output files; `make` rebuilds only what changed; a no-change `make` does nothing.
# `make` builds .venv from pyproject.toml (pinned by constraints.txt) and runs the study in study.toml.
# Another study: `make STUDY=path/to/mystudy.toml`.
.DELETE_ON_ERROR:
.SUFFIXES:
SHELL := /bin/bash

PYTHON ?= python3
STUDY ?= study.toml
VENV := .venv
PY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.installed
RESOURCES := $(sort $(wildcard analysis/resources/*))
# Fixed timestamp for any tool that honours it; our own writers embed no time at all.
export SOURCE_DATE_EPOCH ?= 1712188800
export MPLBACKEND := Agg

.PHONY: all test clean help venv prepare frequencies framing topics equivalence design validation explore robustness appendix docs strip-notebooks
.DEFAULT_GOAL := all

STUDY_MK := .make/$(subst /,_,$(STUDY)).mk
# Every module: the fragment lists each stage's code from the package's imports (outputs.stage_code).
$(STUDY_MK): $(STUDY) $(wildcard analysis/*.py analysis/*/*.py)
	@mkdir -p $(dir $@)
	@$(PYTHON) -m analysis.study.makefile --study $(STUDY) > $@.$$$$.tmp && mv $@.$$$$.tmp $@
include $(STUDY_MK)

all: $(OUT)/manifest.json $(APPENDIX_OUTPUTS) ## run every stage of the study (default: the seed corpus) into its [run] output folder

appendix: $(APPENDIX_OUTPUTS) ## LaTeX appendix of the primary tables (appendix.tex), supplement.tex (every other table and figure), numbers.tex, manifest table

# Figures shown in the README: copies of generated PNGs, refreshed from figures/ by `make docs`.
DOCS_FIGURES := corpus_summary top_terms_by_language frame_salience_by_language keyness_concepts_by_language topic_top_terms_joint
docs: $(DOCS_FIGURES:%=docs/%.png) docs/explorer.png ## refresh the README's figure copies under docs/ (and a screenshot of the explorer page)
docs/%.png: $(OUT)/%.png
	@mkdir -p docs
	cp $< $@
# The explorer page as headless Chromium draws it (needs chromium and chromium-driver, as the browser tests).
docs/explorer.png: $(OUT)/explorer.html analysis/plots/explorer.py
	@mkdir -p docs
	$(PY) -m analysis.plots.explorer $< $@

strip-notebooks: $(VENV_STAMP) ## remove outputs from the notebooks before committing
	$(VENV)/bin/jupyter nbconvert --clear-output --inplace notebooks/*.ipynb

venv: $(VENV_STAMP) ## build the virtual environment only

$(VENV_STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# setuptools announces every editable install with a BuildBackendWarning (a UserWarning) block: informational, silenced
	PYTHONWARNINGS=ignore::UserWarning $(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	$(PY) -m ipykernel install --sys-prefix --name vnen-analysis --display-name "vnen-analysis (.venv)" > /dev/null
	touch $@

test: $(VENV_STAMP) ## run the test suite (compiles the LaTeX appendix when lualatex or xelatex is installed)
	$(PY) -m pytest -q
	@command -v lualatex >/dev/null || command -v xelatex >/dev/null || echo "note: no LaTeX engine, so the appendix was checked (references, escaping) but not compiled; install one: sudo apt-get install --no-install-recommends texlive-luatex texlive-latex-recommended"

clean: ## remove generated figures and tables (only files the toolkit wrote; keeps .venv and the preparation cache)
	$(PYTHON) -m analysis.study.cleanup --study $(STUDY)
	rm -rf .make

# The stage targets' outputs and recipes come from the generated fragment; these lines add only the help text.
prepare: ## clean, normalise and segment (cached); cleaning log and corpus summary
frequencies: ## term counts, TF-IDF, bigrams, KWIC tables and charts
framing: ## codebook coverage, frame and actor salience, tests, keyness, similarity
topics: ## LDA per language and joint, K selection, prevalence, cross-lingual alignment
validation: ## with [validation]: coding sample and coder sheets; with its codes, agreement, accuracy, corrected comparison
explore: ## explorer.html: concepts and frames vi vs en, their patterns and sentences, frames by outlet, topics (one self-contained page)
robustness: ## with [robustness]: headline vi-en comparisons across the grid of choices (specification curves, verdicts)
equivalence: ## codebook audit; with [equivalence] parallel, the instrument checked on translations
design: ## with [[compare]], [time] or [model]: contrasts, time series, count models
.PHONY: manifest
manifest: $(OUT)/manifest.json ## input, setting, package and output hashes (manifest.json)

help: ## list targets and variables
	@echo "usage: make [target] [STUDY=path/to/study.toml]"
	@grep -hE '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z][a-z-]*):.*## /\1\t/' | sort | awk -F '\t' '{ printf "  %-16s %s\n", $$1, $$2 }'
	@echo "variables: STUDY=study.toml (the study to run; outputs go to its [run] output folder), PYTHON=python3 (builds .venv)"
