//! One smoke run of the acceptance matrix with the machine image's own Terraform (1.11.4 at
//! `/usr/local/bin/terraform`), when the machine has it: the versions the suite installs are the
//! oldest and the newest, and this is the one between that users of the image run. Skipped, with
//! the reason printed, where it is absent: a test may use it, never require it.
//!
//! Per cloud: credentials through `assume_role` (ECS, CVM), a generated and an imported key
//! (tags where the cloud has them), an attachment, the data source, an `import` block adopting a
//! key another workspace made; every attribute in an output so the plan after each step must be
//! empty; an in-place attachment update; a `name_prefix` key; tags edited in place (ECS, CVM);
//! destroy, with the emulator checked after each step.

mod support;

use serde_json::Value;
use support::bench::PUBLIC_KEY;
use support::clouds::{Cloud, ALL};
use support::{Emulator, Tf, Workspace, ACCESS_KEY, REQUIRED_PROVIDERS, SECRET_KEY};

const ALIBABA_ROLE: &str = "acs:ram::1000000000000000:role/sshkey-emulator";
const TENCENT_ROLE: &str = "qcs::cam::uin/100000000000:roleName/sshkey-emulator";

fn provider(emu: &Emulator, c: &Cloud) -> String {
    let role = match c.name() {
        "ecs" => format!("  assume_role {{\n    role_arn     = \"{ALIBABA_ROLE}\"\n    session_name = \"smoke\"\n  }}\n"),
        "cvm" => format!("  assume_role {{\n    role_arn     = \"{TENCENT_ROLE}\"\n    session_name = \"smoke\"\n  }}\n"),
        _ => String::new(),
    };
    format!(
        "{REQUIRED_PROVIDERS}\nprovider \"sshkey\" {{\n  cloud      = \"{}\"\n  region     = \"{}\"\n  endpoint   = \"{}\"\n  access_key = \"{ACCESS_KEY}\"\n  secret_key = \"{SECRET_KEY}\"\n{role}}}\n",
        c.name(),
        c.region,
        emu.endpoint()
    )
}

fn main_tf(
    emu: &Emulator,
    c: &Cloud,
    adopted_id: &str,
    instances: &[String],
    team: &str,
) -> String {
    let tags = if c.name() == "ens" {
        String::new()
    } else {
        format!("  tags       = {{ team = \"{team}\" }}\n")
    };
    format!(
        r#"{provider}
resource "sshkey_key_pair" "gen" {{
  name = "smk_gen"
}}

resource "sshkey_key_pair" "imp" {{
  name       = "smk_imp"
  public_key = "{PUBLIC_KEY}"
{tags}}}

import {{
  to = sshkey_key_pair.adopted
  id = "{adopted_id}"
}}

resource "sshkey_key_pair" "adopted" {{
  name = "smk_out"
}}

resource "sshkey_key_pair" "pre" {{
  name_prefix = "smk_pre_"
  public_key  = "{PUBLIC_KEY}"
}}

resource "sshkey_key_pair_attachment" "a" {{
  {key_ref}
  instance_ids = {instances}
}}

data "sshkey_key_pairs" "mine" {{
  ids        = [sshkey_key_pair.gen.key_id, sshkey_key_pair.imp.key_id, sshkey_key_pair.adopted.key_id]
  depends_on = [sshkey_key_pair_attachment.a]
}}

output "keys" {{
  value = {{ for k, v in {{ gen = sshkey_key_pair.gen, imp = sshkey_key_pair.imp, adopted = sshkey_key_pair.adopted, pre = sshkey_key_pair.pre }} :
    k => [v.name, v.key_id, v.fingerprint, v.created_at, v.public_key, v.detach_on_destroy, v.force_stop, v.tags, v.tags_all, v.resource_group_id, v.project_id] }}
}}

output "private_key" {{
  value     = sshkey_key_pair.gen.private_key
  sensitive = true
}}

output "attachment" {{
  value = sshkey_key_pair_attachment.a
}}

output "listed" {{
  value = data.sshkey_key_pairs.mine.key_pairs
}}
"#,
        provider = provider(emu, c),
        key_ref = c.key_ref("gen"),
        instances = support::hcl_list(instances),
    )
}

fn key_names_in_cloud(emu: &Emulator, c: &Cloud) -> Vec<String> {
    let mut names: Vec<String> = emu.state()[c.name()][c.key_region()]["keys"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|k| k["name"].as_str().map(String::from))
        .collect();
    names.sort();
    names
}

