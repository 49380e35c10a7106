//! The provider binary started as Terraform starts it (cookie, protocol versions, a P-521
//! client certificate): GetProviderSchema and ValidateProviderConfig over the pinned mTLS
//! channel; a different client certificate, or none, refused before any provider call.

mod support;

use sshkey::testing::tfplugin6 as wire;
use sshkey::testing::tfplugin6::provider_client::ProviderClient;
use sshkey::value::{msgpack, Value};
use support::plugin::{self, ClientCert};

#[tokio::test]
async fn schema_and_config_validation_over_pinned_mtls() {
    let provider = plugin::start_provider().await;
    let mut client = ProviderClient::new(provider.channel());
    let schema = client
        .get_provider_schema(wire::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema over mTLS")
        .into_inner();
    let block = schema
        .provider
        .and_then(|p| p.block)
        .expect("provider block");
    assert!(block
        .attributes
        .iter()
        .any(|a| a.name == "cloud" && a.required));
    assert!(schema.resource_schemas.contains_key("sshkey_key_pair"));

    let ty = sshkey::provider::config::schema().value_type();
    let sshkey::value::Type::Object(fields) = &ty else {
        panic!("object")
    };
    let mut config: std::collections::BTreeMap<String, Value> =
        fields.keys().map(|k| (k.clone(), Value::Null)).collect();
    config.insert("cloud".into(), Value::string("cvm"));
    config.insert("max_detach_batch".into(), Value::int(101));
    let resp = client
        .validate_provider_config(wire::validate_provider_config::Request {
            config: Some(wire::DynamicValue {
                msgpack: msgpack::encode(&Value::Object(config), &ty).expect("encode"),
                json: vec![],
            }),
        })
        .await
        .expect("ValidateProviderConfig over mTLS")
        .into_inner();
    assert_eq!(resp.diagnostics.len(), 1, "{:?}", resp.diagnostics);
    assert!(resp.diagnostics[0].detail.contains("at most 100"));

    let stranger = ClientCert::generate();
    assert!(
        schema_refused(&provider, Some(&stranger)).await,
        "a different client certificate must be refused"
    );
    assert!(provider.shutdown().await.success());
}

/// Whether GetProviderSchema fails for a client presenting `cert`. With TLS 1.3 the client
/// may finish its side of the handshake before the server refuses, so the refusal shows either
/// at connect or at the first call.
async fn schema_refused(provider: &plugin::ProviderProcess, cert: Option<&ClientCert>) -> bool {
    match provider.connect_with(cert).await {
        Err(_) => true,
        Ok(channel) => ProviderClient::new(channel)
            .get_provider_schema(wire::get_provider_schema::Request {})
            .await
            .is_err(),
    }
}

#[tokio::test]
async fn a_client_without_a_certificate_gets_no_schema() {
    let provider = plugin::start_provider().await;
    assert!(
        schema_refused(&provider, None).await,
        "a client without a certificate must be refused"
    );
    // The refusal is per connection: Terraform's own client still gets through.
    let schema = ProviderClient::new(provider.channel())
        .get_provider_schema(wire::get_provider_schema::Request {})
        .await;
    assert!(schema.is_ok(), "{schema:?}");
    assert!(provider.shutdown().await.success());
}
