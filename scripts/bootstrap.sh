#!/bin/sh
# Installs what `make demo` and `make test` need, once: pipenv, the Python dependencies
# (into .venv), the pinned cdktf CLI (into node_modules) and checkov (into .cache/checkov).
# Re-runs only what changed.
set -eu
cd "$(dirname "$0")/.."
PIPENV_PIN="2026.10.3"
CHECKOV_PIN="3.3.30"

py=$(sh scripts/check-prereqs.sh) || exit 1

# pipenv must be found where the README's commands run: a new login shell. `make` adds the
# user base to PATH, so a check under make's PATH would pass while a pasted
# `pipenv run …` fails; the check runs the user's login shell with a clean environment.
login_shell=$(getent passwd "$(id -un)" 2>/dev/null | cut -d: -f7)
case "${login_shell:-}" in */nologin | */false | "") login_shell=${SHELL:-/bin/sh} ;; esac
[ -x "$login_shell" ] || login_shell=/bin/sh
reader_pipenv() {
  env -i HOME="$HOME" USER="$(id -un)" LOGNAME="$(id -un)" TERM="${TERM:-xterm}" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    "$login_shell" -lc 'command -v pipenv' </dev/null 2>/dev/null | tail -n 1
}

pipenv=$(reader_pipenv)
if [ -z "$pipenv" ]; then
  # The interpreter's own environment when we may write there (a pyenv or self-built Python,
  # a virtualenv): its scripts directory is on PATH wherever that interpreter is. Otherwise,
  # and for a distribution's externally managed Python, the user base (`pip --user`).
  where=$("$py" -c '
import os, sysconfig
paths = sysconfig.get_paths()
managed = os.path.exists(os.path.join(paths["stdlib"], "EXTERNALLY-MANAGED"))
writable = all(os.access(paths[k], os.W_OK) for k in ("scripts", "purelib"))
print("interpreter " + paths["scripts"] if writable and not managed else "user")')
  if [ "${where%% *}" = interpreter ]; then
    bindir=${where#interpreter }
    # PYTHONNOUSERSITE: a copy in the user base must not count as "already installed" here.
    set -- env PYTHONNOUSERSITE=1 "$py" -m pip install
    where="$py's environment"
  else
    bindir="$("$py" -m site --user-base)/bin"
    set -- "$py" -m pip install --user
    where="the user base (pip --user)"
  fi
  if [ ! -x "$bindir/pipenv" ]; then
    echo "installing pipenv $PIPENV_PIN into $where: $bindir"
    PIP_ROOT_USER_ACTION=ignore "$@" --quiet --disable-pip-version-check "pipenv==$PIPENV_PIN" || {
      echo "could not install pipenv: install pipenv $PIPENV_PIN yourself (e.g. pipx install pipenv==$PIPENV_PIN) and re-run" >&2
      exit 1
    }
  fi
  # pyenv finds a new script only through a shim that `pyenv rehash` writes.
  pyenv_bin=$(command -v pyenv 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}/bin/pyenv")
  if [ -x "$pyenv_bin" ]; then "$pyenv_bin" rehash 2>/dev/null || true; fi
  pipenv=$(reader_pipenv)
  if [ -z "$pipenv" ]; then
    echo "missing prerequisite: pipenv is in $bindir, which a new login shell ($login_shell -l) does not have on PATH: add 'export PATH=\"$bindir:\$PATH\"' to your shell profile (e.g. ~/.profile) and re-run" >&2
    exit 1
  fi
  echo "pipenv: $pipenv (a new terminal finds it)"
fi
[ -x "$pipenv" ] || pipenv=pipenv  # an alias or function in the profile: use make's PATH

stamp=.venv/.ecs-cd-installed
want=$(cat Pipfile | cksum)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "installing Python dependencies (pipenv install --dev)"
  PIPENV_VENV_IN_PROJECT=1 "$pipenv" install --dev --python "$py"
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
