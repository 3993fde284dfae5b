//! Seals secrets at rest with ChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`, audited and
//! widely used), keyed by SHA-256 of the server's secret key. A blob is `base64(nonce ‖ ciphertext)`.

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use sha2::{Digest, Sha256};

pub struct ChaChaSealer {
    cipher: ChaCha20Poly1305,
}

impl ChaChaSealer {
    pub fn new(secret_key: &str) -> Self {
        let digest = Sha256::digest(secret_key.as_bytes());
        Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&digest)),
        }
    }
}

impl berth_agent::Sealer for ChaChaSealer {
    fn seal(&self, plaintext: &[u8]) -> String {
        let nonce_bytes: [u8; 12] = rand::random();
        let nonce = Nonce::from_slice(&nonce_bytes);
        let sealed = self.cipher.encrypt(nonce, plaintext).unwrap_or_default();
        let mut blob = nonce_bytes.to_vec();
        blob.extend(sealed);
        base64::engine::general_purpose::STANDARD.encode(blob)
    }

    fn open(&self, sealed: &str) -> Option<Vec<u8>> {
        let blob = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .ok()?;
        if blob.len() < 12 {
            return None;
        }
        let (nonce, data) = blob.split_at(12);
        self.cipher.decrypt(Nonce::from_slice(nonce), data).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_agent::Sealer;

    #[test]
    fn round_trip_and_wrong_key() {
        let s = ChaChaSealer::new("k1");
        let blob = s.seal(b"sk-secret");
        assert!(!blob.contains("sk-secret"));
        assert_eq!(s.open(&blob).as_deref(), Some(&b"sk-secret"[..]));
        assert_eq!(ChaChaSealer::new("k2").open(&blob), None);
        assert_eq!(s.open("garbage"), None);
    }
}
