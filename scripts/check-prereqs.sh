#!/bin/sh
# Names every missing prerequisite in one line each; exit 1 if any is missing.
# Python 3.11, Node.js >= 20 (with npm), Terraform >= 1.10.
missing=0
say() { echo "missing prerequisite: $*" >&2; missing=1; }

py=""
for candidate in python3.11 python3; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
    py="$candidate"; break
  fi
done
[ -n "$py" ] || say "Python 3.11 (found: $(python3 --version 2>&1 | head -1 || echo none)); install Python 3.11 so that python3.11 or python3 is 3.11"

if command -v node >/dev/null 2>&1; then
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  [ "$major" -ge 20 ] 2>/dev/null || say "Node.js >= 20 (found $(node --version)); install Node.js 20 or newer"
else
  say "Node.js >= 20 (not found); install Node.js 20 or newer (it brings npm and npx)"
fi
command -v npm >/dev/null 2>&1 || say "npm (not found); it comes with Node.js >= 20"

if command -v terraform >/dev/null 2>&1; then
  version=$(terraform version 2>/dev/null | head -1 | sed -n 's/^Terraform v\([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p')
  set -- $version
  if [ -z "$version" ] || [ "$1" -lt 1 ] || { [ "$1" -eq 1 ] && [ "$2" -lt 10 ]; }; then
    say "Terraform >= 1.10 (found: $(terraform version 2>/dev/null | head -1)); install Terraform 1.10 or newer"
  fi
else
  say "Terraform >= 1.10 (not found on PATH); install Terraform 1.10 or newer"
fi

[ "$missing" -eq 0 ] || exit 1
echo "$py"
