//! Secrets at rest: the embedder's [`Sealer`] seals the LLM keys and the secret registry's values
//! into one blob in `base_state.json`; nothing secret is ever written in plaintext.

use std::collections::BTreeMap;
use std::path::Path;

use super::{Conversation, ConversationState, EngineOptions};

/// Seals secrets for storage at rest (the embedder picks the key and the cipher).
pub trait Sealer: Send + Sync {
    fn seal(&self, plaintext: &[u8]) -> String;
    /// `None` when the blob was sealed with another key or is corrupt.
    fn open(&self, sealed: &str) -> Option<Vec<u8>>;
}

/// What is sealed: the LLM keys and the secret registry's values.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct SealedSecrets {
    pub llm_api_key: Option<String>,
    pub condenser_api_key: Option<String>,
    pub secrets: BTreeMap<String, String>,
}

/// What a conversation directory's sealed blob holds, or nothing when it cannot be opened.
pub(super) fn unseal(
    options: &EngineOptions,
    state: &ConversationState,
    dir: &Path,
) -> SealedSecrets {
    match (&options.sealer, &state.sealed_secrets) {
        (Some(sealer), Some(blob)) => match sealer
            .open(blob)
            .and_then(|b| serde_json::from_slice(&b).ok())
        {
            Some(s) => s,
            None => {
                tracing::warn!(dir = %dir.display(), "the stored secrets could not be unsealed (another key?); they must be given again");
                SealedSecrets::default()
            }
        },
        _ => SealedSecrets::default(),
    }
}

impl Conversation {
    /// Refreshes the sealed copy of the secrets (when a sealer is configured).
    pub(super) fn reseal(&self) {
        let Some(sealer) = &self.inner.options.sealer else {
            return;
        };
        let sealed = SealedSecrets {
            llm_api_key: self.inner.llm.config().api_key.clone(),
            condenser_api_key: self
                .inner
                .condenser
                .as_ref()
                .and_then(|c| c.llm.config().api_key.clone()),
            secrets: self.inner.tool_ctx.secrets.values(),
        };
        let json = serde_json::to_vec(&sealed).unwrap_or_default();
        self.data().state.sealed_secrets = Some(sealer.seal(&json));
    }
}
