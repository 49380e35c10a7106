//! Credentials as CI and production use them, through real Terraform against the emulator's STS:
//! temporary credentials from the environment, shared profile files, `assume_role` renewed
//! during an apply that outlives its credentials, plan-time checks of the block, and no
//! credential of any kind in a `TF_LOG=trace` log.

mod support;

use serde_json::{json, Value};
use support::api;
use support::bench::PUBLIC_KEY;
use support::clouds::named;
use support::{Emulator, Tf, Workspace, ACCESS_KEY, REQUIRED_PROVIDERS, SECRET_KEY};

/// The roles the emulator lets anyone assume by default.
const ALIBABA_ROLE: &str = "acs:ram::1000000000000000:role/sshkey-emulator";
const TENCENT_ROLE: &str = "qcs::cam::uin/100000000000:roleName/sshkey-emulator";

fn role_of(cloud: &str) -> &'static str {
    if cloud == "cvm" {
        TENCENT_ROLE
    } else {
        ALIBABA_ROLE
    }
}

/// Temporary credentials issued by the emulator's STS to the test itself: (id, secret, token).
fn assume(emu: &Emulator, cloud: &str) -> (String, String, String) {
    assume_with(emu, cloud, None)
}

fn assume_with(emu: &Emulator, cloud: &str, external_id: Option<&str>) -> (String, String, String) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let answer = rt.block_on(async {
        if cloud == "cvm" {
            let mut body = json!({"RoleArn": TENCENT_ROLE, "RoleSessionName": "acc-test"});
            if let Some(id) = external_id {
                body["ExternalId"] = json!(id);
            }
            api::sts_tencent(emu, "AssumeRole", body).await
        } else {
            let mut params = vec![("RoleArn", ALIBABA_ROLE), ("RoleSessionName", "acc-test")];
            if let Some(id) = external_id {
                params.push(("ExternalId", id));
            }
            api::acs3_call(emu, "2015-04-01", "AssumeRole", &params).await
        }
    });
    assert_eq!(answer.code(), None, "AssumeRole: {answer:?}");
    let (c, id, secret, token) = if cloud == "cvm" {
        (
            &answer.body["Response"]["Credentials"],
            "TmpSecretId",
            "TmpSecretKey",
            "Token",
        )
    } else {
        (
            &answer.body["Credentials"],
            "AccessKeyId",
            "AccessKeySecret",
            "SecurityToken",
        )
    };
    let get = |k: &str| {
        c[k].as_str()
            .unwrap_or_else(|| panic!("{k}: {c}"))
            .to_string()
    };
    (get(id), get(secret), get(token))
}

struct EnvNames {
    id: &'static str,
    secret: &'static str,
    token: &'static str,
}

fn env_names(cloud: &str) -> EnvNames {
    if cloud == "cvm" {
        EnvNames {
            id: "TENCENTCLOUD_SECRET_ID",
            secret: "TENCENTCLOUD_SECRET_KEY",
            token: "TENCENTCLOUD_SESSION_TOKEN",
        }
    } else {
        EnvNames {
            id: "ALIBABA_CLOUD_ACCESS_KEY_ID",
            secret: "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            token: "ALIBABA_CLOUD_SECURITY_TOKEN",
        }
    }
}

/// A provider block with no credentials in it, `extra` lines added.
fn keyless_provider(emu: &Emulator, cloud: &str, extra: &str) -> String {
    format!(
        "{REQUIRED_PROVIDERS}\nprovider \"sshkey\" {{\n  cloud    = \"{cloud}\"\n  region   = \"{}\"\n  endpoint = \"{}\"\n{extra}}}\n",
        named(cloud).region,
        emu.endpoint()
    )
}

fn keys(n: usize, prefix: &str) -> String {
    format!(
        "resource \"sshkey_key_pair\" \"k\" {{\n  for_each   = toset([for i in range({n}) : format(\"{prefix}%02d\", i)])\n  name       = each.key\n  public_key = \"{PUBLIC_KEY}\"\n}}\n\noutput \"ids\" {{\n  value = {{ for k, v in sshkey_key_pair.k : k => [v.key_id, v.fingerprint, v.created_at] }}\n}}\n"
    )
}

