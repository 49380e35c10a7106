//! What a new user hit, each pinned by real Terraform against the emulator: a plan right after
//! an apply must be empty even when every attribute feeds an output, and an empty string in the
//! provider block gets the same errors as an unset attribute.

mod support;

use serde_json::json;
use support::clouds::{Cloud, CVM, ECS, ENS};
use support::{
    hcl_list, provider_block, Emulator, Tf, Workspace, ALL_VERSIONS, REQUIRED_PROVIDERS,
};

const PUBLIC_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHt7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7 nu@host";

/// A generated key, an imported key and an attachment, with every attribute in an output.
fn every_attribute_config(emu: &Emulator, cloud: &Cloud) -> String {
    let key_attrs = [
        "name",
        "public_key",
        "key_id",
        "fingerprint",
        "created_at",
        "detach_on_destroy",
        "tags",
        "resource_group_id",
        "project_id",
    ];
    let attachment_attrs = [
        "id",
        "key_pair_name",
        "key_id",
        "instance_ids",
        "reboot",
        "force_stop",
    ];
    let mut outputs = String::new();
    for r in ["generated", "imported"] {
        for a in key_attrs {
            outputs.push_str(&format!(
                "output \"{r}_{a}\" {{\n  value = sshkey_key_pair.{r}.{a}\n}}\n"
            ));
        }
        outputs.push_str(&format!(
            "output \"{r}_private_key\" {{\n  value     = sshkey_key_pair.{r}.private_key\n  sensitive = true\n}}\n"
        ));
    }
    for a in attachment_attrs {
        outputs.push_str(&format!(
            "output \"attachment_{a}\" {{\n  value = sshkey_key_pair_attachment.a.{a}\n}}\n"
        ));
    }
    format!(
        "{REQUIRED_PROVIDERS}\n{}\n\
         resource \"sshkey_key_pair\" \"generated\" {{\n  name = \"nu_generated\"\n}}\n\
         resource \"sshkey_key_pair\" \"imported\" {{\n  name       = \"nu_imported\"\n  public_key = \"{PUBLIC_KEY}\"\n}}\n\
         resource \"sshkey_key_pair_attachment\" \"a\" {{\n  {}\n  instance_ids = [\"{}\", \"{}\"]\n}}\n{outputs}",
        provider_block(emu, cloud.name(), cloud.region, ""),
        cloud.key_ref("imported"),
        cloud.instance_id(1),
        cloud.instance_id(2),
    )
}

fn plan_after_apply_is_empty_with_every_attribute_in_an_output(cloud: Cloud) {
    for tf in ALL_VERSIONS {
        let emu = Emulator::start();
        let instances: Vec<serde_json::Value> = [1, 2]
            .iter()
            .map(|i| json!({"id": cloud.instance_id(*i), "os": "linux", "status": cloud.bind_status()}))
            .collect();
        emu.instances(
            json!({"cloud": cloud.name(), "region": cloud.region, "instances": instances}),
        );
        let ws = Workspace::with_main(tf, &every_attribute_config(&emu, &cloud));
        let applied = ws.apply(&[]);
        applied.assert_success();
        assert!(
            !applied.combined().contains("changed outside of Terraform"),
            "{} on {}: {applied}",
            cloud.name(),
            tf.version()
        );
        let out = ws.run(&["output", "-json"]);
        out.assert_success();
        let outputs: serde_json::Value = serde_json::from_str(&out.stdout).expect("outputs");
        for r in ["generated", "imported"] {
            let created = &outputs[format!("{r}_created_at")]["value"];
            assert!(
                created.as_str().is_some_and(|s| !s.is_empty()),
                "{} on {}: {r} created_at is {created} right after apply",
                cloud.name(),
                tf.version()
            );
        }
        let plan = ws.plan(&["-detailed-exitcode"]);
        assert_eq!(
            plan.code,
            Some(0),
            "{} on {}: the plan after apply is not empty: {plan}",
            cloud.name(),
            tf.version()
        );
        assert!(
            !plan.combined().contains("changed outside of Terraform"),
            "{} on {}: {plan}",
            cloud.name(),
            tf.version()
        );
    }
}

#[test]
fn ecs_plan_after_apply_is_empty_with_every_attribute_in_an_output() {
    plan_after_apply_is_empty_with_every_attribute_in_an_output(ECS);
}

#[test]
fn ens_plan_after_apply_is_empty_with_every_attribute_in_an_output() {
    plan_after_apply_is_empty_with_every_attribute_in_an_output(ENS);
}