fn assert_plan_empty(ws: &Workspace, what: &str) {
    let plan = ws.plan(&["-detailed-exitcode"]);
    assert_eq!(
        plan.code,
        Some(0),
        "{what}: the next plan must be empty: {plan}"
    );
}

fn smoke(tf: Tf, c: &Cloud) {
    let emu = Emulator::start();
    let ids = emu.seed_instances(c, 3, &[]);

    // A key another workspace made: the one the main workspace adopts with an `import` block.
    let outside = Workspace::with_main(
        tf,
        &format!(
            "{}\nresource \"sshkey_key_pair\" \"o\" {{\n  name = \"smk_out\"\n}}\n\noutput \"id\" {{\n  value = sshkey_key_pair.o.key_id\n}}\n",
            provider(&emu, c)
        ),
    );
    outside.apply(&[]).assert_success();
    let out = outside.run(&["output", "-raw", "id"]);
    out.assert_success();
    let adopted_id = out.stdout.trim().to_string();
    assert!(!adopted_id.is_empty(), "{}: {out}", c.name());

    let ws = Workspace::with_main(tf, &main_tf(&emu, c, &adopted_id, &ids[..2], "smoke"));
    let applied = ws.apply(&[]);
    applied.assert_success();
    assert!(
        applied.combined().contains("1 imported, 4 added"),
        "{}: {applied}",
        c.name()
    );
    let names = key_names_in_cloud(&emu, c);
    assert_eq!(names.len(), 4, "{}: {names:?}", c.name());
    assert_eq!(
        names[..3],
        ["smk_gen", "smk_imp", "smk_out"],
        "{}",
        c.name()
    );
    assert!(
        names[3].starts_with("smk_pre_") && names[3].len() == 16,
        "{}: a generated name: {names:?}",
        c.name()
    );
    assert_eq!(emu.bound_instances(c), ids[..2].to_vec(), "{}", c.name());
    assert_plan_empty(&ws, &format!("{} after apply with import", c.name()));
    let listed = ws.run(&["output", "-json", "listed"]);
    listed.assert_success();
    let listed: Value = serde_json::from_str(&listed.stdout).expect("output json");
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(3),
        "{}: {listed}",
        c.name()
    );

    // An in-place attachment update: one more instance, nothing detached.
    emu.reset_calls_keeping_store();
    ws.write("main.tf", &main_tf(&emu, c, &adopted_id, &ids, "smoke"));
    let updated = ws.apply(&[]);
    updated.assert_success();
    assert!(
        updated
            .combined()
            .contains("0 added, 1 changed, 0 destroyed"),
        "{}: {updated}",
        c.name()
    );
    assert!(emu.calls_of(c.detach).is_empty(), "{}", c.name());
    assert_eq!(emu.bound_instances(c), ids, "{}", c.name());
    assert_plan_empty(&ws, &format!("{} after the attachment update", c.name()));

    // Tags edited in place: the key pair stays, the cloud holds the new tags.
    if c.name() != "ens" {
        emu.reset_calls_keeping_store();
        ws.write("main.tf", &main_tf(&emu, c, &adopted_id, &ids, "retagged"));
        let retagged = ws.apply(&[]);
        retagged.assert_success();
        assert!(
            retagged
                .combined()
                .contains("0 added, 1 changed, 0 destroyed"),
            "{}: {retagged}",
            c.name()
        );
        for action in ["ImportKeyPair", "CreateKeyPair", "DeleteKeyPairs"] {
            assert!(emu.calls_of(action).is_empty(), "{}: {action}", c.name());
        }
        let snapshot = emu.snapshot();
        let tags = snapshot["keys"]
            .as_array()
            .and_then(|keys| keys.iter().find(|k| k["name"] == "smk_imp"))
            .map(|k| k["tags"].clone())
            .unwrap_or(Value::Null);
        assert!(
            tags.to_string().contains("retagged"),
            "{}: {tags}",
            c.name()
        );
        assert_plan_empty(&ws, &format!("{} after the tag edit", c.name()));
    }

    ws.destroy(&[]).assert_success();
    assert_eq!(
        key_names_in_cloud(&emu, c),
        Vec::<String>::new(),
        "{}",
        c.name()
    );
    assert_eq!(emu.bound_instances(c), Vec::<String>::new(), "{}", c.name());
    if c.name() != "ens" {
        assert!(
            !emu.calls_of("AssumeRole").is_empty(),
            "{}: the provider's credentials came from assume_role",
            c.name()
        );
    }
}

#[test]
fn the_image_terraform_runs_the_matrix() {
    let tf = match Tf::image() {
        Ok(tf) => tf,
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    for c in &ALL {
        smoke(tf, c);
    }
}
