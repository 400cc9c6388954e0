#!/bin/sh
# Installs what `make demo` and `make test` need, once: pipenv, the Python dependencies
# (into .venv), the pinned cdktf CLI (into node_modules) and checkov (into .cache/checkov).
# Re-runs only what changed.
set -eu
cd "$(dirname "$0")/.."
PIPENV_PIN="2026.10.3"
CHECKOV_PIN="3.3.30"

py=$(sh scripts/check-prereqs.sh) || exit 1

if ! command -v pipenv >/dev/null 2>&1; then
  echo "installing pipenv $PIPENV_PIN for $py (pip --user)"
  "$py" -m pip install --quiet --user "pipenv==$PIPENV_PIN" || {
    echo "could not install pipenv: install pipenv $PIPENV_PIN yourself (e.g. pipx install pipenv==$PIPENV_PIN) and re-run" >&2
    exit 1
  }
  command -v pipenv >/dev/null 2>&1 || {
    echo "pipenv was installed but is not on PATH: add $("$py" -m site --user-base)/bin to PATH" >&2
    exit 1
  }
fi

stamp=.venv/.ecs-cd-installed
want=$(cat Pipfile | cksum)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "installing Python dependencies (pipenv install --dev)"
  PIPENV_VENV_IN_PROJECT=1 pipenv install --dev --python "$py"
  echo "$want" > "$stamp"
fi

stamp=node_modules/.ecs-cd-installed
want=$(cat package.json package-lock.json | cksum)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "installing the cdktf CLI (npm ci)"
  npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
fi

# checkov pins boto3==1.35.49 (and packaging<24, networkx<2.7), which the Pipfile's boto3
# rules out: it gets a virtualenv of its own, which devkit/checkov.py runs as a subprocess.
stamp=.cache/checkov/.ecs-cd-installed
want=$(echo "checkov==$CHECKOV_PIN $("$py" --version 2>&1)" | cksum)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "installing checkov $CHECKOV_PIN (into .cache/checkov)"
  rm -rf .cache/checkov
  "$py" -m venv .cache/checkov
  .cache/checkov/bin/python -m pip install --quiet --disable-pip-version-check "checkov==$CHECKOV_PIN" || {
    echo "could not install checkov $CHECKOV_PIN into .cache/checkov (needed by make test's security gate)" >&2
    exit 1
  }
  echo "$want" > "$stamp"
fi
