#!/usr/bin/env bash
# Packaging for `make install` and `make release`, given an already built provider binary.
#
#   package.sh platform                   prints the Terraform target of this machine, e.g. linux_amd64
#   package.sh version                    prints the crate version from Cargo.toml
#   package.sh install BINARY PLUGIN_DIR  installs BINARY into PLUGIN_DIR's unpacked mirror layout
#   package.sh release BINARY DIST_DIR    writes the registry's zip, SHA256SUMS and manifest
#
# The binary is a parameter (not built here) so that tests can package the debug build they
# already have, while the make targets package a fresh release build.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
name="terraform-provider-sshkey"
# Terraform's provider address: the implied mirror and the registry layout both key on it.
address="registry.terraform.io/sshkey/sshkey"

die() { printf 'package.sh: %s\n' "$*" >&2; exit 1; }

# Terraform's target names: GOOS_GOARCH.
platform() {
  local os arch
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    FreeBSD) os=freebsd ;;
    OpenBSD) os=openbsd ;;
    *) die "unsupported OS $(uname -s)" ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    i386 | i686) arch=386 ;;
    armv6l | armv7l) arch=arm ;;
    *) die "unsupported CPU $(uname -m)" ;;
  esac
  printf '%s_%s\n' "$os" "$arch"
}

# The [package] version, read without cargo so the script also works where only the binary is.
version() {
  local v
  v="$(awk '
    /^\[/ { in_package = ($0 == "[package]") }
    in_package && /^version[[:space:]]*=/ { gsub(/.*=[[:space:]]*"|".*/, ""); print; exit }
  ' "$repo/Cargo.toml")"
  [[ "$v" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]] || die "no semver version in Cargo.toml (got '$v')"
  printf '%s\n' "$v"
}

check_binary() {
  [ -f "$1" ] && [ -x "$1" ] || die "$1 is not an executable file (build it first)"
}

install_binary() {
  local bin="$1" plugin_dir="$2" v target dest
  check_binary "$bin"
  v="$(version)"
  target="$(platform)"
  dest="$plugin_dir/$address/$v/$target"
  mkdir -p "$dest"
  # Copy then rename: a Terraform run that has the old binary open keeps working, and a failed
  # copy never leaves a truncated provider behind.
  cp "$bin" "$dest/.${name}_v$v.tmp"
  chmod 0755 "$dest/.${name}_v$v.tmp"
  mv -f "$dest/.${name}_v$v.tmp" "$dest/${name}_v$v"
  printf 'installed %s\n' "$dest/${name}_v$v"
}

release() {
  local bin="$1" dist="$2" v target zip sums manifest
  check_binary "$bin"
  command -v python3 >/dev/null || die "python3 is needed to write the zip"
  v="$(version)"
  target="$(platform)"
  zip="${name}_${v}_${target}.zip"
  sums="${name}_${v}_SHA256SUMS"
  manifest="${name}_${v}_manifest.json"
  mkdir -p "$dist"
  rm -f "$dist/$zip" "$dist/$sums" "$dist/$manifest"
  # Python's zipfile instead of zip(1): a fixed timestamp and mode make the archive, and so its
  # checksum, depend only on the binary.
  python3 - "$bin" "$dist/$zip" "${name}_v$v" <<'PY'
import sys, zipfile
src, dest, entry = sys.argv[1:4]
info = zipfile.ZipInfo(entry, date_time=(1980, 1, 1, 0, 0, 0))
info.external_attr = (0o100755 << 16)  # regular file, rwxr-xr-x: Terraform executes it as is
info.compress_type = zipfile.ZIP_DEFLATED
info.create_system = 3  # Unix, so unzip honours the mode
with open(src, "rb") as f, zipfile.ZipFile(dest, "w") as z:
    z.writestr(info, f.read(), compresslevel=9)
PY
  cp "$repo/terraform-registry-manifest.json" "$dist/$manifest"
  # Every platform zip of this version that is in dist (a cross-build may have added some),
  # plus the manifest: the set the registry expects one SHA256SUMS to cover.
  (
    cd "$dist"
    shopt -s nullglob
    sha256() { if command -v sha256sum >/dev/null; then sha256sum "$@"; else shasum -a 256 "$@"; fi; }
    sha256 "${name}_${v}"_*.zip "$manifest" > "$sums.tmp"
    mv -f "$sums.tmp" "$sums"
  )
  printf 'wrote %s\n' "$dist/$zip" "$dist/$sums" "$dist/$manifest"
}

case "${1:-}" in
  platform) platform ;;
  version) version ;;
  install)
    [ $# -eq 3 ] || die "usage: package.sh install BINARY PLUGIN_DIR"
    install_binary "$2" "$3"
    ;;
  release)
    [ $# -eq 3 ] || die "usage: package.sh release BINARY DIST_DIR"
    release "$2" "$3"
    ;;
  *) die "usage: package.sh platform|version|install BINARY PLUGIN_DIR|release BINARY DIST_DIR" ;;
esac
