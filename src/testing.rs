//! Entry points for code that plays a peer's side from outside the crate: integration tests and
//! benches that speak gRPC to the provider as Terraform does, and the fuzz targets. Everything
//! here is narrow on purpose, so the modules it reaches stay private to the crate.

/// The generated tfplugin6 types (a gRPC client of the provider).
pub use crate::tfproto::generated::wire as tfplugin6;

/// The generated go-plugin types (its controller and stdio services).
pub use crate::plugin::generated::wire as goplugin;

/// What the fuzz targets in `fuzz/` drive. Kept compiling by `tests` in this file, which run
/// the same paths on a few fixed inputs, so the targets cannot rot unnoticed.
pub mod fuzz {
    use crate::cloud::sign::Credentials;
    use crate::emulator::auth::{Authenticator, Received};
    use crate::emulator::ops::{self, OpsConfig};
    use crate::emulator::store::{Instance, Os, Status, Store};
    use crate::emulator::wire::{render_error, render_ok};
    use crate::emulator::{BoundDelete, Cloud, DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET};
    use crate::provider::resource::Identity;
    use crate::value::Type;

    pub use crate::value::json::encode as json_encode;
    pub use crate::value::json::{decode as json_decode, decode_lenient as json_decode_lenient};

    /// The value types of every schema the provider serves (resources, data source, provider
    /// block, identity), which the decoders must handle whatever bytes arrive.
    pub fn schema_types() -> Vec<Type> {
        vec![
            crate::provider::key_pair::schema().value_type(),
            crate::provider::attachment::schema().value_type(),
            crate::provider::key_pairs::schema().value_type(),
            crate::provider::config::schema().value_type(),
            Identity::key_id("").schema().value_type(),
        ]
    }

    /// The emulator's request path without a socket: authentication, then the operation
    /// against a store seeded with one instance of each kind the operations tell apart.
    pub struct Emulator {
        auth: Authenticator,
        store: Store,
        cfg: OpsConfig,
    }

    impl Emulator {
        /// The emulator with its default credentials and `ecs_bound_delete` as given.
        pub fn new(ecs_bound_delete: BoundDelete) -> Emulator {
            let mut store = Store::default();
            for (cloud, region, id, os, status) in [
                (
                    Cloud::Ecs,
                    "cn-hangzhou",
                    "i-linux",
                    Os::Linux,
                    Status::Running,
                ),
                (
                    Cloud::Ecs,
                    "cn-hangzhou",
                    "i-stopped",
                    Os::Linux,
                    Status::Stopped,
                ),
                (
                    Cloud::Ecs,
                    "cn-hangzhou",
                    "i-windows",
                    Os::Windows,
                    Status::Running,
                ),
                (
                    Cloud::Ens,
                    "cn-hangzhou",
                    "i-ens",
                    Os::Linux,
                    Status::Running,
                ),
                (
                    Cloud::Cvm,
                    "ap-guangzhou",
                    "ins-00000001",
                    Os::Linux,
                    Status::Stopped,
                ),
                (
                    Cloud::Cvm,
                    "ap-guangzhou",
                    "ins-00000002",
                    Os::Linux,
                    Status::Running,
                ),
            ] {
                store.upsert_instance(Instance {
                    cloud,
                    region: region.to_string(),
                    id: id.to_string(),
                    os,
                    status,
                    keys: Vec::new(),
                    reboots: 0,
                });
            }
            Emulator {
                auth: Authenticator::new(credentials()),
                store,
                cfg: OpsConfig { ecs_bound_delete },
            }
        }

        /// Serves one request at unix time `now`, rendering the answer as the server would.
        /// `Err` carries the reason when authentication rejected it.
        pub fn receive(
            &mut self,
            method: &http::Method,
            uri: &http::Uri,
            headers: &http::HeaderMap,
            body: &[u8],
            now: i64,
        ) -> Result<(), String> {
            let received = Received {
                method,
                uri,
                headers,
                body,
            };
            match self.auth.authenticate_http(&received, now) {
                Ok(call) => {
                    let at = time::OffsetDateTime::from_unix_timestamp(now)
                        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
                    match ops::handle(&mut self.store, &call, &self.cfg, at) {
                        Ok(answer) => drop(render_ok(call.cloud, answer, "req")),
                        Err(e) => drop(render_error(call.cloud, &e, "req")),
                    }
                    Ok(())
                }
                Err(rejected) => {
                    drop(render_error(rejected.cloud, &rejected.error, "req"));
                    Err(format!("{:?}", rejected.error))
                }
            }
        }
    }

    /// The credentials the emulator accepts by default, for signing fuzzed calls.
    pub fn credentials() -> Credentials {
        Credentials::new(DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET)
    }
}

#[cfg(test)]
mod tests {
    use super::fuzz::*;
    use crate::emulator::BoundDelete;
    use crate::value::msgpack;

    #[test]
    fn every_schema_type_round_trips_its_null() {
        for ty in schema_types() {
            let null = crate::value::Value::Null;
            let bytes = msgpack::encode(&null, &ty).expect("null encodes");
            assert_eq!(msgpack::decode(&bytes, &ty).expect("decodes"), null);
            let json = json_encode(&null, &ty).expect("null JSON");
            assert_eq!(json_decode(&json, &ty).expect("JSON decodes"), null);
        }
    }

    #[test]
    fn an_unsigned_request_is_rejected_and_a_signed_one_served() {
        let mut emu = Emulator::new(BoundDelete::Reject);
        let uri: http::Uri = "http://127.0.0.1:8080/?Action=DescribeKeyPairs"
            .parse()
            .expect("uri");
        let rejected = emu.receive(&http::Method::POST, &uri, &http::HeaderMap::new(), b"", 0);
        assert!(rejected.is_err(), "an unsigned request must be rejected");

        let now = 1_704_067_200;
        let query = vec![("RegionId".to_string(), "cn-hangzhou".to_string())];
        let headers = crate::cloud::sign::acs3::sign_request(
            &crate::cloud::sign::acs3::SignInput {
                method: "POST",
                host: "127.0.0.1:8080",
                query: &query,
                body: b"",
                action: "DescribeKeyPairs",
                version: "2014-05-26",
                date: "2024-01-01T00:00:00Z",
                nonce: "n-1",
            },
            &credentials(),
        );
        let mut map = http::HeaderMap::new();
        for (k, v) in &headers {
            map.append(
                http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                http::HeaderValue::from_str(v).expect("value"),
            );
        }
        let uri: http::Uri = "http://127.0.0.1:8080/?RegionId=cn-hangzhou"
            .parse()
            .expect("uri");
        assert_eq!(
            emu.receive(&http::Method::POST, &uri, &map, b"", now),
            Ok(())
        );
    }
}