/// Key pairs the emulator holds, every cloud and region.
fn emulator_key_count(emu: &Emulator) -> usize {
    let state = emu.state();
    ["ecs", "ens", "cvm"]
        .iter()
        .filter_map(|cloud| state[cloud].as_object())
        .flat_map(|regions| regions.values())
        .map(|r| r["keys"].as_array().map(Vec::len).unwrap_or_default())
        .sum()
}

/// Apply, an empty plan, destroy: the workflow every credential source must carry.
fn apply_plan_destroy(ws: &Workspace, emu: &Emulator, n: usize, what: &str) {
    ws.apply(&[]).assert_success();
    assert_eq!(emulator_key_count(emu), n, "{what}");
    let plan = ws.plan(&["-detailed-exitcode"]);
    assert_eq!(
        plan.code,
        Some(0),
        "{what}: the plan after apply must be empty: {plan}"
    );
    ws.destroy(&[]).assert_success();
    assert_eq!(emulator_key_count(emu), 0, "{what}");
}

/// Calls the emulator refused for a credential reason.
fn credential_refusals(emu: &Emulator) -> Vec<Value> {
    emu.calls()
        .into_iter()
        .filter(|c| {
            let code = c["error_code"].as_str().unwrap_or_default();
            code.contains("SecurityToken") || code.contains("Token") || code.contains("AuthFailure")
        })
        .collect()
}

fn temporary_credentials_from_the_environment(tf: Tf, cloud: &str) {
    let emu = Emulator::start();
    let (id, secret, token) = assume(&emu, cloud);
    let names = env_names(cloud);
    let mut ws = Workspace::with_main(tf, &(keyless_provider(&emu, cloud, "") + &keys(3, "tmp_")));
    ws.set_env(names.id, &id);
    ws.set_env(names.secret, &secret);
    // Without its token a temporary key is refused by the cloud, and the error says so.
    let refused = ws.apply(&[]);
    refused.assert_failure();
    assert!(
        refused.combined().contains("Token"),
        "{cloud}: the error must name the missing token: {refused}"
    );
    ws.set_env(names.token, &token);
    apply_plan_destroy(
        &ws,
        &emu,
        3,
        &format!("{cloud} env token on {}", tf.version()),
    );
}

#[test]
fn temporary_credentials_from_the_environment_on_terraform_1_15_5() {
    temporary_credentials_from_the_environment(Tf::V1_15_5, "ecs");
    temporary_credentials_from_the_environment(Tf::V1_15_5, "cvm");
}

#[test]
fn temporary_credentials_from_the_environment_on_terraform_1_0_3() {
    temporary_credentials_from_the_environment(Tf::V1_0_3, "ens");
}

/// The shared files at their default places under `HOME`: the Alibaba CLI's config.json with
/// its current profile in StsToken mode and a named AK profile, Tencent's INI credentials file.
#[test]
fn profiles_from_the_shared_files() {
    for (tf, cloud) in [
        (Tf::V1_15_5, "ecs"),
        (Tf::V1_15_5, "cvm"),
        (Tf::V1_0_3, "ecs"),
    ] {
        let emu = Emulator::start();
        let (id, secret, token) = assume(&emu, cloud);
        let home = tempfile::tempdir().expect("home");
        if cloud == "cvm" {
            std::fs::create_dir_all(home.path().join(".tencentcloud")).unwrap();
            std::fs::write(
                home.path().join(".tencentcloud/credentials"),
                format!("[default]\nsecret_id = wrong\nsecret_key = wrong\n\n[ci]\nsecret_id = {id}\nsecret_key = {secret}\ntoken = {token}\n"),
            )
            .unwrap();
        } else {
            std::fs::create_dir_all(home.path().join(".aliyun")).unwrap();
            let config = json!({"current": "sts", "profiles": [
                {"name": "sts", "mode": "StsToken", "access_key_id": id,
                 "access_key_secret": secret, "sts_token": token, "region_id": "cn-hangzhou"},
                {"name": "ci", "mode": "AK", "access_key_id": ACCESS_KEY,
                 "access_key_secret": SECRET_KEY}
            ]});
            std::fs::write(home.path().join(".aliyun/config.json"), config.to_string()).unwrap();
        }
        let home_path = home.path().display().to_string();
        // Tencent: the named profile; Alibaba: the file's current one, then a named one.
        let profiles: &[&str] = if cloud == "cvm" { &["ci"] } else { &["", "ci"] };
        for profile in profiles {
            let extra = if profile.is_empty() {
                String::new()
            } else {
                format!("  profile  = \"{profile}\"\n")
            };
            let mut ws = Workspace::with_main(
                tf,
                &(keyless_provider(&emu, cloud, &extra) + &keys(2, "prof_")),
            );
            ws.set_env("HOME", &home_path);
            apply_plan_destroy(
                &ws,
                &emu,
                2,
                &format!("{cloud} profile {profile:?} on {}", tf.version()),
            );
        }
        // A profile the file does not hold fails at configure, on `profile`.
        let mut ws = Workspace::with_main(
            tf,
            &(keyless_provider(&emu, cloud, "  profile  = \"absent\"\n") + &keys(1, "none_")),
        );
        ws.set_env("HOME", &home_path);
        let missing = ws.plan(&[]);
        missing.assert_failure();
        assert!(
            missing.combined().contains("Profile not found")
                && missing.combined().contains("absent"),
            "{cloud}: {missing}"
        );
    }
}

