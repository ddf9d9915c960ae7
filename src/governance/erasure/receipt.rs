//! E18: the receipt of a finished request — its targets, actions, counts, verification
//! results, exceptions, recipients and audit positions — signed with Ed25519 so anyone holding
//! the public key can check it offline. It names the subject only by the request's keyed HMAC.
//!
//! The file is JSON: `{"format", "body", "public_key", "signature"}`, where `body` is the
//! receipt's own JSON as a string and the signature covers exactly its bytes. Purge receipts
//! (`governance::retention`) use the same file with their own format.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

use crate::governance::audit::{PublicKey, SigningKey};

pub const FORMAT: &str = "custodian.erasure_receipt.v1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub request_id: i64,
    pub identifier_type: String,
    /// The keyed HMAC of the normalised identifier: matches the request, reveals nothing.
    pub subject_hmac: String,
    pub received_on: String,
    pub due_on: String,
    pub outcome: String,
    pub finished_at: String,
    pub targets: Vec<TargetResult>,
    pub exceptions: Vec<Exception>,
    pub recipients: Vec<RecipientResult>,
    /// The first and last audit events of the request.
    pub audit_from: i64,
    pub audit_to: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetResult {
    pub source: String,
    pub table: String,
    pub action: String,
    pub rows: i64,
    /// Rows (or unmasked values) the verification query still found: 0 for a finished step.
    pub remaining: Option<i64>,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exception {
    pub table: String,
    pub basis: String,
    pub rows: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientResult {
    pub recipient: String,
    pub status: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    format: String,
    body: String,
    public_key: String,
    signature: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    #[error("the receipt is not readable: {0}")]
    Malformed(String),
    #[error("the receipt was signed by key {signed_by}, not by the trusted key")]
    WrongKey { signed_by: String },
    #[error("the receipt's signature is not valid: it was altered after signing")]
    BadSignature,
}

impl Receipt {
    /// The signed receipt file's text.
    pub fn sign(&self, key: &SigningKey) -> String {
        sign_document(FORMAT, self, key)
    }

    /// Checks a receipt file against the trusted public key and returns what it says.
    pub fn verify(text: &str, trusted: &PublicKey) -> Result<Receipt, ReceiptError> {
        verify_document(FORMAT, text, trusted)
    }
}

/// The `format` a receipt file declares (erasure or retention), to pick how to read it.
pub fn format_of(text: &str) -> Result<String, ReceiptError> {
    let file: File = serde_json::from_str(text).map_err(|e| ReceiptError::Malformed(e.to_string()))?;
    Ok(file.format)
}

/// Signs `body` as a receipt file of `format`: the body's JSON as a string, the signer's public
/// key and the Ed25519 signature over exactly the body's bytes.
pub fn sign_document<T: Serialize>(format: &str, body: &T, key: &SigningKey) -> String {
    let body = serde_json::to_string(body).unwrap_or_default();
    let signature = key.sign_bytes(body.as_bytes());
    let file = File {
        format: format.into(),
        body,
        public_key: key.public_key().to_base64(),
        signature: BASE64.encode(signature),
    };
    let mut text = serde_json::to_string_pretty(&file).unwrap_or_default();
    text.push('\n');
    text
}

/// Checks a receipt file of `format` against the trusted public key and returns its body.
pub fn verify_document<T: serde::de::DeserializeOwned>(
    format: &str,
    text: &str,
    trusted: &PublicKey,
) -> Result<T, ReceiptError> {
    let malformed = |e: String| ReceiptError::Malformed(e);
    let file: File = serde_json::from_str(text).map_err(|e| malformed(e.to_string()))?;
    if file.format != format {
        return Err(malformed(format!("format {:?} is not {format:?}", file.format)));
    }
    if file.public_key.trim() != trusted.to_base64() {
        return Err(ReceiptError::WrongKey { signed_by: file.public_key });
    }
    let signature = BASE64.decode(file.signature.trim()).map_err(|e| malformed(format!("signature: {e}")))?;
    let signature: [u8; 64] =
        signature.as_slice().try_into().map_err(|_| malformed("the signature is not 64 bytes".into()))?;
    if !trusted.verifies(file.body.as_bytes(), &signature) {
        return Err(ReceiptError::BadSignature);
    }
    serde_json::from_str(&file.body).map_err(|e| malformed(format!("body: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt() -> Receipt {
        Receipt {
            request_id: 7,
            identifier_type: "email".into(),
            subject_hmac: "h".into(),
            received_on: "2026-11-27".into(),
            due_on: "2026-12-27".into(),
            outcome: "completed".into(),
            finished_at: "2026-11-27T12:00:00Z".into(),
            targets: vec![TargetResult {
                source: "shop".into(),
                table: "main.customers".into(),
                action: "delete".into(),
                rows: 1,
                remaining: Some(0),
                status: "done".into(),
            }],
            exceptions: vec![],
            recipients: vec![],
            audit_from: 10,
            audit_to: 20,
        }
    }

    #[test]
    fn a_signed_receipt_verifies_and_any_change_is_detected() {
        let key = SigningKey::generate();
        let text = receipt().sign(&key);
        assert_eq!(Receipt::verify(&text, &key.public_key()).unwrap(), receipt());

        let tampered = text.replace("\\\"rows\\\":1", "\\\"rows\\\":0");
        assert_ne!(tampered, text);
        assert!(matches!(Receipt::verify(&tampered, &key.public_key()), Err(ReceiptError::BadSignature)));

        let other = SigningKey::generate();
        assert!(matches!(Receipt::verify(&text, &other.public_key()), Err(ReceiptError::WrongKey { .. })));
        assert!(matches!(Receipt::verify("{}", &key.public_key()), Err(ReceiptError::Malformed(_))));
    }
}
