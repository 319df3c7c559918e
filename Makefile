# inference.host_tuning -- the two commands a newcomer needs:
#   make demo   converge the built-in local fleet (podman containers) with playbooks/site.yml
#   make test   every check: lint, sanity, units, build + install, every Molecule scenario
# Both install what they need first (scripts/bootstrap.sh) and skip what is already there.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

REPO := $(CURDIR)
SCENARIOS ?= $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml))))
RUN = source scripts/lib.sh &&

.PHONY: help bootstrap images lint sanity units build molecule test demo demo-clean clean bench

help:
	@echo "make demo    converge the local podman fleet with playbooks/site.yml"
	@echo "make test    lint + sanity + units + build/install + Molecule ($(SCENARIOS))"
	@echo "make lint | sanity | units | build | molecule [SCENARIOS='default nvidia']"
	@echo "make bench   benchmarks: collection vs guide-style playbooks (BENCH_HOSTS=20 BENCH_RUNS=3; not part of make test)"

bootstrap:
	@bash scripts/bootstrap.sh

images: bootstrap
	@bash scripts/images.sh

lint: bootstrap
	@echo "==> ansible-lint (production profile)"
	@bash scripts/lint.sh

sanity: bootstrap
	@echo "==> ansible-test sanity"
	@bash scripts/ansible-test.sh sanity

units: bootstrap
	@echo "==> ansible-test units"
	@bash scripts/ansible-test.sh units --python 3.11

build: bootstrap
	@bash scripts/build.sh

molecule: images build
	@bash scripts/molecule.sh $(SCENARIOS)

test: lint sanity units build molecule
	@echo "==> make test: all checks passed"

bench: images build
	@bash benchmarks/run.sh

demo: images build
	@bash scripts/demo.sh

demo-clean:
	@bash scripts/demo.sh --clean

clean: demo-clean
	rm -rf build tests/output .ansible
