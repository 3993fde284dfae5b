//! Secrets at rest: the embedder's [`Sealer`] seals the LLM keys and the secret registry's values
//! into one blob in `base_state.json`; nothing secret is ever written in plaintext.
//!
//! The blob is bound to the parts of the state that decide where the secrets go (the agent with
//! its LLM's URL, the workspace, the limits and policies): `base_state.json` lies where the
//! conversation's own agent can rewrite it, so a state whose binding no longer matches loads
//! without its secrets rather than send the user's key to a `base_url` the agent chose.

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
    /// The LLM's extra headers (they often carry credentials; the state shows names only).
    #[serde(default)]
    pub llm_extra_headers: Option<serde_json::Map<String, serde_json::Value>>,
    pub condenser_api_key: Option<String>,
    pub secrets: BTreeMap<String, String>,
    /// [`binding`] of the state the secrets were sealed with (absent in older blobs).
    #[serde(default)]
    pub binding: Option<String>,
}

/// SHA-256 over the parts of the state that decide where secrets go.
fn binding(state: &ConversationState) -> String {
    use sha2::{Digest, Sha256};
    let bound = serde_json::json!([
        state.agent,
        state.workspace,
        state.max_iterations,
        state.confirmation_policy,
        state.security_analyzer,
    ]);
    format!(
        "{:x}",
        Sha256::digest(serde_json::to_vec(&bound).unwrap_or_default())
    )
}

/// What a conversation directory's sealed blob holds, or nothing when it cannot be opened — or,
/// with `check_binding`, when the state around it was changed outside the server.
pub(super) fn unseal(
    options: &EngineOptions,
    state: &ConversationState,
    dir: &Path,
    check_binding: bool,
) -> SealedSecrets {
    match (&options.sealer, &state.sealed_secrets) {
        (Some(sealer), Some(blob)) => match sealer
            .open(blob)
            .and_then(|b| serde_json::from_slice::<SealedSecrets>(&b).ok())
        {
            Some(s)
                if check_binding && s.binding.as_ref().is_some_and(|b| *b != binding(state)) =>
            {
                tracing::warn!(dir = %dir.display(), "the stored state was changed outside the server; its secrets are withheld until they are given again");
                SealedSecrets::default()
            }
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
        let bound = binding(&self.data().state);
        let sealed = SealedSecrets {
            binding: Some(bound),
            llm_api_key: self.inner.llm.config().api_key.clone(),
            llm_extra_headers: self.inner.llm.config().extra_headers.clone(),
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
