//! The go-plugin handshake: what the parent process tells us through the environment, and the
//! one line we answer on stdout.
//!
//! Terraform starts a provider with a magic cookie (so a provider run by hand can explain itself
//! instead of hanging), the plugin protocol versions it speaks, a port range, and - with AutoMTLS -
//! its own client certificate. The provider answers with a single line naming the protocol, the
//! address to dial and its server certificate. The environment is read once into [`PluginEnv`] so
//! that everything else is plain data and testable without touching the process environment.

use std::fmt;
use std::ops::RangeInclusive;
use std::path::PathBuf;

use base64::Engine as _;

use super::PluginError;

/// The environment variable carrying the magic cookie.
pub(crate) const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// The value Terraform and OpenTofu put in [`MAGIC_COOKIE_KEY`].
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// The go-plugin framing version, first field of the handshake line.
pub(crate) const CORE_PROTOCOL_VERSION: u32 = 1;
/// The only Terraform plugin protocol we speak.
pub(crate) const PLUGIN_PROTOCOL_VERSION: u32 = 6;
/// Port range go-plugin uses when the parent does not give one.
pub(crate) const DEFAULT_PORTS: RangeInclusive<u16> = 10000..=25000;

/// What a person who runs the binary by hand gets to read.
pub(crate) const NOT_STARTED_BY_TERRAFORM: &str =
    "This binary is a plugin for Terraform and OpenTofu \
(the sshkey provider) and is not meant to be run directly. Terraform starts it by itself when a \
configuration uses the provider; install it through a provider registry or a `dev_overrides` \
block in the CLI configuration. To debug it, run it with `--debug` and export the \
TF_REATTACH_PROVIDERS line it prints before running Terraform.";

/// The handshake-relevant part of the process environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PluginEnv {
    /// `TF_PLUGIN_MAGIC_COOKIE`.
    pub magic_cookie: Option<String>,
    /// `PLUGIN_PROTOCOL_VERSIONS`, e.g. `5,6`.
    pub protocol_versions: Option<String>,
    /// `PLUGIN_MIN_PORT`.
    pub min_port: Option<String>,
    /// `PLUGIN_MAX_PORT`.
    pub max_port: Option<String>,
    /// `PLUGIN_CLIENT_CERT`: PEM of the parent's client certificate; present means AutoMTLS.
    pub client_cert: Option<String>,
    /// `PLUGIN_UNIX_SOCKET_DIR`: where to create the socket directory.
    pub unix_socket_dir: Option<PathBuf>,
}

impl PluginEnv {
    /// Reads the variables from the process environment; empty values count as absent, as they
    /// do in go-plugin.
    pub(crate) fn from_process() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self {
            magic_cookie: var(MAGIC_COOKIE_KEY),
            protocol_versions: var("PLUGIN_PROTOCOL_VERSIONS"),
            min_port: var("PLUGIN_MIN_PORT"),
            max_port: var("PLUGIN_MAX_PORT"),
            client_cert: var("PLUGIN_CLIENT_CERT"),
            unix_socket_dir: var("PLUGIN_UNIX_SOCKET_DIR").map(PathBuf::from),
        }
    }

    /// Fails unless the parent gave the expected cookie.
    pub(crate) fn check_magic_cookie(&self) -> Result<(), PluginError> {
        match self.magic_cookie.as_deref() {
            Some(MAGIC_COOKIE_VALUE) => Ok(()),
            _ => Err(PluginError::NotStartedByTerraform),
        }
    }

    /// Picks protocol 6 from the versions the parent offers. When the parent offers nothing,
    /// go-plugin falls back to the plugin's own version, and so do we.
    pub(crate) fn negotiate_protocol(&self) -> Result<u32, PluginError> {
        let Some(offered) = self.protocol_versions.as_deref() else {
            return Ok(PLUGIN_PROTOCOL_VERSION);
        };
        let speaks_ours = offered
            .split(',')
            .any(|v| v.trim().parse::<u32>() == Ok(PLUGIN_PROTOCOL_VERSION));
        if speaks_ours {
            Ok(PLUGIN_PROTOCOL_VERSION)
        } else {
            Err(PluginError::NoCommonProtocol {
                offered: offered.to_owned(),
            })
        }
    }

    /// The TCP port range for the fallback listener.
    pub(crate) fn port_range(&self) -> Result<RangeInclusive<u16>, PluginError> {
        let parse = |value: Option<&str>, default: u16| -> Result<u16, PluginError> {
            match value {
                None => Ok(default),
                Some(v) => v.trim().parse().map_err(|_| PluginError::InvalidPortRange {
                    detail: format!("{v:?} is not a port number"),
                }),
            }
        };
        let min = parse(self.min_port.as_deref(), *DEFAULT_PORTS.start())?;
        let max = parse(self.max_port.as_deref(), *DEFAULT_PORTS.end())?;
        if min > max {
            return Err(PluginError::InvalidPortRange {
                detail: format!("minimum {min} is above maximum {max}"),
            });
        }
        Ok(min..=max)
    }
}

/// Where the server listens, as go-plugin names it in the handshake line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PluginAddr {
    /// A unix socket path.
    Unix(PathBuf),
    /// A loopback TCP address.
    Tcp(std::net::SocketAddr),
}

