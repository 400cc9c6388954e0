# The two set-up commands (see README.md): `make demo` and `make test`.
# Each installs what it needs first (scripts/bootstrap.sh).

SHELL := /bin/sh
export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_VERBOSITY := -1
export PIPENV_NOSPIN := 1
export CHECKPOINT_DISABLE := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# Where `pip --user` puts pipenv, for a make started from a shell older than that install;
# the bootstrap checks that a new login shell finds pipenv without this.
export PATH := $(shell python3 -m site --user-base 2>/dev/null)/bin:$(PATH)

.PHONY: demo test bench fuzz deps lint typecheck docs unit e2e reference synth diff deploy clean

# `make diff ENV=dev`: only ENV given on the command line counts (sh uses $$ENV for its own purposes).
stack = $(if $(filter command line,$(origin ENV)),$(ENV),$(error usage: make $@ ENV=<environment>, e.g. make $@ ENV=dev))

deps:
	@sh scripts/bootstrap.sh

## the main job on the embedded default: a full deploy to the local AWS emulator
demo: deps
	pipenv run python -m devkit.demo

## every test: lint, types, the documentation site, unit tests of the synthesized stacks, end to end on the emulator
test: deps lint typecheck docs
	pipenv run pytest --numprocesses=auto --dist=loadfile --no-loadscope-reorder

## benchmarks (measured, not asserted): prints the tables of docs/speed.md and docs/configuration/image-strategies.md
bench: deps
	pipenv run python -m bench

## the property tests with new random examples (make test draws the same ones every run)
fuzz: deps
	HYPOTHESIS_PROFILE=explore pipenv run pytest tests/unit/test_validator_properties.py

lint:
	pipenv run ruff check .
	pipenv run ruff format --check .

typecheck:
	pipenv run mypy

## the documentation site (mkdocs.yml, docs/), offline, into .cache/site: a broken link or anchor, or a page
## left out of the navigation, fails it; `pipenv run mkdocs serve` shows it while you edit
docs: deps
	NO_MKDOCS_2_WARNING=1 pipenv run mkdocs build --strict --site-dir .cache/site

unit: deps
	pipenv run pytest tests/unit

e2e: deps
	pipenv run pytest tests/e2e

## the generated references: config/ecs-cd.schema.json, docs/reference/configuration.md and cli.md
reference: deps
	pipenv run python -m devkit.reference

## the cdktf CLI with this machine's Terraform setup (offline mirrors where there are some)
synth: deps
	pipenv run python -m ecs_cd.toolchain.cdktf_cli synth

diff: deps
	pipenv run python -m ecs_cd.toolchain.cdktf_cli diff $(stack)

## asks before it applies; pipelines use `ecs-release deploy ENV` (approves, follows the rollout)
deploy: deps
	pipenv run python -m ecs_cd.toolchain.cdktf_cli deploy $(stack)

clean:
	rm -rf cdktf.out .cache .pytest_cache .mypy_cache .ruff_cache
