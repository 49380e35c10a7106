//! Issue 7 acceptance: the provider installed the two ways users get it, through the real make
//! targets. `make install` puts the release binary into Terraform's implied local mirror, so a
//! plain `terraform init` (no CLI configuration at all) finds it; `make release` writes the
//! registry's zip, SHA256SUMS and manifest, and the zip installs from a `filesystem_mirror`.
//!
//! Every test runs its make target with `PROFILE` from `SSHKEY_PACKAGE_PROFILE` (default `dev`:
//! the debug build the suite already has, so CI pays no release build; `release` checks the
//! real thing, stripped symbols included). Lock-file hashes are compared with ones computed
//! here from the packaged binary: that proves Terraform installed exactly that file, under
//! exactly the registry's file name.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::clouds::ECS;
use support::{hcl_string, provider_block, Emulator, Tf, Workspace};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const ADDRESS: &str = "registry.terraform.io/sshkey/sshkey";
/// The binary's name inside the mirror and the zip, as the registry names it.
const BINARY: &str = concat!("terraform-provider-sshkey_v", env!("CARGO_PKG_VERSION"));
/// A cold release build on a loaded two-core machine takes many minutes.
const MAKE_TIMEOUT: Duration = Duration::from_secs(3600);

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Terraform's name for this machine, from Rust's own view of it (the script asks `uname`).
fn platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        other => panic!("no Terraform target name for {other}"),
    };
    format!("{}_{arch}", std::env::consts::OS)
}

/// The cargo profile the make targets build and package.
fn profile() -> String {
    std::env::var("SSHKEY_PACKAGE_PROFILE")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "dev".into())
}

/// The binary `make install` and `make release` package, in cargo's target directory.
fn packaged_binary() -> PathBuf {
    let profile = profile();
    let dir = if profile == "dev" { "debug" } else { &profile };
    support::provider_dir()
        .parent()
        .expect("target directory")
        .join(dir)
        .join("terraform-provider-sshkey")
}

/// Runs `make TARGET VAR=VALUE...` in the repository and returns its output; panics on failure.
fn make(target: &str, vars: &[(&str, &Path)]) -> String {
    let mut cmd = Command::new("make");
    cmd.arg("--no-print-directory")
        .arg("-C")
        .arg(repo())
        .arg(target);
    for (name, value) in vars {
        cmd.arg(format!("{name}={}", value.display()));
    }
    cmd.arg(format!("PROFILE={}", profile()));
    let start = Instant::now();
    let out = support::run_captured(cmd, vec![target.to_string()], MAKE_TIMEOUT);
    eprintln!("make {target} took {:?}", start.elapsed());
    assert!(out.success(), "make {target} failed: {out}");
    out.combined()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Terraform's `h1:` package hash of a package holding one file: SHA-256 over the line
/// "<sha256 of the file>  <name>\n", base64. It covers the file's name and bytes only.
fn h1_of_single_file(name: &str, bytes: &[u8]) -> String {
    let summary = format!("{}  {name}\n", sha256_hex(bytes));
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(summary.as_bytes()))
    )
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A configuration pinned to this crate's version, with one generated key pair.
fn main_tf(emu: &Emulator) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    sshkey = {{\n      source  = \"sshkey/sshkey\"\n      version = \"= {VERSION}\"\n    }}\n  }}\n}}\n\n{}\nresource \"sshkey_key_pair\" \"k\" {{\n  name = \"release_check\"\n}}\n",
        provider_block(emu, ECS.name(), ECS.region, "")
    )
}

