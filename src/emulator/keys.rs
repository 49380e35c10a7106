//! SSH key material: generation for CreateKeyPair, parsing for ImportKeyPair, fingerprints.
//!
//! Generated keys are RSA 2048, as the clouds generate them, and the private key comes back in
//! each cloud's own format ([`PrivateKeyFormat`]): ECS an RSA private key in PEM (PKCS#1), ENS
//! PKCS#8 PEM (its documents say so), CVM an OpenSSH private key. Each loads in `ssh-keygen -y`,
//! OpenSSL 3 and Python `cryptography`. RSA generation takes about 100 ms and CreateKeyPair runs
//! under the store's lock, so keys come from a pool that a background thread keeps filled once
//! the first one is asked for; when creation outpaces it, a key handed out before is handed out
//! again (see [`take_rsa`]).
//!
//! The fingerprint is what Alibaba reports as `KeyPairFingerPrint`: MD5 of the public key blob,
//! lower-case hex in colon-separated pairs. CVM reports no fingerprint.

use std::sync::{Condvar, Mutex, OnceLock};

use base64::Engine as _;

use crate::cloud::public_key::{md5_fingerprint, parse_public_key};

/// How a cloud returns the private half of a key it generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrivateKeyFormat {
    /// `-----BEGIN RSA PRIVATE KEY-----` (PKCS#1).
    RsaPem,
    /// `-----BEGIN PRIVATE KEY-----` (PKCS#8).
    Pkcs8Pem,
    /// `-----BEGIN OPENSSH PRIVATE KEY-----` (openssh-key-v1, unencrypted).
    OpenSsh,
}

/// A generated key pair.
#[derive(Debug, Clone)]
pub struct Generated {
    /// `ssh-rsa AAAA...` (no comment).
    pub public_openssh: String,
    /// The private key in the cloud's format.
    pub private_pem: String,
    /// MD5 fingerprint of the public blob.
    pub fingerprint: String,
}

/// Why key generation or parsing failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The system random generator or RSA generation failed.
    #[error("key generation failed")]
    Generation,
    /// The text is not an OpenSSH public key.
    #[error("not an OpenSSH public key: {0}")]
    Malformed(String),
}

/// The parts of an RSA private key, as unsigned big-endian integers with a leading zero byte
/// where the top bit is set (which is both DER's and SSH's `mpint` encoding).
#[derive(Debug, Clone)]
struct RsaParts {
    pkcs8: Vec<u8>,
    pkcs1: Vec<u8>,
    n: Vec<u8>,
    e: Vec<u8>,
    d: Vec<u8>,
    p: Vec<u8>,
    q: Vec<u8>,
    qinv: Vec<u8>,
}

/// Fresh keys kept ready by one background thread, started by the first CreateKeyPair.
const READY: usize = 16;
/// Keys handed out so far that may be handed out again when creation outpaces generation.
const REUSABLE: usize = 256;

#[derive(Default)]
struct Keys {
    ready: Vec<RsaParts>,
    handed_out: Vec<RsaParts>,
    reused: usize,
}

struct Pool {
    keys: Mutex<Keys>,
    wanted: Condvar,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let _ = std::thread::Builder::new()
            .name("rsa-pool".into())
            .spawn(fill_pool);
        Pool {
            keys: Mutex::new(Keys::default()),
            wanted: Condvar::new(),
        }
    })
}

fn fill_pool() {
    let pool = pool();
    loop {
        {
            let mut keys = pool.keys.lock().unwrap_or_else(|p| p.into_inner());
            while keys.ready.len() >= READY {
                keys = pool.wanted.wait(keys).unwrap_or_else(|p| p.into_inner());
            }
        }
        match new_rsa() {
            Ok(k) => pool
                .keys
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .ready
                .push(k),
            Err(_) => return,
        }
    }
}

/// A fresh key when one is ready; otherwise one handed out before (RSA 2048 generation takes
/// about 100 ms, and a benchmark creates 1000 keys in seconds); a new one only when there is
/// none at all. A real cloud never repeats a key: this is the emulator's one shortcut.
fn take_rsa() -> Result<RsaParts, KeyError> {
    let pool = pool();
    let taken = {
        let mut keys = pool.keys.lock().unwrap_or_else(|p| p.into_inner());
        match keys.ready.pop() {
            Some(k) => {
                if keys.handed_out.len() < REUSABLE {
                    keys.handed_out.push(k.clone());
                }
                Some(k)
            }
            None if !keys.handed_out.is_empty() => {
                keys.reused += 1;
                let i = keys.reused % keys.handed_out.len();
                Some(keys.handed_out[i].clone())
            }
            None => None,
        }
    };
    pool.wanted.notify_one();
    match taken {
        Some(k) => Ok(k),
        None => new_rsa(),
    }
}

