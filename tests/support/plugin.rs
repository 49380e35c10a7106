//! Starts the built provider binary exactly as Terraform does (magic cookie, protocol versions,
//! port range, socket directory, AutoMTLS with a self-signed ECDSA P-521 CA client certificate)
//! and connects to it over the unix socket (or TCP) with rustls, trusting exactly the server
//! certificate from the handshake line and offering ALPN `h2`.
//!
//! ```ignore
//! let provider = support::plugin::start_provider().await;
//! let mut client = ProviderClient::new(provider.channel());
//! ...
//! assert!(provider.shutdown().await.success());
//! ```

use std::io;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::danger::ClientCertVerifier as _;
use rustls::{DigitallySignedStruct, SignatureScheme};
use sshkey::plugin::tls::{crypto_provider, PinnedClientCert};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};
use tonic::transport::{Channel, Endpoint, Uri};

pub use sshkey::plugin::handshake::MAGIC_COOKIE_VALUE;

/// The binary under test.
pub const BINARY: &str = env!("CARGO_BIN_EXE_terraform-provider-sshkey");

/// How long the binary may take to print its handshake line.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(20);

/// A client certificate like Terraform's: self-signed ECDSA P-521, IsCA, CN/SAN localhost.
#[derive(Clone)]
pub struct ClientCert {
    pub pem: String,
    pub der: CertificateDer<'static>,
    key: Arc<PrivatePkcs8KeyDer<'static>>,
}

impl ClientCert {
    pub fn generate() -> Self {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "HashiCorp");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::DigitalSignature,
            rcgen::KeyUsagePurpose::KeyEncipherment,
            rcgen::KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        ];
        let cert = params.self_signed(&key).unwrap();
        Self {
            pem: cert.pem(),
            der: cert.der().clone(),
            key: Arc::new(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    }
}

/// The parsed handshake line.
#[derive(Debug, Clone)]
pub struct Handshake {
    pub line: String,
    pub core_version: u32,
    pub protocol_version: u32,
    pub network: String,
    pub address: String,
    pub protocol: String,
    /// The server certificate DER, when the last field is present.
    pub server_cert: Option<Vec<u8>>,
}

impl Handshake {
    pub fn parse(line: &str) -> Self {
        let parts: Vec<&str> = line.trim_end().split('|').collect();
        assert_eq!(parts.len(), 6, "handshake line {line:?}");
        let server_cert = (!parts[5].is_empty()).then(|| {
            assert!(!parts[5].ends_with('='), "cert must be unpadded: {line}");
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(parts[5])
                .unwrap()
        });
        Self {
            line: line.trim_end().to_owned(),
            core_version: parts[0].parse().unwrap(),
            protocol_version: parts[1].parse().unwrap(),
            network: parts[2].to_owned(),
            address: parts[3].to_owned(),
            protocol: parts[4].to_owned(),
            server_cert,
        }
    }
}

/// How to start the provider.
pub struct StartOptions {
    /// Send `PLUGIN_CLIENT_CERT` (AutoMTLS); `None` is `TF_DISABLE_PLUGIN_TLS`.
    pub client_cert: Option<ClientCert>,
    /// `PLUGIN_UNIX_SOCKET_DIR`; a fresh temp dir when `None`.
    pub socket_dir: Option<PathBuf>,
    /// Extra environment, applied last.
    pub env: Vec<(String, String)>,
}

impl Default for StartOptions {
    fn default() -> Self {
        Self {
            client_cert: Some(ClientCert::generate()),
            socket_dir: None,
            env: Vec::new(),
        }
    }
}

/// A running provider and a connected channel.
pub struct ProviderProcess {
    child: Child,
    pub handshake: Handshake,
    pub client_cert: Option<ClientCert>,
    /// From spawn to the handshake line being read.
    pub startup: Duration,
    channel: Channel,
    socket_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    _stdout: BufReader<ChildStdout>,
    stderr: Arc<Mutex<Vec<String>>>,
}

/// Starts with defaults: AutoMTLS with a fresh P-521 client cert, a fresh socket dir.
pub async fn start_provider() -> ProviderProcess {
    start_provider_with(StartOptions::default()).await
}

