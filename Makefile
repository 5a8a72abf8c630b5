# The two commands a user needs: `make all` (the study) and `make test` (the suite).
# Everything the project needs is installed from here: the venv from envs/requirements.lock,
# and, where a Debian host lacks them, the Docker engine and debootstrap (root only).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CORES  ?= 4
STAMP  := $(VENV)/.installed
export TF_USE_LEGACY_KERAS := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONHASHSEED := 0

.PHONY: all test venv host-deps docker-up docker-down bench-ml bench-codegen bench-deploy clean

all: venv host-deps
	$(BIN)/snakemake --cores $(CORES) all

test: venv host-deps
	$(BIN)/python -m pytest -q tests

venv: $(STAMP)

$(STAMP): envs/requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r envs/requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

# Host tools the workflow drives: a Docker engine (build containers) and debootstrap (base image).
host-deps:
	@$(BIN)/python -m tinyeit.containers.host ensure

bench-ml: venv
	$(BIN)/python -m tinyeit.bench ml

bench-codegen: venv
	$(BIN)/python -m tinyeit.codegen.bench

bench-deploy: venv host-deps
	$(BIN)/python -m tinyeit.bench deploy

clean:
	rm -rf results .snakemake
