//! AutoMTLS: the server certificate we generate for each run and the client-certificate pinning.
//!
//! Terraform hands us its client certificate in `PLUGIN_CLIENT_CERT` and trusts exactly the server
//! certificate we print in the handshake line. Its certificate is a self-signed ECDSA P-521 CA
//! certificate presented as an end entity, which webpki path validation refuses, so we do not
//! validate a path at all: the only acceptable client is the one whose DER equals the pinned DER,
//! and it must prove possession of the key (the handshake signature, checked with the aws-lc-rs
//! provider, which - unlike ring - verifies P-521).
//!
//! Our own certificate must pass Go's verifier with itself as the only root: Go then demands a CA
//! certificate (basic constraints, cert-sign key usage) valid for `localhost` and server auth.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SerialNumber,
};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};

use super::PluginError;

/// How long our certificate is valid. A provider lives for one Terraform run, but a `--debug`
/// provider may stay up for days; the certificate only has to outlive the process.
const CERT_LIFETIME: time::Duration = time::Duration::days(365);
/// Tolerates a parent whose clock is slightly behind ours.
const CLOCK_SKEW: time::Duration = time::Duration::minutes(5);

/// Our server certificate and its private key.
pub(crate) struct ServerIdentity {
    /// The certificate, DER.
    pub cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl std::fmt::Debug for ServerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerIdentity").finish_non_exhaustive()
    }
}

impl ServerIdentity {
    /// Generates a fresh self-signed certificate for `localhost`. P-256 rather than go-plugin's
    /// P-521: Go accepts both, and P-256 signs every handshake several times faster.
    pub fn generate() -> Result<Self, PluginError> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::new(vec!["localhost".to_owned()])?;
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "sshkey provider");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - CLOCK_SKEW;
        params.not_after = now + CERT_LIFETIME;
        // A positive 16-byte serial: the top bit cleared keeps the DER integer positive.
        let mut serial: [u8; 16] = rand::random();
        serial[0] &= 0x7f;
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        let cert = params.self_signed(&key)?;
        Ok(Self {
            cert: cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }
}

/// The crypto provider for both ends: aws-lc-rs, for P-521.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Parses the first certificate of a PEM document (the `PLUGIN_CLIENT_CERT` value).
pub(crate) fn parse_client_cert(pem: &str) -> Result<CertificateDer<'static>, PluginError> {
    CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| PluginError::ClientCert {
        detail: e.to_string(),
    })
}

/// The rustls server configuration: our identity, the pinned client, ALPN `h2` (grpc-go 1.67 and
/// later refuse a TLS server that does not negotiate it).
pub(crate) fn server_config(
    identity: &ServerIdentity,
    client: CertificateDer<'static>,
) -> Result<rustls::ServerConfig, PluginError> {
    let provider = crypto_provider();
    let verifier = Arc::new(PinnedClientCert::new(client, provider.clone()));
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![identity.cert.clone()],
            PrivateKeyDer::Pkcs8(identity.key.clone_key()),
        )?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// Accepts exactly one client certificate, byte for byte, and checks the handshake signature
/// against it.
#[derive(Debug)]
pub struct PinnedClientCert {
    pinned: CertificateDer<'static>,
    provider: Arc<CryptoProvider>,
}

impl PinnedClientCert {
    /// Pins `pinned`; signatures are verified with `provider`'s algorithms.
    pub fn new(pinned: CertificateDer<'static>, provider: Arc<CryptoProvider>) -> Self {
        Self { pinned, provider }
    }
}

impl ClientCertVerifier for PinnedClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.pinned.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            tracing::warn!("refused a TLS client whose certificate is not the one Terraform gave");
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p521_cert() -> (CertificateDer<'static>, KeyPair) {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).unwrap();
        (cert.der().clone(), key)
    }

    fn now() -> UnixTime {
        UnixTime::now()
    }

    #[test]
    fn pinned_cert_is_accepted() {
        let (cert, _) = p521_cert();
        let verifier = PinnedClientCert::new(cert.clone(), crypto_provider());
        assert!(verifier.verify_client_cert(&cert, &[], now()).is_ok());
        assert!(verifier.client_auth_mandatory());
        assert!(verifier.offer_client_auth());
    }

    #[test]
    fn another_cert_is_refused() {
        let (pinned, _) = p521_cert();
        let (other, _) = p521_cert();
        let verifier = PinnedClientCert::new(pinned, crypto_provider());
        let err = verifier.verify_client_cert(&other, &[], now()).unwrap_err();
        assert!(matches!(
            err,
            rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure)
        ));
    }

    #[test]
    fn p521_signatures_are_supported() {
        let (pinned, _) = p521_cert();
        let verifier = PinnedClientCert::new(pinned, crypto_provider());
        assert!(verifier
            .supported_verify_schemes()
            .contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
    }

    #[test]
    fn client_cert_pem_round_trips() {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
        let params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        let parsed = parse_client_cert(&cert.pem()).unwrap();
        assert_eq!(parsed.as_ref(), cert.der().as_ref());
        assert!(matches!(
            parse_client_cert("not a pem"),
            Err(PluginError::ClientCert { .. })
        ));
    }

    #[test]
    fn server_identity_is_a_localhost_ca() {
        let identity = ServerIdentity::generate().unwrap();
        let (client, _) = p521_cert();
        let config = server_config(&identity, client).unwrap();
        assert_eq!(config.alpn_protocols, vec![b"h2".to_vec()]);
        // The DER carries the basic-constraints CA flag Go requires of a root (SEQUENCE {
        // BOOLEAN TRUE }); rcgen's parser needs x509-parser, which we do not enable.
        let ca_flag = [0x30, 0x03, 0x01, 0x01, 0xff];
        assert!(identity
            .cert
            .as_ref()
            .windows(ca_flag.len())
            .any(|w| w == ca_flag));
        assert!(identity
            .cert
            .as_ref()
            .windows(b"localhost".len())
            .any(|w| w == b"localhost"));
    }
}