impl PluginAddr {
    /// The network name: `unix` or `tcp`.
    pub(crate) fn network(&self) -> &'static str {
        match self {
            PluginAddr::Unix(_) => "unix",
            PluginAddr::Tcp(_) => "tcp",
        }
    }
}

impl fmt::Display for PluginAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PluginAddr::Unix(path) => write!(f, "{}", path.display()),
            PluginAddr::Tcp(addr) => write!(f, "{addr}"),
        }
    }
}

/// The line that tells the parent where to connect, without the trailing newline.
/// `server_cert_der` is `None` for plaintext; go-plugin then leaves the last field empty.
pub(crate) fn handshake_line(
    protocol: u32,
    addr: &PluginAddr,
    server_cert_der: Option<&[u8]>,
) -> String {
    let cert = server_cert_der.map(encode_cert).unwrap_or_default();
    format!(
        "{CORE_PROTOCOL_VERSION}|{protocol}|{}|{addr}|grpc|{cert}",
        addr.network()
    )
}

/// go-plugin decodes the certificate field with unpadded standard base64.
pub(crate) fn encode_cert(der: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(der)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> PluginEnv {
        PluginEnv {
            magic_cookie: Some(MAGIC_COOKIE_VALUE.into()),
            ..PluginEnv::default()
        }
    }

    #[test]
    fn cookie_must_match_exactly() {
        assert!(env().check_magic_cookie().is_ok());
        let missing = PluginEnv::default();
        assert!(matches!(
            missing.check_magic_cookie(),
            Err(PluginError::NotStartedByTerraform)
        ));
        let wrong = PluginEnv {
            magic_cookie: Some("not-the-cookie".into()),
            ..PluginEnv::default()
        };
        assert!(wrong.check_magic_cookie().is_err());
    }

    #[test]
    fn explanation_is_what_the_error_says() {
        let message = PluginError::NotStartedByTerraform.to_string();
        assert_eq!(message, NOT_STARTED_BY_TERRAFORM);
        assert!(!message.contains('\n'), "one paragraph");
    }

    #[test]
    fn negotiates_six_when_offered() {
        for offered in ["5,6", "6", " 5 , 6 ", "6,7"] {
            let e = PluginEnv {
                protocol_versions: Some(offered.into()),
                ..env()
            };
            assert_eq!(e.negotiate_protocol().unwrap(), 6, "{offered}");
        }
        assert_eq!(env().negotiate_protocol().unwrap(), 6, "unset: our default");
    }

    #[test]
    fn refuses_when_six_is_not_offered() {
        for offered in ["5", "4,5", "16", "x"] {
            let e = PluginEnv {
                protocol_versions: Some(offered.into()),
                ..env()
            };
            match e.negotiate_protocol() {
                Err(PluginError::NoCommonProtocol { offered: o }) => assert_eq!(o, offered),
                other => panic!("{offered}: {other:?}"),
            }
        }
    }

    #[test]
    fn port_range_defaults_and_parses() {
        assert_eq!(env().port_range().unwrap(), 10000..=25000);
        let e = PluginEnv {
            min_port: Some("12000".into()),
            max_port: Some(" 12010".into()),
            ..env()
        };
        assert_eq!(e.port_range().unwrap(), 12000..=12010);
        let only_min = PluginEnv {
            min_port: Some("20000".into()),
            ..env()
        };
        assert_eq!(only_min.port_range().unwrap(), 20000..=25000);
    }

    #[test]
    fn port_range_rejects_nonsense() {
        for (min, max) in [
            ("abc", "2"),
            ("70000", "80000"),
            ("300", "200"),
            ("-1", "5"),
        ] {
            let e = PluginEnv {
                min_port: Some(min.into()),
                max_port: Some(max.into()),
                ..env()
            };
            assert!(
                matches!(e.port_range(), Err(PluginError::InvalidPortRange { .. })),
                "{min}..{max}"
            );
        }
    }

    #[test]
    fn handshake_line_for_unix_with_cert() {
        let addr = PluginAddr::Unix("/tmp/sshkey-plugin-x/plugin.sock".into());
        let line = handshake_line(6, &addr, Some(&[0xde, 0xad, 0xbe, 0xef, 0x01]));
        assert_eq!(
            line,
            "1|6|unix|/tmp/sshkey-plugin-x/plugin.sock|grpc|3q2+7wE"
        );
    }

    #[test]
    fn handshake_line_for_tcp_plaintext() {
        let addr = PluginAddr::Tcp("127.0.0.1:10123".parse().unwrap());
        assert_eq!(
            handshake_line(6, &addr, None),
            "1|6|tcp|127.0.0.1:10123|grpc|"
        );
    }

    #[test]
    fn cert_encoding_is_unpadded_standard_base64() {
        assert_eq!(encode_cert(b"a"), "YQ");
        assert_eq!(encode_cert(b"ab"), "YWI");
        assert_eq!(encode_cert(b"abc"), "YWJj");
        assert_eq!(
            encode_cert(&[0xfb, 0xff]),
            "+/8",
            "standard alphabet, not URL-safe"
        );
    }
}
