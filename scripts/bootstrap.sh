#!/bin/sh
# Installs what `make demo` and `make test` need, once: pipenv, the Python dependencies
# (into .venv) and the pinned cdktf CLI (into node_modules). Re-runs only what changed.
set -eu
cd "$(dirname "$0")/.."
PIPENV_PIN="2026.10.3"

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