#[test]
fn cvm_plan_after_apply_is_empty_with_every_attribute_in_an_output() {
    plan_after_apply_is_empty_with_every_attribute_in_an_output(CVM);
}

#[test]
fn empty_provider_strings_get_the_errors_unset_ones_get() {
    let emu = Emulator::start();
    for tf in ALL_VERSIONS {
        for (attribute, env) in [
            ("region", "ALIBABA_CLOUD_REGION"),
            ("access_key", "ALIBABA_CLOUD_ACCESS_KEY_ID"),
            ("secret_key", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
        ] {
            let block = provider_block(&emu, ECS.name(), ECS.region, "")
                .lines()
                .map(|l| {
                    if l.trim_start().starts_with(attribute) {
                        format!("  {attribute} = \"\"")
                    } else {
                        l.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            let ws = Workspace::with_main(
                tf,
                &format!(
                    "{REQUIRED_PROVIDERS}\n{block}\nresource \"sshkey_key_pair\" \"k\" {{\n  name = \"nu_empty\"\n}}\n"
                ),
            );
            let out = ws.plan(&[]);
            out.assert_failure();
            let text = support::strip_ansi(&out.combined());
            assert!(
                text.contains(env) && text.contains(&format!("{attribute} = \"\"")),
                "{attribute} on {}: the error names neither {env} nor the line: {text}",
                tf.version()
            );
            assert!(
                !text.contains("MissingParameter"),
                "{attribute}: the cloud's error leaked through: {text}"
            );
        }
    }
}

/// Instances the cloud would refuse fail the plan, each with its own cause on `instance_ids`,
/// before anything is attached: no half-created attachment is left tainted for the fixed
/// config to replace (detaching and rebooting the instance that was fine).
fn bad_instances_fail_the_plan_before_anything_is_attached(cloud: Cloud) {
    let emu = Emulator::start();
    let (ok, missing, windows, running) = (
        cloud.instance_id(1),
        cloud.instance_id(2),
        cloud.instance_id(3),
        cloud.instance_id(4),
    );
    let seeded = vec![
        json!({"id": ok, "os": "linux", "status": cloud.bind_status()}),
        json!({"id": windows, "os": "windows", "status": cloud.bind_status()}),
        json!({"id": running, "os": "linux", "status": "Running"}),
    ];
    emu.instances(json!({"cloud": cloud.name(), "region": cloud.region, "instances": seeded}));
    let config = |ids: &[&String]| {
        let list = hcl_list(ids);
        format!(
            "{REQUIRED_PROVIDERS}\n{}\nresource \"sshkey_key_pair\" \"k\" {{\n  name       = \"nu_att\"\n  public_key = \"{PUBLIC_KEY}\"\n}}\nresource \"sshkey_key_pair_attachment\" \"a\" {{\n  {}\n  instance_ids = {list}\n}}\n",
            provider_block(&emu, cloud.name(), cloud.region, ""),
            cloud.key_ref("k"),
        )
    };
    for tf in ALL_VERSIONS {
        let ws = Workspace::with_main(tf, &config(&[&ok, &missing, &windows, &running]));
        ws.apply(&["-target=sshkey_key_pair.k"]).assert_success();
        let out = ws.apply(&[]);
        out.assert_failure();
        let text = support::strip_ansi(&out.combined());
        assert!(
            text.contains(&format!("\"{missing}\", which does not exist")),
            "{}: {text}",
            cloud.name()
        );
        assert!(
            text.contains(&format!("\"{windows}\", which runs Windows")),
            "{}: {text}",
            cloud.name()
        );
        let running_refused = text.contains(&format!("\"{running}\", which is running"));
        assert_eq!(
            running_refused,
            cloud.name() != "ecs",
            "{}: {text}",
            cloud.name()
        );
        assert!(
            !text.contains(&format!("\"{ok}\", which")),
            "{}: the good instance is not blamed: {text}",
            cloud.name()
        );
        assert!(
            emu.calls_of(cloud.attach).is_empty(),
            "{}: nothing is attached by a plan that fails",
            cloud.name()
        );
        assert_eq!(
            ws.state_list(),
            vec!["sshkey_key_pair.k"],
            "no tainted attachment"
        );

        // Fixed: the attachment is created once, touching only the good instance.
        ws.write("main.tf", &config(&[&ok]));
        ws.apply(&[]).assert_success();
        assert_eq!(emu.calls_of(cloud.attach).len(), 1);
        let plan = ws.plan(&["-detailed-exitcode"]);
        assert_eq!(plan.code, Some(0), "{plan}");
        ws.destroy(&[]).assert_success();
        emu.reset_calls_keeping_store();
    }
}

#[test]
fn ecs_bad_instances_fail_the_plan_before_anything_is_attached() {
    bad_instances_fail_the_plan_before_anything_is_attached(ECS);
}

#[test]
fn ens_bad_instances_fail_the_plan_before_anything_is_attached() {
    bad_instances_fail_the_plan_before_anything_is_attached(ENS);
}

#[test]
fn cvm_bad_instances_fail_the_plan_before_anything_is_attached() {
    bad_instances_fail_the_plan_before_anything_is_attached(CVM);
}

/// One round: a bad public key and an empty instance set no longer hide the name and instance
/// id errors until they are fixed; `terraform validate` and `plan` both report all of them.
#[test]
fn every_config_error_comes_in_one_round() {
    let emu = Emulator::start();
    let config = format!(
        "{REQUIRED_PROVIDERS}\n{}\n\
         resource \"sshkey_key_pair\" \"bad\" {{\n  name       = \"1-starts-with-a-digit\"\n  public_key = \"ssh-rsa not-base64\"\n}}\n\
         resource \"sshkey_key_pair_attachment\" \"empty\" {{\n  key_pair_name = \"ok-name\"\n  instance_ids  = []\n}}\n\
         resource \"sshkey_key_pair_attachment\" \"bad_ids\" {{\n  key_pair_name = \"bad name\"\n  instance_ids  = [\"ins-12345678\"]\n}}\n",
        provider_block(&emu, ECS.name(), ECS.region, "")
    );
    for tf in ALL_VERSIONS {
        let ws = Workspace::with_main(tf, &config);
        for out in [ws.validate(), ws.plan(&[])] {
            out.assert_failure();
            let text = support::strip_ansi(&out.combined());
            for needle in [
                "Invalid public key",
                "Invalid key pair name",
                "\"1-starts-with-a-digit\"",
                "Empty instance set",
                "\"bad name\"",
                "Invalid instance id",
            ] {
                assert!(
                    text.contains(needle),
                    "{} {}: {needle:?} missing: {text}",
                    tf.version(),
                    out.args.join(" ")
                );
            }
        }
    }
}

/// Importing a CVM or ENS key by its name says which id to use instead of passing on the
/// cloud's "malformed id"; importing by that id works and the plan after it is empty.
#[test]
fn import_by_name_names_the_id_to_use() {
    for cloud in [CVM, ENS] {
        let emu = Emulator::start();
        let config = format!(
            "{REQUIRED_PROVIDERS}\n{}\nresource \"sshkey_key_pair\" \"k\" {{\n  name = \"nu_imp\"\n}}\n",
            provider_block(&emu, cloud.name(), cloud.region, "")
        );
        let made = Workspace::with_main(Tf::V1_15_5, &config);
        made.apply(&[]).assert_success();
        let id = made.show_json()["values"]["root_module"]["resources"][0]["values"]["key_id"]
            .as_str()
            .expect("key_id")
            .to_string();
        made.run(&["state", "rm", "sshkey_key_pair.k"])
            .assert_success();
        for tf in ALL_VERSIONS {
            let ws = Workspace::with_main(tf, &config);
            let out = ws.run(&["import", "sshkey_key_pair.k", "nu_imp"]);
            out.assert_failure();
            let text = support::strip_ansi(&out.combined()).replace('\n', " ");
            assert!(
                text.contains("is a key pair name") && text.contains(&id),
                "{} on {}: {text}",
                cloud.name(),
                tf.version()
            );
            assert!(!text.contains("Malformed"), "{text}");
            ws.run(&["import", "sshkey_key_pair.k", &id])
                .assert_success();
            let plan = ws.plan(&["-detailed-exitcode"]);
            assert_eq!(
                plan.code,
                Some(0),
                "{} on {}: {plan}",
                cloud.name(),
                tf.version()
            );
        }
    }
}

const SECOND_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGj9dLQfZZgk2XbS0aHgG4V6nN3Q5VjS8yEo0x7Rr1mN k2@host";

/// A key rotated under an attachment (a new `public_key` under the same name, with
/// `detach_on_destroy`) ends with every instance holding the new key after one apply, and an
/// empty plan after it.
fn rotation_under_an_attachment_moves_the_instances(cloud: Cloud) {
    for tf in ALL_VERSIONS {
        let emu = Emulator::start();
        let web: Vec<String> = vec![cloud.instance_id(1), cloud.instance_id(2)];
        let seeded: Vec<serde_json::Value> = web
            .iter()
            .map(|id| json!({"id": id, "os": "linux", "status": cloud.bind_status()}))
            .collect();
        emu.instances(json!({"cloud": cloud.name(), "region": cloud.region, "instances": seeded}));
        let mut ws = Workspace::with_main(
            tf,
            &format!(
                "{REQUIRED_PROVIDERS}\n{}\nvariable \"pub\" {{\n  type = string\n}}\n\
                 resource \"sshkey_key_pair\" \"i\" {{\n  name              = \"v10_imp\"\n  public_key        = var.pub\n  detach_on_destroy = true\n}}\n\
                 resource \"sshkey_key_pair_attachment\" \"a\" {{\n  key_pair_name = sshkey_key_pair.i.name\n  instance_ids  = [\"{}\", \"{}\"]\n}}\n",
                provider_block(&emu, cloud.name(), cloud.region, ""),
                web[0],
                web[1]
            ),
        );
        for key in [PUBLIC_KEY, SECOND_KEY] {
            ws.set_env("TF_VAR_pub", key);
            ws.apply(&[]).assert_success();
            let state = emu.state();
            let region = &state[cloud.name()][cloud.region];
            let keys = region["keys"].as_array().expect("keys");
            assert_eq!(keys.len(), 1, "{}: {keys:?}", cloud.name());
            assert_eq!(
                keys[0]["public_key"].as_str().map(|k| k.split(' ').nth(1)),
                Some(key.split(' ').nth(1))
            );
            let reference = if cloud.name() == "cvm" {
                &keys[0]["id"]
            } else {
                &keys[0]["name"]
            };
            for i in region["instances"].as_array().expect("instances") {
                assert_eq!(
                    i["keys"],
                    json!([reference]),
                    "{} on {}: instance {} does not hold the current key",
                    cloud.name(),
                    tf.version(),
                    i["id"]
                );
            }
            let plan = ws.plan(&["-detailed-exitcode"]);
            assert_eq!(
                plan.code,
                Some(0),
                "{} on {}: {plan}",
                cloud.name(),
                tf.version()
            );
        }
    }
}

#[test]
fn ecs_rotation_under_an_attachment_moves_the_instances() {
    rotation_under_an_attachment_moves_the_instances(ECS);
}

#[test]
fn cvm_rotation_under_an_attachment_moves_the_instances() {
    rotation_under_an_attachment_moves_the_instances(CVM);
}

/// Chinese names follow each cloud's own document: ECS takes them, ENS does not (at plan, on
/// `name`).
#[test]
fn chinese_names_follow_each_cloud() {
    let emu = Emulator::start();
    for tf in ALL_VERSIONS {
        let config = |cloud: &Cloud| {
            format!(
                "{REQUIRED_PROVIDERS}\n{}\nresource \"sshkey_key_pair\" \"k\" {{\n  name       = \"密钥对ab\"\n  public_key = \"{PUBLIC_KEY}\"\n}}\n",
                provider_block(&emu, cloud.name(), cloud.region, "")
            )
        };
        let ecs = Workspace::with_main(tf, &config(&ECS));
        ecs.apply(&[]).assert_success();
        let plan = ecs.plan(&["-detailed-exitcode"]);
        assert_eq!(plan.code, Some(0), "{plan}");
        ecs.destroy(&[]).assert_success();

        let ens = Workspace::with_main(tf, &config(&ENS));
        let out = ens.plan(&[]);
        out.assert_failure();
        let text = support::strip_ansi(&out.combined())
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            text.contains("Invalid key pair name") && text.contains("must start with a letter"),
            "{text}"
        );
    }
}

/// The private key of a generated key pair is usable: it loads (Python `cryptography`, from the
/// SDK environment `make tools` installs) and derives the public key the cloud stores.
#[test]
fn generated_private_keys_are_usable() {
    let tools = std::env::var_os("SSHKEY_TOOLS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools"));
    let python = tools.join("venv-sdk/bin/python");
    assert!(
        python.is_file(),
        "{} missing: run `make tools`",
        python.display()
    );
    for cloud in [ECS, ENS, CVM] {
        let emu = Emulator::start();
        let ws = Workspace::with_main(
            Tf::V1_15_5,
            &format!(
                "{REQUIRED_PROVIDERS}\n{}\nresource \"sshkey_key_pair\" \"k\" {{\n  name = \"nu_gen\"\n}}\noutput \"private_key\" {{\n  value     = sshkey_key_pair.k.private_key\n  sensitive = true\n}}\n",
                provider_block(&emu, cloud.name(), cloud.region, "")
            ),
        );
        ws.apply(&[]).assert_success();
        let private = ws.run(&["output", "-raw", "private_key"]);
        private.assert_success();
        let state = emu.state();
        let public = state[cloud.name()][cloud.key_region()]["keys"][0]["public_key"]
            .as_str()
            .expect("public key")
            .to_string();
        let path = ws.path().join("id_key");
        std::fs::write(&path, &private.stdout).expect("write the key");
        let script = "import sys\nfrom cryptography.hazmat.primitives import serialization as s\ndata = open(sys.argv[1], 'rb').read()\nload = s.load_ssh_private_key if b'OPENSSH' in data else s.load_pem_private_key\nkey = load(data, password=None)\nprint(key.public_key().public_bytes(s.Encoding.OpenSSH, s.PublicFormat.OpenSSH).decode())\n";
        let out = std::process::Command::new(&python)
            .args(["-c", script])
            .arg(&path)
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "{}: the private key does not load: {}",
            cloud.name(),
            String::from_utf8_lossy(&out.stderr)
        );
        let derived = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            derived.split_whitespace().take(2).collect::<Vec<_>>(),
            public.split_whitespace().take(2).collect::<Vec<_>>(),
            "{}: the private key does not match the stored public key",
            cloud.name()
        );
    }
}

