# NumFree: `make run` serves the site and the worker; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Links in emails and webhook signatures use the public URL; locally, this port.
export NUMFREE_PUBLIC_URL ?= http://127.0.0.1:$(PORT)

.PHONY: run test lint format extension clean

$(VENV)/.run-installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-installed: $(VENV)/.run-installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.run-installed
	$(BIN)/python manage.py migrate --noinput
	@echo
	@echo "  NumFree is starting at http://127.0.0.1:$(PORT)/"
	@echo "  Sign up at http://127.0.0.1:$(PORT)/signup/ - emails (the verification link) are printed in this console."
	@echo "  Twilio and Stripe are simulated locally: nothing leaves this machine. Ctrl-C stops the web and worker processes."
	@echo
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start --port $(PORT)

# axe-core for the browser tests (tests/e2e/test_pages_*.py), exactly as package-lock.json pins it.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund

test: $(VENV)/.test-installed node_modules/.package-lock.json
	$(BIN)/python -m pytest
	@if [ -d extension/tests ]; then node --test extension/tests/; fi

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.test-installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# make extension [SERVER=https://calls.example.org] [KEY=key.pem]: NumFree Caller for that server
# (default: this machine's make run). Without KEY the id is the dev key's; see docs/extension.md.
SERVER ?= http://127.0.0.1:$(PORT)
EXTENSION_OUT ?= build/extension-dev
extension:
	node extension/build.mjs "$(EXTENSION_OUT)" --server "$(SERVER)" $(if $(KEY),--key "$(KEY)")

clean:
	rm -rf $(VENV) var staticfiles build