fn assume_role_block(cloud: &str, extra: &str) -> String {
    format!(
        "  access_key = \"{ACCESS_KEY}\"\n  secret_key = \"{SECRET_KEY}\"\n  assume_role {{\n    role_arn     = \"{}\"\n    session_name = \"acc-{cloud}\"\n{extra}  }}\n",
        role_of(cloud)
    )
}

/// Credentials that live 3 s under an apply that takes longer (CVM's 10 imports a second; ECS
/// paced by a configured limit): the provider renews them on the way, no call is signed with
/// expired credentials.
fn assume_role_is_renewed_during_a_long_apply(tf: Tf, cloud: &str) {
    let emu = Emulator::start_with(&["--sts-lifetime", "3", "--rate", "ecs:ImportKeyPair=5"]);
    let n = if cloud == "cvm" { 60 } else { 30 };
    let ws = Workspace::with_main(
        tf,
        &(keyless_provider(&emu, cloud, &assume_role_block(cloud, "")) + &keys(n, "role_")),
    );
    let started = std::time::Instant::now();
    ws.apply(&["-parallelism=20"]).assert_success();
    let took = started.elapsed();
    assert!(
        took.as_secs() >= 5,
        "{cloud}: the apply must outlive the credentials ({took:?})"
    );
    assert_eq!(emulator_key_count(&emu), n);
    let assumed = emu.calls_of("AssumeRole");
    assert!(
        assumed.len() >= 2,
        "{cloud}: credentials living 3 s must be renewed during a {took:?} apply: {assumed:?}"
    );
    assert!(
        assumed.iter().all(|c| c["error_code"].is_null()),
        "{assumed:?}"
    );
    assert!(
        assumed
            .iter()
            .all(|c| c["params"]["RoleSessionName"] == format!("acc-{cloud}")),
        "{assumed:?}"
    );
    let refused = credential_refusals(&emu);
    assert!(
        refused.is_empty(),
        "{cloud}: calls signed with dead credentials: {refused:?}"
    );
    let plan = ws.plan(&["-detailed-exitcode"]);
    assert_eq!(plan.code, Some(0), "{cloud}: {plan}");
    ws.destroy(&[]).assert_success();
    assert_eq!(emulator_key_count(&emu), 0);
    assert!(credential_refusals(&emu).is_empty());
}

#[test]
fn assume_role_is_renewed_during_a_long_apply_on_terraform_1_15_5() {
    assume_role_is_renewed_during_a_long_apply(Tf::V1_15_5, "cvm");
    assume_role_is_renewed_during_a_long_apply(Tf::V1_15_5, "ecs");
}

#[test]
fn assume_role_on_terraform_1_0_3() {
    let emu = Emulator::start();
    let ws = Workspace::with_main(
        Tf::V1_0_3,
        &(keyless_provider(
            &emu,
            "ens",
            &assume_role_block("ens", "    duration = \"15m\"\n"),
        ) + &keys(2, "old_")),
    );
    apply_plan_destroy(&ws, &emu, 2, "ens assume_role on 1.0.3");
    let assumed = emu.calls_of("AssumeRole");
    assert!(!assumed.is_empty());
    assert!(
        assumed
            .iter()
            .all(|c| c["params"]["DurationSeconds"] == "900"),
        "{assumed:?}"
    );
}

