# Two entry points: `make run` (set up, build the index, open the chat) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# OCR of scanned PDFs and images: Debian's tesseract, in French and English.
OCR_PACKAGES := tesseract-ocr tesseract-ocr-fra tesseract-ocr-eng

.PHONY: run test test-fast lint index install ocr clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test,cluster]'
	@$(MAKE) --no-print-directory ocr
	touch $(STAMP)

install: $(STAMP) ocr

# Installs tesseract with apt-get when it is missing and this runs as root; never fails: without it,
# OCR is off (scanned pages and images are skipped, each with the command that adds it).
ocr:
	@if command -v tesseract >/dev/null 2>&1 && tesseract --list-langs 2>/dev/null | grep -qx fra; then \
	  true; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "installing OCR: apt-get install $(OCR_PACKAGES)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq $(OCR_PACKAGES) >/dev/null 2>&1 \
	  || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq $(OCR_PACKAGES) >/dev/null 2>&1; } \
	  || echo "OCR is off: apt-get could not install it; add it with: apt-get install $(OCR_PACKAGES)"; \
	else \
	  echo "OCR is off (scanned PDFs and images are skipped); add it with: sudo apt-get install $(OCR_PACKAGES)"; \
	fi

run: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python app.py $(ARGS)

index: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/qa index $(ARGS)

# Everything: the fast tier, then the real model, the browser and the database server.
test: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest $(ARGS)

# About a minute: mechanics only, with the model-free hash backend.
test-fast: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -m "not slow" $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) embeddings
