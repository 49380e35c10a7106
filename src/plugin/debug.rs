//! `--debug` mode: the provider is started by a person (typically under a debugger) and
//! Terraform attaches to it through `TF_REATTACH_PROVIDERS` instead of starting it. Reattached
//! providers are dialled without TLS, so this mode is plaintext and needs no cookie.

use serde_json::json;

use super::handshake::PluginAddr;

/// The JSON value of `TF_REATTACH_PROVIDERS` for one provider.
pub(crate) fn reattach_json(
    provider_address: &str,
    protocol: u32,
    pid: u32,
    addr: &PluginAddr,
) -> String {
    let mut providers = serde_json::Map::new();
    providers.insert(
        provider_address.to_owned(),
        json!({
            "Protocol": "grpc",
            "ProtocolVersion": protocol,
            "Pid": pid,
            "Test": true,
            "Addr": { "Network": addr.network(), "String": addr.to_string() },
        }),
    );
    serde_json::Value::Object(providers).to_string()
}

/// What we print on stdout: the instructions and one shell line to paste. The JSON is put in
/// single quotes, so a single quote inside (only possible in a socket path) is closed, escaped
/// and reopened.
pub(crate) fn reattach_instructions(json: &str) -> String {
    let quoted = json.replace('\'', r"'\''");
    format!(
        "The sshkey provider is running in debug mode. To make Terraform use this process, \
         set this variable in the shell where you run Terraform:\n\n\
         \tTF_REATTACH_PROVIDERS='{quoted}'\n\n\
         Press Ctrl-C to stop the provider.\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reattach_json_has_terraforms_shape() {
        let addr = PluginAddr::Unix("/tmp/sshkey-plugin-1/plugin.sock".into());
        let text = reattach_json("registry.terraform.io/sshkey/sshkey", 6, 4242, &addr);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let entry = &value["registry.terraform.io/sshkey/sshkey"];
        assert_eq!(entry["Protocol"], "grpc");
        assert_eq!(entry["ProtocolVersion"], 6);
        assert_eq!(entry["Pid"], 4242);
        assert_eq!(entry["Test"], true);
        assert_eq!(entry["Addr"]["Network"], "unix");
        assert_eq!(entry["Addr"]["String"], "/tmp/sshkey-plugin-1/plugin.sock");
    }

    #[test]
    fn instructions_contain_a_pasteable_line() {
        let text = reattach_instructions(r#"{"a":"it's"}"#);
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with("TF_REATTACH_PROVIDERS="))
            .unwrap();
        assert_eq!(line.trim(), r#"TF_REATTACH_PROVIDERS='{"a":"it'\''s"}'"#);
    }
}
