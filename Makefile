# inference.host_tuning -- the two commands a newcomer needs:
#   make demo   converge the built-in local fleet (podman containers) with playbooks/site.yml
#   make test   every check: lint, sanity, units, build + install, package checks, every Molecule
#               scenario on the current ansible-core (.venv), then sanity, units and Molecule `nvidia`
#               on the oldest supported one (.venv-oldest: requires_ansible's lower bound)
# Both install what they need first (scripts/bootstrap.sh) and skip what is already there.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

REPO := $(CURDIR)
SCENARIOS ?= $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard extensions/molecule/*/molecule.yml))))
# The oldest ansible-core supported (requirements-oldest.txt), from its own venv.
OLDEST = IHT_VENV=$(REPO)/.venv-oldest

.PHONY: help bootstrap bootstrap-oldest images lint sanity units build package molecule oldest test demo demo-clean clean bench

help:
	@echo "make demo    converge the local podman fleet with playbooks/site.yml"
	@echo "make test    lint + sanity + units + build/install + Molecule ($(SCENARIOS))"
	@echo "make lint | sanity | units | build | package | molecule [SCENARIOS='default nvidia'] | oldest"
	@echo "make bench   benchmarks: collection vs guide-style playbooks (BENCH_HOSTS=20 BENCH_RUNS=3; not part of make test)"

bootstrap:
	@bash scripts/bootstrap.sh

bootstrap-oldest:
	@bash scripts/bootstrap.sh --oldest

images: bootstrap
	@bash scripts/images.sh

lint: bootstrap
	@echo "==> ansible-lint (production profile)"
	@bash scripts/lint.sh

sanity: bootstrap
	@echo "==> ansible-test sanity"
	@bash scripts/ansible-test.sh sanity

# Units in full on every Python ansible-core supports that the machine has (bootstrap links pyenv's real
# interpreters): the module tests on each target Python (3.9 to 3.13 here), the controller-side tests (action,
# plugin_utils) on each controller Python (3.12, 3.13). The fake host trees live in /dev/shm
# (tests/unit/conftest.py), which keeps the five runs at a few minutes.
units: bootstrap
	@echo "==> ansible-test units"
	@bash scripts/ansible-test.sh units

build: bootstrap
	@bash scripts/build.sh

# galaxy-importer, ansible-builder introspect and the EE context, on the built tarball.
package: build
	@bash scripts/package.sh

molecule: images build
	@bash scripts/molecule.sh $(SCENARIOS)

# The oldest supported ansible-core: sanity, units (on its controller Python) and one Molecule scenario: nvidia
# (site.yml with the base and nvidia roles, fake NVML; the shortest that runs the whole play).
oldest: bootstrap-oldest images build
	@echo "==> the oldest supported ansible-core: sanity, units, molecule nvidia"
	@$(OLDEST) bash scripts/ansible-test.sh sanity
	@# directories end with "/": ansible-test 2.19 matches no target for a directory named without it
	@$(OLDEST) bash scripts/ansible-test.sh units --python 3.11
	@$(OLDEST) bash scripts/molecule.sh nvidia

test: lint sanity units build package molecule oldest
	@echo "==> make test: all checks passed"

bench: images build
	@bash benchmarks/run.sh

demo: images build
	@bash scripts/demo.sh

demo-clean:
	@bash scripts/demo.sh --clean

clean: demo-clean
	rm -rf build tests/output .ansible