fn new_rsa() -> Result<RsaParts, KeyError> {
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::{KeyPair, KeySize};
    let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generation)?;
    let der = pair.as_der().map_err(|_| KeyError::Generation)?;
    rsa_parts(der.as_ref()).ok_or(KeyError::Generation)
}

/// Splits a PKCS#8 RSA key into its PKCS#1 body and integers.
fn rsa_parts(pkcs8: &[u8]) -> Option<RsaParts> {
    // PrivateKeyInfo ::= SEQUENCE { version, algorithm, privateKey OCTET STRING }
    let (info, _) = der_take(pkcs8, 0x30)?;
    let (_, rest) = der_take(info, 0x02)?;
    let (_, rest) = der_take(rest, 0x30)?;
    let (pkcs1, _) = der_take(rest, 0x04)?;
    // RSAPrivateKey ::= SEQUENCE { version, n, e, d, p, q, dp, dq, qinv }
    let (mut fields, _) = der_take(pkcs1, 0x30)?;
    let mut ints = Vec::with_capacity(9);
    while !fields.is_empty() {
        let (v, rest) = der_take(fields, 0x02)?;
        ints.push(v.to_vec());
        fields = rest;
    }
    if ints.len() != 9 {
        return None;
    }
    Some(RsaParts {
        pkcs8: pkcs8.to_vec(),
        pkcs1: pkcs1.to_vec(),
        n: ints[1].clone(),
        e: ints[2].clone(),
        d: ints[3].clone(),
        p: ints[4].clone(),
        q: ints[5].clone(),
        qinv: ints[8].clone(),
    })
}

/// One DER element with tag `tag`: (its value, what follows it).
fn der_take(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&t, rest) = input.split_first()?;
    if t != tag {
        return None;
    }
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| acc << 8 | usize::from(*b));
        rest = &rest[n..];
        len
    };
    (rest.len() >= len).then(|| (&rest[..len], &rest[len..]))
}

/// Generates a key pair and renders its private half as `format`.
pub fn generate(format: PrivateKeyFormat) -> Result<Generated, KeyError> {
    let k = take_rsa()?;
    let mut blob = Vec::new();
    put_string(&mut blob, b"ssh-rsa");
    put_string(&mut blob, &k.e);
    put_string(&mut blob, &k.n);
    let private_pem = match format {
        PrivateKeyFormat::RsaPem => pem("RSA PRIVATE KEY", &k.pkcs1, 64),
        PrivateKeyFormat::Pkcs8Pem => pem("PRIVATE KEY", &k.pkcs8, 64),
        PrivateKeyFormat::OpenSsh => pem("OPENSSH PRIVATE KEY", &openssh_private(&k, &blob), 70),
    };
    Ok(Generated {
        public_openssh: format!(
            "ssh-rsa {}",
            base64::engine::general_purpose::STANDARD.encode(&blob)
        ),
        private_pem,
        fingerprint: md5_fingerprint(&blob),
    })
}

/// The openssh-key-v1 body of an unencrypted RSA key.
fn openssh_private(k: &RsaParts, public_blob: &[u8]) -> Vec<u8> {
    let check = rand::random::<u32>().to_be_bytes();
    let mut private = Vec::new();
    private.extend_from_slice(&check);
    private.extend_from_slice(&check);
    put_string(&mut private, b"ssh-rsa");
    for part in [&k.n, &k.e, &k.d, &k.qinv, &k.p, &k.q] {
        put_string(&mut private, part);
    }
    put_string(&mut private, b"");
    let mut pad = 1u8;
    while private.len() % 8 != 0 {
        private.push(pad);
        pad += 1;
    }
    let mut out = b"openssh-key-v1\0".to_vec();
    put_string(&mut out, b"none");
    put_string(&mut out, b"none");
    put_string(&mut out, b"");
    out.extend_from_slice(&1u32.to_be_bytes());
    put_string(&mut out, public_blob);
    put_string(&mut out, &private);
    out
}

fn pem(label: &str, der: &[u8], width: usize) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(width) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Parses an OpenSSH public key line (`type base64 [comment]`) and returns the normalized
/// `type base64` form and the blob's fingerprint, with the same rules the provider checks.
pub(crate) fn parse_public(text: &str) -> Result<(String, String), KeyError> {
    let key = parse_public_key(text).map_err(KeyError::Malformed)?;
    Ok((key.canonical(), key.md5_fingerprint()))
}

