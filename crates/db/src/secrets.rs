//! Credentials at rest: AES-256-GCM with a random 96-bit nonce per value and the
//! owning row and column as associated data, so a ciphertext copied to another
//! store (or another column) fails to decrypt instead of authorizing the wrong
//! seller. Stored form: `v1:` + base64(nonce ‖ ciphertext ‖ tag); the version
//! prefix leaves room for key rotation.

use aes_gcm::aead::{Aead, Generate, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretBox, SecretString};

/// Length of the key in bytes.
pub const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
const PREFIX: &str = "v1:";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CipherError {
    #[error("the key must be {KEY_LEN} bytes, got {0}")]
    KeyLength(usize),
    #[error("the stored value is not in a format this version understands")]
    Format,
    #[error("wrong encryption key, or the stored value was altered or belongs to another row")]
    Authentication,
    #[error("the decrypted value is not UTF-8 text")]
    NotText,
}

/// Encrypts and decrypts the secrets of stores.
#[derive(Clone)]
pub struct Cipher {
    aead: Aes256Gcm,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher([redacted])")
    }
}

impl Cipher {
    pub fn new(key: &SecretBox<[u8; KEY_LEN]>) -> Self {
        let aead =
            Aes256Gcm::new_from_slice(key.expose_secret()).expect("a 32-byte key is the AES-256 key length");
        Self { aead }
    }

    /// A key from raw bytes of any length, refusing the wrong length.
    pub fn from_slice(key: &[u8]) -> Result<Self, CipherError> {
        let aead = Aes256Gcm::new_from_slice(key).map_err(|_| CipherError::KeyLength(key.len()))?;
        Ok(Self { aead })
    }

    /// A fresh random key.
    pub fn generate_key() -> SecretBox<[u8; KEY_LEN]> {
        let key = aes_gcm::Key::<Aes256Gcm>::generate();
        let mut bytes = [0u8; KEY_LEN];
        bytes.copy_from_slice(&key);
        SecretBox::new(Box::new(bytes))
    }

    /// Encrypts `plaintext`, bound to `context` (which row and column it belongs to).
    pub fn encrypt(&self, plaintext: &SecretString, context: &str) -> String {
        let nonce = Nonce::generate();
        let payload = Payload {
            msg: plaintext.expose_secret().as_bytes(),
            aad: context.as_bytes(),
        };
        let sealed = self
            .aead
            .encrypt(&nonce, payload)
            .expect("AES-GCM encryption fails only for inputs over 64 GiB");
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        format!("{PREFIX}{}", STANDARD.encode(out))
    }

    /// Decrypts a value made by [`Cipher::encrypt`] with the same `context`.
    pub fn decrypt(&self, stored: &str, context: &str) -> Result<SecretString, CipherError> {
        let body = stored.strip_prefix(PREFIX).ok_or(CipherError::Format)?;
        let raw = STANDARD.decode(body).map_err(|_| CipherError::Format)?;
        if raw.len() < NONCE_LEN + 16 {
            return Err(CipherError::Format);
        }
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).map_err(|_| CipherError::Format)?;
        let plain = self
            .aead
            .decrypt(
                &nonce,
                Payload {
                    msg: sealed,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CipherError::Authentication)?;
        let text = String::from_utf8(plain).map_err(|_| CipherError::NotText)?;
        Ok(SecretString::from(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn a_secret_round_trips() {
        let c = Cipher::new(&Cipher::generate_key());
        let sealed = c.encrypt(&secret("Atzr|refresh"), "amazon_stores/1/sp_api_refresh_token");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("Atzr"));
        let open = c
            .decrypt(&sealed, "amazon_stores/1/sp_api_refresh_token")
            .unwrap();
        assert_eq!(open.expose_secret(), "Atzr|refresh");
    }

    #[test]
    fn the_same_secret_encrypts_differently_each_time() {
        let c = Cipher::new(&Cipher::generate_key());
        assert_ne!(c.encrypt(&secret("x"), "ctx"), c.encrypt(&secret("x"), "ctx"));
    }

    #[test]
    fn a_wrong_key_is_an_authentication_error() {
        let sealed = Cipher::new(&Cipher::generate_key()).encrypt(&secret("x"), "ctx");
        let other = Cipher::new(&Cipher::generate_key());
        assert_eq!(
            other.decrypt(&sealed, "ctx").unwrap_err(),
            CipherError::Authentication
        );
    }

    #[test]
    fn a_tampered_value_is_an_authentication_error() {
        let c = Cipher::new(&Cipher::generate_key());
        let sealed = c.encrypt(&secret("refresh-token"), "ctx");
        let mut raw = STANDARD.decode(&sealed[3..]).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        let tampered = format!("v1:{}", STANDARD.encode(raw));
        assert_eq!(
            c.decrypt(&tampered, "ctx").unwrap_err(),
            CipherError::Authentication
        );
        assert_eq!(c.decrypt("v1:!!!", "ctx").unwrap_err(), CipherError::Format);
        assert_eq!(c.decrypt("plaintext", "ctx").unwrap_err(), CipherError::Format);
    }

    #[test]
    fn a_value_moved_to_another_row_does_not_decrypt() {
        let c = Cipher::new(&Cipher::generate_key());
        let sealed = c.encrypt(&secret("x"), "amazon_stores/1/sp_api_refresh_token");
        assert_eq!(
            c.decrypt(&sealed, "amazon_stores/2/sp_api_refresh_token")
                .unwrap_err(),
            CipherError::Authentication
        );
    }

    #[test]
    fn keys_of_the_wrong_length_are_refused() {
        assert_eq!(
            Cipher::from_slice(&[0u8; 16]).unwrap_err(),
            CipherError::KeyLength(16)
        );
    }
}
