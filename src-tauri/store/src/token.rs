//! Random secrets the app makes: sandbox session keys, LLM gateway credentials, the sealing key,
//! web mode's launch token. One helper, so each has the same strength.

use base64::Engine;

/// 32 random bytes, URL-safe base64 without padding (43 characters).
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
