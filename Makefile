# The two set-up commands (see README): `make demo` and `make test`.
# Each installs what it needs first (scripts/bootstrap.sh).

SHELL := /bin/sh
export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_VERBOSITY := -1
export PIPENV_NOSPIN := 1
export CHECKPOINT_DISABLE := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# pipenv installed with `pip --user` lands in the user base's bin directory.
export PATH := $(shell python3 -m site --user-base 2>/dev/null)/bin:$(PATH)

.PHONY: demo test bench deps lint typecheck unit e2e synth clean

deps:
	@sh scripts/bootstrap.sh

## the main job on the embedded default: a full deploy to the local AWS emulator
demo: deps
	pipenv run python -m devkit.demo

## every test: lint, types, unit tests of the synthesized stacks, end to end on the emulator
test: deps lint typecheck
	pipenv run pytest

## benchmarks (measured, not asserted): prints tables for the README
bench: deps
	pipenv run python -m bench

lint:
	pipenv run ruff check .
	pipenv run ruff format --check .

typecheck:
	pipenv run mypy

unit: deps
	pipenv run pytest tests/unit

e2e: deps
	pipenv run pytest tests/e2e

synth: deps
	npx --no-install cdktf synth

clean:
	rm -rf cdktf.out .cache .pytest_cache .mypy_cache .ruff_cache