fn put_string(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORMATS: [PrivateKeyFormat; 3] = [
        PrivateKeyFormat::RsaPem,
        PrivateKeyFormat::Pkcs8Pem,
        PrivateKeyFormat::OpenSsh,
    ];

    #[test]
    fn generated_keys_parse_back() {
        for format in FORMATS {
            let g = generate(format).unwrap();
            assert!(g.public_openssh.starts_with("ssh-rsa AAAAB3NzaC1yc2E"));
            let (normalized, fp) = parse_public(&format!("{} me@host", g.public_openssh)).unwrap();
            assert_eq!(normalized, g.public_openssh);
            assert_eq!(fp, g.fingerprint);
            assert_eq!(fp.len(), 47);
            assert_ne!(
                new_rsa().unwrap().n,
                new_rsa().unwrap().n,
                "fresh keys differ"
            );
        }
    }

    #[test]
    fn each_format_has_its_armour() {
        for (format, label) in [
            (PrivateKeyFormat::RsaPem, "RSA PRIVATE KEY"),
            (PrivateKeyFormat::Pkcs8Pem, "PRIVATE KEY"),
            (PrivateKeyFormat::OpenSsh, "OPENSSH PRIVATE KEY"),
        ] {
            let g = generate(format).unwrap();
            assert!(
                g.private_pem
                    .starts_with(&format!("-----BEGIN {label}-----\n")),
                "{}",
                g.private_pem
            );
            assert!(g.private_pem.ends_with(&format!("-----END {label}-----\n")));
        }
    }

    /// The check that matters: OpenSSH itself derives our public key from each private key.
    /// Runs where `ssh-keygen` is installed (the SDK test checks the same with Python
    /// `cryptography` everywhere).
    #[test]
    fn ssh_keygen_loads_every_format() {
        let Ok(out) = std::process::Command::new("ssh-keygen").arg("-?").output() else {
            eprintln!("ssh-keygen not installed; the SDK test covers the formats");
            return;
        };
        let _ = out;
        let dir = tempfile::tempdir().unwrap();
        for format in FORMATS {
            let g = generate(format).unwrap();
            let path = dir.path().join("key");
            std::fs::write(&path, &g.private_pem).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            let derived = std::process::Command::new("ssh-keygen")
                .args(["-y", "-f"])
                .arg(&path)
                .output()
                .unwrap();
            assert!(
                derived.status.success(),
                "{format:?}: {}",
                String::from_utf8_lossy(&derived.stderr)
            );
            let text = String::from_utf8_lossy(&derived.stdout);
            assert_eq!(
                text.trim().split(' ').take(2).collect::<Vec<_>>().join(" "),
                g.public_openssh,
                "{format:?}"
            );
            // The fingerprint, derived by OpenSSH rather than by our own MD5 code.
            let public = dir.path().join("key.pub");
            std::fs::write(&public, format!("{} x\n", g.public_openssh)).unwrap();
            let listed = std::process::Command::new("ssh-keygen")
                .args(["-l", "-E", "md5", "-f"])
                .arg(&public)
                .output()
                .unwrap();
            let listed = String::from_utf8_lossy(&listed.stdout);
            assert!(
                listed.contains(&format!("MD5:{}", g.fingerprint)),
                "{format:?}: ssh-keygen says {listed}, we say {}",
                g.fingerprint
            );
        }
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_public("").is_err());
        assert!(parse_public("ssh-dss AAAA").is_err());
        assert!(parse_public("ssh-rsa !!!").is_err());
        // Valid base64 of an RSA blob announced as Ed25519.
        let g = generate(PrivateKeyFormat::RsaPem).unwrap();
        let data = g.public_openssh.split(' ').nth(1).unwrap();
        assert!(parse_public(&format!("ssh-ed25519 {data}")).is_err());
    }

    #[test]
    fn der_lengths() {
        assert_eq!(
            der_take(&[0x02, 0x01, 0x05], 0x02),
            Some((&[5u8][..], &[][..]))
        );
        assert_eq!(
            der_take(&[0x02, 0x81, 0x01, 0x07, 0xff], 0x02),
            Some((&[7u8][..], &[0xffu8][..]))
        );
        assert_eq!(der_take(&[0x02, 0x05, 0x01], 0x02), None, "short input");
        assert_eq!(der_take(&[0x30, 0x00], 0x02), None, "wrong tag");
    }

    #[test]
    fn fingerprint_format() {
        assert_eq!(
            md5_fingerprint(b""),
            "d4:1d:8c:d9:8f:00:b2:04:e9:80:09:98:ec:f8:42:7e"
        );
    }
}