/// The environment Terraform gives a provider.
pub fn terraform_command() -> Command {
    let mut cmd = Command::new(BINARY);
    for var in [
        "PLUGIN_CLIENT_CERT",
        "PLUGIN_UNIX_SOCKET_DIR",
        "TF_LOG",
        "TF_REATTACH_PROVIDERS",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .env("TF_LOG_PROVIDER", "debug")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

pub async fn start_provider_with(opts: StartOptions) -> ProviderProcess {
    let (temp, socket_dir) = match opts.socket_dir {
        Some(dir) => (None, dir),
        None => {
            let temp = tempfile::tempdir().unwrap();
            let dir = temp.path().to_path_buf();
            (Some(temp), dir)
        }
    };
    let mut cmd = terraform_command();
    cmd.env("PLUGIN_UNIX_SOCKET_DIR", &socket_dir);
    if let Some(cert) = &opts.client_cert {
        cmd.env("PLUGIN_CLIENT_CERT", &cert.pem);
    }
    for (k, v) in &opts.env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let stderr = collect_stderr(&mut child);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let read = tokio::time::timeout(HANDSHAKE_TIMEOUT, stdout.read_line(&mut line)).await;
    let startup = started.elapsed();
    match read {
        Ok(Ok(n)) if n > 0 => {}
        other => panic!(
            "no handshake line ({other:?}); stderr: {:?}",
            stderr.lock().unwrap()
        ),
    }
    let handshake = Handshake::parse(&line);
    let channel = connect(&handshake, opts.client_cert.as_ref())
        .await
        .unwrap();
    ProviderProcess {
        child,
        handshake,
        client_cert: opts.client_cert,
        startup,
        channel,
        socket_dir,
        _temp: temp,
        _stdout: stdout,
        stderr,
    }
}

fn collect_stderr(child: &mut Child) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let stderr = child.stderr.take().unwrap();
    let sink = lines.clone();
    tokio::spawn(async move {
        let mut reader = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            sink.lock().unwrap().push(line);
        }
    });
    lines
}

impl ProviderProcess {
    /// The channel connected at start (with the client cert the provider was started with).
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// A new connection presenting `cert` (or no certificate at all); TLS is used whenever the
    /// provider printed a server certificate.
    pub async fn connect_with(
        &self,
        cert: Option<&ClientCert>,
    ) -> Result<Channel, tonic::transport::Error> {
        connect(&self.handshake, cert).await
    }

    /// The `PLUGIN_UNIX_SOCKET_DIR` given to the provider.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    pub fn pid(&self) -> u32 {
        self.child.id().unwrap()
    }

    /// The provider's stderr so far, one entry per line.
    pub fn stderr(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits up to `limit` for the process to exit.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        tokio::time::timeout(limit, self.child.wait())
            .await
            .ok()
            .map(|r| r.unwrap())
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Asks the provider to stop through `plugin.GRPCController/Shutdown`, as Terraform does,
    /// and returns its exit status.
    pub async fn shutdown(mut self) -> ExitStatus {
        let mut controller =
            sshkey::testing::goplugin::grpc_controller_client::GrpcControllerClient::new(
                self.channel(),
            );
        controller
            .shutdown(sshkey::testing::goplugin::Empty {})
            .await
            .unwrap();
        self.wait_exit(Duration::from_secs(10))
            .await
            .expect("provider did not exit after Shutdown")
    }
}

/// Connects to the address in `handshake`.
pub async fn connect(
    handshake: &Handshake,
    cert: Option<&ClientCert>,
) -> Result<Channel, tonic::transport::Error> {
    let tls = handshake
        .server_cert
        .clone()
        .map(|server| Arc::new(client_config(CertificateDer::from(server), cert)));
    let network = handshake.network.clone();
    let address = handshake.address.clone();
    let connector = tower::service_fn(move |_: Uri| {
        let (network, address, tls) = (network.clone(), address.clone(), tls.clone());
        async move {
            let io: Box<dyn IoStream> = match network.as_str() {
                "unix" => Box::new(tokio::net::UnixStream::connect(&address).await?),
                "tcp" => Box::new(tokio::net::TcpStream::connect(&address).await?),
                other => return Err(io::Error::other(format!("network {other}"))),
            };
            let io: Box<dyn IoStream> = match tls {
                None => io,
                Some(config) => {
                    let name = ServerName::try_from("localhost").unwrap();
                    let stream = tokio_rustls::TlsConnector::from(config)
                        .connect(name, io)
                        .await?;
                    Box::new(stream)
                }
            };
            Ok::<_, io::Error>(TokioIo::new(io))
        }
    });
    // The URI is only a placeholder: the connector decides where to go.
    Endpoint::from_static("http://localhost")
        .connect_timeout(Duration::from_secs(5))
        .connect_with_connector(connector)
        .await
}

trait IoStream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> IoStream for T {}

fn client_config(
    server: CertificateDer<'static>,
    cert: Option<&ClientCert>,
) -> rustls::ClientConfig {
    let provider = crypto_provider();
    let pinned = PinnedClientCert::new(server, provider.clone());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServer(pinned)));
    let mut config = match cert {
        Some(cert) => builder
            .with_client_auth_cert(
                vec![cert.der.clone()],
                PrivateKeyDer::Pkcs8(cert.key.clone_key()),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    config
}

/// Trusts exactly the certificate from the handshake line, as go-plugin's client does (it
/// makes that certificate the only root). The check is the provider's own pinning verifier,
/// [`PinnedClientCert`] (the same DER byte for byte, the handshake signature verified with the
/// provider's crypto provider), seen from the client's side: rustls names the two roles'
/// traits differently, so this only forwards.
#[derive(Debug)]
struct PinnedServer(PinnedClientCert);

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.0
            .verify_client_cert(end_entity, intermediates, now)
            .map(|_| ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}
