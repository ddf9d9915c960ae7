//! The instance secret (`CUSTODIAN_KEY_FILE`): 32 random bytes, base64, in a file only its owner
//! reads. From it come three keys, each for one purpose: the HMAC that names erasure subjects
//! (E19), the AEAD key that seals an erasure's working copy of plaintext identifiers until the
//! request ends, and the Ed25519 key that signs erasure receipts (E18).

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::governance::audit::{PublicKey, SigningKey};

type HmacSha256 = Hmac<Sha256>;

pub struct Keys {
    subject: [u8; 32],
    seal: [u8; 32],
    receipts: SigningKey,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keys(receipts {})", self.receipts.public_key())
    }
}

fn derive(secret: &[u8], label: &str) -> [u8; 32] {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(label.as_bytes());
    mac.finalize().into_bytes().into()
}

#[derive(Debug, thiserror::Error)]
#[error("the sealed working copy cannot be opened (wrong key file, or altered)")]
pub struct SealError;

impl Keys {
    pub fn from_secret(secret: &[u8]) -> Self {
        Self {
            subject: derive(secret, "custodian/erasure-subject/v1"),
            seal: derive(secret, "custodian/erasure-seal/v1"),
            receipts: SigningKey::from_seed(derive(secret, "custodian/erasure-receipt/v1")),
        }
    }

    /// Reads the key file, creating it with a new random secret when it does not exist.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let secret = BASE64
                    .decode(text.trim())
                    .with_context(|| format!("{} does not hold a base64 key", path.display()))?;
                anyhow::ensure!(secret.len() >= 32, "{} holds fewer than 32 bytes", path.display());
                Ok(Self::from_secret(&secret))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut secret = [0u8; 32];
                getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no randomness for the key file: {e}"))?;
                write_private_file(path, &BASE64.encode(secret))?;
                tracing::warn!(path = %path.display(), "created a new instance key file; back it up, and give every instance the same one");
                Ok(Self::from_secret(&secret))
            }
            Err(e) => Err(e).with_context(|| format!("cannot read the key file {}", path.display())),
        }
    }

    /// The keyed HMAC (hex) that names a subject: equal identifiers give equal names, and the
    /// name reveals nothing without the key.
    pub fn subject_hmac(&self, identifier_type: &str, normalised: &str) -> String {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.subject).expect("HMAC takes any key length");
        mac.update(identifier_type.as_bytes());
        mac.update(&[0]);
        mac.update(normalised.as_bytes());
        mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Encrypts `plaintext` (ChaCha20-Poly1305, random nonce): base64 of nonce and ciphertext.
    pub fn seal(&self, plaintext: &[u8]) -> String {
        let cipher = ChaCha20Poly1305::new((&self.seal).into());
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let mut out = nonce.to_vec();
        out.extend(cipher.encrypt(&nonce, plaintext).expect("encryption of a small buffer"));
        BASE64.encode(out)
    }

    pub fn unseal(&self, sealed: &str) -> Result<Vec<u8>, SealError> {
        let bytes = BASE64.decode(sealed.trim()).map_err(|_| SealError)?;
        if bytes.len() < 12 {
            return Err(SealError);
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let cipher = ChaCha20Poly1305::new((&self.seal).into());
        cipher.decrypt(Nonce::from_slice(nonce), ciphertext).map_err(|_| SealError)
    }

    pub fn receipt_key(&self) -> &SigningKey {
        &self.receipts
    }

    pub fn receipt_public_key(&self) -> PublicKey {
        self.receipts.public_key()
    }
}

/// Writes `text` and a newline to a new file only its owner may read (mode 0600 on Unix); an
/// existing file is never replaced.
pub fn write_private_file(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {} (an existing key is never overwritten)", path.display()))?;
    writeln!(file, "{text}").and_then(|()| file.sync_all()).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealing_round_trips_and_detects_tampering() {
        let keys = Keys::from_secret(&[7u8; 32]);
        let sealed = keys.seal(b"alice@example.com");
        assert!(!sealed.contains("alice"));
        assert_eq!(keys.unseal(&sealed).unwrap(), b"alice@example.com");
        let other = Keys::from_secret(&[8u8; 32]);
        assert!(other.unseal(&sealed).is_err());
        assert_ne!(keys.seal(b"x"), keys.seal(b"x"), "a fresh nonce each time");
    }

    #[test]
    fn subject_names_are_keyed_and_typed() {
        let keys = Keys::from_secret(&[7u8; 32]);
        let a = keys.subject_hmac("email", "a@example.com");
        assert_eq!(a, keys.subject_hmac("email", "a@example.com"));
        assert_ne!(a, keys.subject_hmac("customer_id", "a@example.com"));
        assert_ne!(a, Keys::from_secret(&[8u8; 32]).subject_hmac("email", "a@example.com"));
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn a_missing_key_file_is_created_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let first = Keys::load_or_create(&path).unwrap();
        let again = Keys::load_or_create(&path).unwrap();
        assert_eq!(first.subject_hmac("email", "x"), again.subject_hmac("email", "x"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