/// Attributes a cloud does not support fail at plan on that cloud, on the attribute, as the docs
/// say; the clouds that support them plan fine.
#[test]
fn unsupported_attributes_fail_at_plan_on_each_cloud() {
    let emu = Emulator::start();
    let key_cases = [
        ("tags = { team = \"a\" }", ["ecs", "cvm"]),
        ("resource_group_id = \"rg-1\"", ["ecs", "ecs"]),
        ("project_id = 0", ["cvm", "cvm"]),
    ];
    let attachment_cases = [("reboot = true", "ecs"), ("force_stop = true", "cvm")];
    for tf in ALL_VERSIONS {
        for cloud in [ECS, ENS, CVM] {
            for (line, supported) in &key_cases {
                let ws = Workspace::with_main(
                    tf,
                    &format!(
                        "{REQUIRED_PROVIDERS}\n{}\nresource \"sshkey_key_pair\" \"k\" {{\n  name = \"nu_attr\"\n  {line}\n}}\n",
                        provider_block(&emu, cloud.name(), cloud.region, "")
                    ),
                );
                check_plan(
                    &ws,
                    tf,
                    cloud.name(),
                    line,
                    supported.contains(&cloud.name()),
                );
            }
            for (line, supported) in &attachment_cases {
                let ws = Workspace::with_main(
                    tf,
                    &format!(
                        "{REQUIRED_PROVIDERS}\n{}\nresource \"sshkey_key_pair_attachment\" \"a\" {{\n  key_pair_name = \"nu_key\"\n  instance_ids  = [\"{}\"]\n  {line}\n}}\n",
                        provider_block(&emu, cloud.name(), cloud.region, ""),
                        cloud.instance_id(1)
                    ),
                );
                // No such instance exists: a supported attribute still fails, on `instance_ids`.
                let out = ws.plan(&[]);
                let text = support::strip_ansi(&out.combined());
                let attribute = line.split(' ').next().unwrap_or_default();
                let refused = text.contains(&format!(
                    "`{attribute}` is not supported on {}",
                    cloud.name()
                ));
                assert_eq!(
                    refused,
                    *supported != cloud.name(),
                    "{} {} {line}: {text}",
                    tf.version(),
                    cloud.name()
                );
            }
        }
    }
}

fn check_plan(ws: &Workspace, tf: Tf, cloud: &str, line: &str, supported: bool) {
    let out = ws.plan(&[]);
    let text = support::strip_ansi(&out.combined());
    let attribute = line.split(' ').next().unwrap_or_default();
    if supported {
        assert!(out.success(), "{} {cloud} {line}: {text}", tf.version());
    } else {
        out.assert_failure();
        assert!(
            text.contains(&format!("`{attribute}` is not supported on {cloud}"))
                && text.contains(line),
            "{} {cloud} {line}: {text}",
            tf.version()
        );
    }
}
