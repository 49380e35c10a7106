//! `sshkey_key_pairs` through real Terraform: filters by ids, tags and project, public keys,
//! tags and bound instances in the result, CVM fingerprints computed in the ECS form, and
//! filters a cloud lacks refused at plan.

mod support;

use serde_json::{json, Value};
use support::bench::PUBLIC_KEY;
use support::clouds::{named, Cloud};
use support::{provider_block, Emulator, Tf, Workspace, REQUIRED_PROVIDERS};

/// `ssh-keygen -E md5 -lf` of [`PUBLIC_KEY`], without its `MD5:` prefix: derived outside the
/// provider, so a wrong fingerprint computation cannot pass.
const PUBLIC_KEY_MD5: &str = "5d:fd:4b:bb:6f:13:66:17:fd:be:26:e3:99:8d:6b:b7";

fn seed(emu: &Emulator, c: &Cloud, n: usize) -> Vec<String> {
    emu.seed_instances(c, n, &[])
}

/// Three imported keys (two tagged `env = prod`), one attached to two instances, and data
/// sources that find them by tag and by id.
fn config(emu: &Emulator, c: &Cloud, instances: &[String], extra_key_attr: &str) -> String {
    let key_ref = if c.name() == "ecs" {
        "key_pair_name = sshkey_key_pair.k[\"ds_a\"].name"
    } else {
        "key_id = sshkey_key_pair.k[\"ds_a\"].key_id"
    };
    format!(
        r#"{REQUIRED_PROVIDERS}
{provider}
locals {{
  keys = {{ ds_a = "prod", ds_b = "prod", ds_c = "dev" }}
}}

resource "sshkey_key_pair" "k" {{
  for_each   = local.keys
  name       = each.key
  public_key = "{PUBLIC_KEY}"
  tags       = {{ env = each.value }}
{extra_key_attr}}}

resource "sshkey_key_pair_attachment" "a" {{
  {key_ref}
  instance_ids  = {instances}
}}

data "sshkey_key_pairs" "prod" {{
  tags       = {{ env = "prod" }}
  depends_on = [sshkey_key_pair_attachment.a]
}}

data "sshkey_key_pairs" "one" {{
  ids        = [sshkey_key_pair.k["ds_c"].key_id]
  depends_on = [sshkey_key_pair_attachment.a]
}}

output "prod" {{
  value = data.sshkey_key_pairs.prod.key_pairs
}}

output "one" {{
  value = data.sshkey_key_pairs.one.key_pairs
}}
"#,
        provider = provider_block(emu, c.name(), c.region, ""),
        instances = support::hcl_list(instances),
    )
}

fn outputs(ws: &Workspace) -> Value {
    let out = ws.run(&["output", "-json"]);
    out.assert_success();
    serde_json::from_str(&out.stdout).expect("output json")
}

fn finds_by_tags_and_ids_with_holders(tf: Tf, cloud: &str, extra_key_attr: &str) {
    let c = named(cloud);
    let emu = Emulator::start();
    let instances = seed(&emu, &c, 2);
    let ws = Workspace::with_main(tf, &config(&emu, &c, &instances, extra_key_attr));
    ws.apply(&[]).assert_success();
    let plan = ws.plan(&["-detailed-exitcode"]);
    assert_eq!(plan.code, Some(0), "{cloud}: {plan}");
    let out = outputs(&ws);
    let prod = out["prod"]["value"].as_array().expect("prod key pairs");
    let names: Vec<&str> = prod.iter().filter_map(|k| k["name"].as_str()).collect();
    assert_eq!(names, ["ds_a", "ds_b"], "{cloud}: tag filter: {prod:?}");
    let mut expected = instances.clone();
    expected.sort();
    assert_eq!(
        prod[0]["instance_ids"],
        json!(expected),
        "{cloud}: holders of ds_a"
    );
    assert_eq!(
        prod[1]["instance_ids"],
        json!([]),
        "{cloud}: ds_b is held by none"
    );
    for k in prod {
        assert_eq!(k["tags"], json!({"env": "prod"}), "{cloud}: {k}");
        assert_eq!(
            k["fingerprint"], PUBLIC_KEY_MD5,
            "{cloud}: fingerprint form: {k}"
        );
    }
    let one = out["one"]["value"].as_array().expect("one");
    assert_eq!(one.len(), 1, "{cloud}: id filter: {one:?}");
    assert_eq!(one[0]["name"], "ds_c");
    if cloud == "cvm" {
        // CVM returns the public key (and no fingerprint, so ours is computed from it).
        let pk = one[0]["public_key"].as_str().expect("CVM public key");
        assert!(
            PUBLIC_KEY.starts_with(pk.trim()) || pk.starts_with(&PUBLIC_KEY[..80]),
            "{pk}"
        );
        assert_eq!(one[0]["project_id"], 0, "{one:?}");
    }
    ws.destroy(&[]).assert_success();
}

#[test]
fn finds_by_tags_and_ids_with_holders_on_terraform_1_15_5() {
    finds_by_tags_and_ids_with_holders(Tf::V1_15_5, "ecs", "");
    finds_by_tags_and_ids_with_holders(Tf::V1_15_5, "cvm", "  project_id = 0\n");
}

#[test]
fn finds_by_tags_and_ids_with_holders_on_terraform_1_0_3() {
    finds_by_tags_and_ids_with_holders(Tf::V1_0_3, "cvm", "");
}

/// A filter the cloud has no notion of fails at plan on its attribute, before any listing.
#[test]
fn filters_a_cloud_lacks_fail_at_plan() {
    for (cloud, attr, value) in [
        ("ecs", "project_id", "1"),
        ("cvm", "resource_group_id", "\"rg-1\""),
        ("ens", "tags", "{ env = \"prod\" }"),
    ] {
        let c = named(cloud);
        let emu = Emulator::start();
        let main_tf = format!(
            "{REQUIRED_PROVIDERS}\n{}\ndata \"sshkey_key_pairs\" \"x\" {{\n  {attr} = {value}\n}}\n",
            provider_block(&emu, c.name(), c.region, "")
        );
        let ws = Workspace::with_main(Tf::V1_15_5, &main_tf);
        let plan = ws.plan(&[]);
        plan.assert_failure();
        let text = plan.combined();
        assert!(
            text.contains("Filter not supported by this cloud") && text.contains(attr),
            "{cloud} {attr}: {plan}"
        );
        assert!(
            emu.calls_of("DescribeKeyPairs").is_empty(),
            "{cloud}: nothing listed"
        );
    }
}