/// The block is checked against the cloud's STS at plan, pointing at the attribute; a role the
/// cloud does not know fails with its code and the role in the message.
#[test]
fn assume_role_errors_point_at_the_block() {
    let emu = Emulator::start();
    let bad = assume_role_block("cvm", "")
        .replace(TENCENT_ROLE, ALIBABA_ROLE)
        .replace("acc-cvm", "not valid!")
        + "";
    let ws = Workspace::with_main(
        Tf::V1_15_5,
        &(keyless_provider(
            &emu,
            "cvm",
            &bad.replace("  }\n", "    duration = \"13h\"\n  }\n"),
        ) + &keys(1, "x_")),
    );
    let plan = ws.plan(&[]);
    plan.assert_failure();
    let text = plan.combined();
    for needle in [
        "Invalid role ARN",
        "qcs::cam::",
        "Invalid session name",
        "Role session duration out of range",
    ] {
        assert!(text.contains(needle), "missing {needle:?}: {plan}");
    }
    assert!(
        emu.calls().is_empty(),
        "nothing may reach the cloud: {:?}",
        emu.calls()
    );

    let unknown =
        assume_role_block("ecs", "").replace(ALIBABA_ROLE, "acs:ram::1000000000000000:role/absent");
    let ws = Workspace::with_main(
        Tf::V1_15_5,
        &(keyless_provider(&emu, "ecs", &unknown) + &keys(1, "x_")),
    );
    let apply = ws.apply(&[]);
    apply.assert_failure();
    let text = apply.combined();
    assert!(
        text.contains("acs:ram::1000000000000000:role/absent")
            && text.contains("EntityNotExist.Role"),
        "{apply}"
    );
    assert_eq!(emulator_key_count(&emu), 0);
}

/// `TF_LOG=trace` over apply and destroy with temporary credentials from the environment and
/// with an assumed role: neither the long-term secret, nor a temporary secret or token, nor an
/// external id appears in the log.
#[test]
fn no_credential_reaches_the_trace_log() {
    for cloud in ["ecs", "cvm"] {
        let emu = Emulator::start_with(&[
            "--role",
            &format!("{},external_id=ext-s3cr3t-{cloud}", role_of(cloud)),
        ]);
        let external = format!("ext-s3cr3t-{cloud}");
        let (id, secret, token) = assume_with(&emu, cloud, Some(&external));
        let names = env_names(cloud);
        let mut from_env = Workspace::with_main(
            Tf::V1_15_5,
            &(keyless_provider(&emu, cloud, "") + &keys(1, "log_")),
        );
        from_env.set_env(names.id, &id);
        from_env.set_env(names.secret, &secret);
        from_env.set_env(names.token, &token);
        from_env.set_env("TF_LOG", "trace");
        let role = assume_role_block(
            cloud,
            &format!("    external_id = \"ext-s3cr3t-{cloud}\"\n"),
        );
        let mut with_role = Workspace::with_main(
            Tf::V1_15_5,
            &(keyless_provider(&emu, cloud, &role) + &keys(1, "rlog_")),
        );
        with_role.set_env("TF_LOG", "trace");
        let mut logs = Vec::new();
        for ws in [&from_env, &with_role] {
            let applied = ws.apply(&[]);
            applied.assert_success();
            let destroyed = ws.destroy(&[]);
            destroyed.assert_success();
            logs.push(applied.combined() + &destroyed.combined());
        }
        let issued = emu.issued_credentials();
        assert!(
            issued.len() >= 2,
            "{cloud}: the test's and the provider's credentials: {issued:?}"
        );
        let mut secrets = vec![
            SECRET_KEY.to_string(),
            format!("ext-s3cr3t-{cloud}"),
            secret.clone(),
            token.clone(),
        ];
        for c in &issued {
            for k in ["access_key_secret", "security_token"] {
                secrets.push(c[k].as_str().expect("issued secret").to_string());
            }
        }
        for log in &logs {
            assert!(log.contains("[TRACE]"), "{cloud}: not a trace log");
            for s in &secrets {
                assert!(
                    !log.contains(s.as_str()),
                    "{cloud}: a credential leaked into the log"
                );
            }
        }
    }
}
