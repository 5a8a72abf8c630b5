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
# Rules call the `tinyeit` command: the venv comes first on PATH.
export PATH := $(CURDIR)/$(BIN):$(PATH)

# The toolchain images the study and the suite build firmware in (tagged by the hash of what
# builds them; an existing tag is reused). Built before the study or the suite starts, so no
# job or test pays for an image build inside its own time limit.
IMAGES := arm aarch64 tflm-arm tflm-aarch64 xtensa tflm-xtensa

.PHONY: all test lint venv host-deps images doctor host-stop cluster-up cluster-down bench-ml bench-codegen bench-deploy bench-ops bench-latency clean

all: venv host-deps images
	$(BIN)/snakemake --cores $(CORES) all

# One test worker per core (pytest-xdist); tests/conftest.py says how the suite is shared out.
TEST_WORKERS ?= auto
test: venv host-deps images
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=40 tests

# Snakemake's own checks of the workflow (the test suite runs them too).
lint: venv
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile rules/

venv: $(STAMP)

$(STAMP): envs/requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r envs/requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

# Host tools: the Debian packages of envs/debian-packages.txt (installed only when missing,
# and only as root on Debian), then a running Docker engine (started here if none runs), then
# `doctor`: every tool is tried, so a package that is installed but unusable stops here.
host-deps: venv
	@missing=$$(for p in $$(grep -v '^#' envs/debian-packages.txt); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	        echo "installing: $$missing"; apt-get update -qq && \
	        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	    else echo "missing Debian packages: $$missing (install them, e.g. sudo apt-get install $$missing)"; fi; \
	fi
	@$(BIN)/python -m tinyeit.containers.host ensure
	@$(BIN)/python -m tinyeit.doctor

# Offline, the TFLite Micro images take their pinned sources from TINYEIT_SOURCE_MIRROR.
images: venv host-deps
	$(BIN)/tinyeit images $(IMAGES)

# Does every host tool the study and the tests call work (compilers compile and link with
# <stdint.h> and <math.h>)? Names the Debian package for each one that does not.
doctor: venv
	@$(BIN)/python -m tinyeit.doctor

# Stop a Docker engine that host-deps started (one that was already running is left alone).
host-stop:
	-@$(BIN)/python -m tinyeit.containers.host stop

# A real single-node SLURM cluster on this machine (root, Debian): packages from
# envs/cluster-debian-packages.txt, files under .cluster/. Then: eval "$$(python -m tinyeit.cluster env)".
cluster-up: venv
	$(BIN)/python -m tinyeit.cluster up

# Stop the daemons cluster-up started, and nothing else.
cluster-down:
	$(BIN)/python -m tinyeit.cluster down

bench-ml: venv
	$(BIN)/python -m tinyeit.bench ml --config tests/configs/small.yaml
	$(BIN)/python -m tinyeit.bench ml

bench-codegen: venv
	$(BIN)/python -m tinyeit.codegen.bench

# Two clean runs of the model side and the host cost rules; their host figures compared.
bench-latency: venv host-deps
	$(BIN)/python -m tinyeit.bench latency --runs 2

bench-deploy: venv host-deps
	$(BIN)/python -m tinyeit.bench deploy
	$(BIN)/python -m tinyeit.deploy.opbench

# Per-op cycles (nano33ble) and instructions (rpi4) of the generated C beside the tflm engine.
bench-ops: venv host-deps
	$(BIN)/python -m tinyeit.deploy.opbench

clean:
	rm -rf results .snakemake logs benchmarks
