#!/usr/bin/env bash
# `make demo`: creates 100 ECS key pairs through real Terraform against the local emulator, then
# destroys them and shows how many DeleteKeyPairs calls the provider's batching needed.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
count="${SSHKEY_DEMO_KEYS:-100}"
# Debug builds are already warm from `make test` and the provider's work here is network-bound,
# so the release profile only adds minutes of compilation; SSHKEY_DEMO_PROFILE=release opts in.
profile="${SSHKEY_DEMO_PROFILE:-debug}"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

say "building the provider and the emulator ($profile)"
if [ "$profile" = release ]; then
  cargo build --release --bins
else
  cargo build --bins
fi
target_dir="${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')}"
bin_dir="$target_dir/$profile"
[ -x "$bin_dir/terraform-provider-sshkey" ] || die "no provider binary in $bin_dir"
[ -x "$bin_dir/sshkey-emulator" ] || die "no emulator binary in $bin_dir"

if [ -n "${SSHKEY_DEMO_TERRAFORM:-}" ]; then
  tf="$SSHKEY_DEMO_TERRAFORM"
  say "using $tf (SSHKEY_DEMO_TERRAFORM)"
elif tf="$(command -v terraform)" || tf="$(command -v tofu)"; then
  say "using $tf"
else
  make --no-print-directory tools
  tf="${SSHKEY_TOOLS_DIR:-$repo/.tools}/bin/terraform-1.15.5"
  say "using Terraform 1.15.5 from $tf"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/sshkey-demo.XXXXXX")"
emu_pid=""
cleanup() {
  if [ -n "$emu_pid" ]; then kill "$emu_pid" 2>/dev/null || true; wait "$emu_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$bin_dir/sshkey-emulator" --listen 127.0.0.1:0 >"$work/emulator.out" 2>"$work/emulator.log" &
emu_pid=$!
addr=""
for _ in $(seq 1 200); do
  line="$(head -n1 "$work/emulator.out" 2>/dev/null || true)"
  if [[ "$line" == "listening on "* ]]; then addr="${line#listening on }"; break; fi
  kill -0 "$emu_pid" 2>/dev/null || die "emulator exited: $(cat "$work/emulator.log")"
  sleep 0.05
done
[ -n "$addr" ] || die "emulator did not report its address"
say "emulator listening on $addr"

# Reads the emulator's admin API; python3 because curl is not guaranteed on CI machines.
admin() {
  python3 - "$addr" "$1" <<'PY'
import json, sys, urllib.request
addr, what = sys.argv[1], sys.argv[2]
def get(path):
    with urllib.request.urlopen(f"http://{addr}/_emulator/{path}") as r:
        return json.load(r)
if what == "keys":
    print(len(get("state").get("ecs", {}).get("cn-hangzhou", {}).get("keys", [])))
elif what == "deletes":
    calls = [c for c in get("calls") if c["cloud"] == "ecs" and c["action"] == "DeleteKeyPairs"]
    ok = [c for c in calls if c["http_status"] == 200]
    names = sum(len(json.loads(c["params"]["KeyPairNames"])) for c in ok)
    print(len(calls), len(ok), names)
PY
}

mkdir -p "$work/tf"
cat >"$work/terraform.rc" <<HCL
provider_installation {
  dev_overrides {
    "sshkey/sshkey" = "$bin_dir"
  }
  direct {}
}
HCL
cat >"$work/tf/main.tf" <<HCL
terraform {
  required_providers {
    sshkey = {
      source = "sshkey/sshkey"
    }
  }
}

provider "sshkey" {
  cloud      = "ecs"
  region     = "cn-hangzhou"
  endpoint   = "http://$addr"
  access_key = "sshkey-emulator-id"
  secret_key = "sshkey-emulator-secret"
}

resource "sshkey_key_pair" "demo" {
  for_each = toset([for i in range($count) : format("demo-key-%03d", i)])
  name     = each.key
}
HCL

export TF_CLI_CONFIG_FILE="$work/terraform.rc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
unset TF_LOG TF_CLI_ARGS TF_DATA_DIR
cd "$work/tf"

say "terraform apply: $count key pairs"
start=$SECONDS
"$tf" apply -auto-approve -input=false -no-color >"$work/apply.log" 2>&1 ||
  { cat "$work/apply.log" >&2; die "apply failed"; }
created="$(admin keys)"
[ "$created" = "$count" ] || { cat "$work/apply.log" >&2; die "emulator holds $created keys, expected $count"; }
say "created $created key pairs in $((SECONDS - start))s"

say "terraform destroy -parallelism=50"
start=$SECONDS
"$tf" destroy -auto-approve -input=false -no-color -parallelism=50 >"$work/destroy.log" 2>&1 ||
  { cat "$work/destroy.log" >&2; die "destroy failed"; }
left="$(admin keys)"
[ "$left" = 0 ] || { cat "$work/destroy.log" >&2; die "$left key pairs left after destroy"; }
say "destroyed in $((SECONDS - start))s"

read -r calls ok names <<<"$(admin deletes)"
[ "$names" = "$count" ] || die "successful DeleteKeyPairs calls named $names keys, expected $count"
echo "Destroyed $count key pairs with $calls DeleteKeyPairs calls ($ok succeeded); the official providers make $count (one per key): $((count - calls)) calls saved."