/// Runs init, checks the lock file names our provider at our version with `h1`, then applies
/// and destroys against the emulator.
fn init_apply_destroy(ws: &Workspace, emu: &Emulator, h1: &str) {
    let init = ws.init();
    init.assert_success();
    let text = init.combined();
    assert!(
        text.contains(&format!("sshkey/sshkey v{VERSION}")),
        "init must install sshkey/sshkey v{VERSION}: {init}"
    );
    assert!(
        !text.contains("Provider development overrides"),
        "no dev_overrides may be involved: {init}"
    );
    // Newer Terraform warns that checksums computed from a local package cover this platform
    // only: inherent to every local mirror. Any other warning is a failure.
    for warning in text.lines().filter(|l| l.contains("Warning:")) {
        assert!(
            warning.contains("Incomplete lock file information for providers"),
            "init must not warn: {init}"
        );
    }

    let lock = String::from_utf8(read(&ws.path().join(".terraform.lock.hcl"))).expect("utf-8");
    let block = lock
        .split_once(&format!("provider \"{ADDRESS}\" {{"))
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("lock file has no {ADDRESS} block:\n{lock}"));
    let version_line = regex::Regex::new(r#"(?m)^\s*version\s*=\s*"([^"]+)""#).expect("regex");
    let locked = version_line
        .captures(block)
        .map(|c| c[1].to_string())
        .unwrap_or_default();
    assert_eq!(locked, VERSION, "locked version:\n{lock}");
    assert!(
        block.contains(&format!("\"{h1}\"")),
        "lock file must hold the release binary's hash {h1}:\n{lock}"
    );

    ws.apply(&[]).assert_success();
    let state = emu.state();
    let keys = state[ECS.name()][ECS.region]["keys"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(keys.len(), 1, "one key pair in the emulator: {state}");
    assert_eq!(keys[0]["name"], "release_check");
    ws.destroy(&[]).assert_success();
    assert!(ws.state_list().is_empty());
}

fn make_install_serves_a_plain_init(tf: Tf) {
    let home = tempfile::tempdir().expect("temp HOME");
    let plugins = home.path().join(".terraform.d").join("plugins");
    let printed = make("install", &[("PLUGIN_DIR", &plugins)]);
    let installed = plugins
        .join(ADDRESS)
        .join(VERSION)
        .join(platform())
        .join(BINARY);
    assert!(
        printed.contains(&installed.display().to_string()),
        "{printed}"
    );
    assert_eq!(
        read(&installed),
        read(&packaged_binary()),
        "the installed file is the packaged build"
    );

    let emu = Emulator::start();
    let mut ws = Workspace::with_cli_config(tf, None);
    ws.set_env("HOME", &home.path().to_string_lossy());
    // The other implied mirror directories (XDG) must not hold a stray copy that could be the
    // one Terraform finds.
    let xdg = home.path().join("xdg");
    ws.set_env("XDG_DATA_HOME", &xdg.to_string_lossy());
    ws.set_env("XDG_DATA_DIRS", &xdg.to_string_lossy());
    ws.write("main.tf", &main_tf(&emu));
    init_apply_destroy(&ws, &emu, &h1_of_single_file(BINARY, &read(&installed)));
}

#[test]
fn make_install_serves_a_plain_init_on_terraform_1_15_5() {
    make_install_serves_a_plain_init(Tf::V1_15_5);
}

#[test]
fn make_install_serves_a_plain_init_on_terraform_1_0_3() {
    make_install_serves_a_plain_init(Tf::V1_0_3);
}

/// `make release` into a fresh directory; returns it with the zip's file name.
fn make_release() -> (tempfile::TempDir, String) {
    let dist = tempfile::tempdir().expect("dist dir");
    make("release", &[("DIST", dist.path())]);
    (
        dist,
        format!("terraform-provider-sshkey_{VERSION}_{}.zip", platform()),
    )
}

fn release_zip_installs_from_a_filesystem_mirror(tf: Tf) {
    let (dist, zip) = make_release();
    // The packed mirror layout: HOSTNAME/NAMESPACE/TYPE/<the registry's zip name>.
    let mirror = tempfile::tempdir().expect("mirror dir");
    let provider_dir = mirror.path().join(ADDRESS);
    std::fs::create_dir_all(&provider_dir).expect("mirror layout");
    std::fs::copy(dist.path().join(&zip), provider_dir.join(&zip)).expect("copy zip");

    let config = format!(
        "provider_installation {{\n  filesystem_mirror {{\n    path    = {}\n    include = [\"{ADDRESS}\"]\n  }}\n}}\n",
        hcl_string(&mirror.path().to_string_lossy())
    );
    let emu = Emulator::start();
    let ws = Workspace::with_cli_config(tf, Some(&config));
    ws.write("main.tf", &main_tf(&emu));
    // Terraform hashes the unpacked zip, so equality means: one file, our name, our bytes.
    init_apply_destroy(
        &ws,
        &emu,
        &h1_of_single_file(BINARY, &read(&packaged_binary())),
    );
}

#[test]
fn release_zip_installs_from_a_filesystem_mirror_on_terraform_1_15_5() {
    release_zip_installs_from_a_filesystem_mirror(Tf::V1_15_5);
}

#[test]
fn release_zip_installs_from_a_filesystem_mirror_on_terraform_1_0_3() {
    release_zip_installs_from_a_filesystem_mirror(Tf::V1_0_3);
}

#[test]
fn release_writes_the_registry_files_with_matching_checksums() {
    let (dist, zip) = make_release();
    let sums_name = format!("terraform-provider-sshkey_{VERSION}_SHA256SUMS");
    let manifest_name = format!("terraform-provider-sshkey_{VERSION}_manifest.json");
    let mut files: Vec<String> = std::fs::read_dir(dist.path())
        .expect("list dist")
        .map(|e| {
            e.expect("dist entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    files.sort();
    let mut expected = vec![zip.clone(), sums_name.clone(), manifest_name.clone()];
    expected.sort();
    assert_eq!(files, expected);

    // `sha256sum` format, one line per zip and the manifest, each matching the file.
    let sums = String::from_utf8(read(&dist.path().join(&sums_name))).expect("utf-8");
    let mut listed = Vec::new();
    for line in sums.lines() {
        let (hash, name) = line
            .split_once("  ")
            .unwrap_or_else(|| panic!("not a sha256sum line: {line:?}"));
        assert_eq!(
            hash,
            sha256_hex(&read(&dist.path().join(name))),
            "checksum of {name}"
        );
        listed.push(name.to_string());
    }
    listed.sort();
    let mut want = vec![zip, manifest_name.clone()];
    want.sort();
    assert_eq!(listed, want);

    // The registry reads the protocol versions from the manifest; ours is protocol 6 only.
    let committed: Value =
        serde_json::from_slice(&read(&repo().join("terraform-registry-manifest.json")))
            .expect("committed manifest is JSON");
    assert_eq!(
        committed,
        json!({"version": 1, "metadata": {"protocol_versions": ["6.0"]}})
    );
    let released: Value = serde_json::from_slice(&read(&dist.path().join(&manifest_name)))
        .expect("released manifest is JSON");
    assert_eq!(released, committed);

    if profile() == "release" {
        assert_stripped(&packaged_binary());
    } else {
        eprintln!(
            "symbols not checked: PROFILE={} (SSHKEY_PACKAGE_PROFILE=release checks them)",
            profile()
        );
    }
}

/// The release profile strips symbols; on Linux, check the ELF has no `.symtab` section.
fn assert_stripped(bin: &Path) {
    if std::env::consts::OS != "linux" {
        eprintln!("not checking symbols: not an ELF platform");
        return;
    }
    let data = read(bin);
    let names = elf_section_names(&data).expect("release binary is a 64-bit little-endian ELF");
    assert!(
        names.iter().any(|n| n == ".text"),
        "section table read wrongly: {names:?}"
    );
    assert!(
        !names
            .iter()
            .any(|n| n == ".symtab" || n.starts_with(".debug")),
        "release binary keeps symbols or debug info: {names:?}"
    );
}

/// Section names of an ELF64 little-endian file, or `None` when it is not one.
fn elf_section_names(data: &[u8]) -> Option<Vec<String>> {
    let u16_at = |o: usize| Some(u16::from_le_bytes(data.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(data.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(data.get(o..o + 8)?.try_into().ok()?));
    // Magic, ELFCLASS64, little-endian.
    if data.get(..6)? != b"\x7fELF\x02\x01" {
        return None;
    }
    let shoff = usize::try_from(u64_at(0x28)?).ok()?;
    let shentsize = usize::from(u16_at(0x3a)?);
    let shnum = usize::from(u16_at(0x3c)?);
    let shstrndx = usize::from(u16_at(0x3e)?);
    let header = |i: usize| shoff + i * shentsize;
    let strtab = usize::try_from(u64_at(header(shstrndx) + 0x18)?).ok()?;
    (0..shnum)
        .map(|i| {
            let start = strtab + usize::try_from(u32_at(header(i))?).ok()?;
            let len = data.get(start..)?.iter().position(|&b| b == 0)?;
            Some(String::from_utf8_lossy(&data[start..start + len]).into_owned())
        })
        .collect()
}

#[test]
fn package_script_agrees_on_platform_and_version_and_refuses_a_missing_binary() {
    let script = repo().join("scripts/package.sh");
    let run = |args: &[&str]| {
        Command::new("bash")
            .arg(&script)
            .args(args)
            .output()
            .expect("run package.sh")
    };
    let platform_out = run(&["platform"]);
    assert_eq!(
        String::from_utf8_lossy(&platform_out.stdout).trim(),
        platform()
    );
    let version_out = run(&["version"]);
    assert_eq!(String::from_utf8_lossy(&version_out.stdout).trim(), VERSION);

    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("no-such-binary");
    for verb in ["install", "release"] {
        let out = run(&[
            verb,
            &missing.to_string_lossy(),
            &dir.path().to_string_lossy(),
        ]);
        assert!(!out.status.success(), "{verb} without a binary must fail");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("build it first"),
            "{verb}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("list").count(),
        0,
        "nothing written"
    );
}
