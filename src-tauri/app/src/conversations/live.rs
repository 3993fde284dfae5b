//! A followed conversation's live connection to its sandbox: the event bridge that mirrors it,
//! and one client for the sandbox's agent-server (the session key read once, one HTTP client),
//! kept while the bridge runs and the sandbox is the same.

use std::collections::HashMap;

use super::{ConversationError, ConversationService};
use crate::agent_client::AgentClient;
use crate::bridge::Following;

pub(super) struct Live {
    following: Following,
    client: AgentClient,
    sandbox_id: String,
    agent_url: String,
}

impl Live {
    fn serves(&self, sandbox: &crate::sandbox::Sandbox) -> bool {
        !self.following.is_finished()
            && self.sandbox_id == sandbox.id
            && self.agent_url == sandbox.agent_url
    }
}

impl ConversationService {
    pub(super) async fn follow_in(
        &self,
        id: &str,
        sandbox: &crate::sandbox::Sandbox,
    ) -> Result<AgentClient, ConversationError> {
        if let Some(live) = self.lock_follows().get(id)
            && live.serves(sandbox)
        {
            return Ok(live.client.clone());
        }
        let key = self.inner.sandboxes.session_key(&sandbox.id).await?;
        // Started by another Berth process on this home, it may call an address not served here.
        if let Err(e) = self.inner.starts.gateway().serve_sandbox(&sandbox.id).await {
            tracing::warn!(conversation = %id, error = %e, "the sandbox cannot reach its LLM through this app");
        }
        let client = AgentClient::new(&sandbox.agent_url, &key);
        let mut follows = self.lock_follows();
        // Another caller may have connected meanwhile: one bridge per conversation.
        if let Some(live) = follows.get(id)
            && live.serves(sandbox)
        {
            return Ok(live.client.clone());
        }
        follows.insert(
            id.to_string(),
            Live {
                following: self.inner.bridge.follow(id, &sandbox.agent_url, &key),
                client: client.clone(),
                sandbox_id: sandbox.id.clone(),
                agent_url: sandbox.agent_url.clone(),
            },
        );
        Ok(client)
    }

    pub(super) fn lock_follows(&self) -> std::sync::MutexGuard<'_, HashMap<String, Live>> {
        self.inner.follows.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn forget_follow(&self, id: &str) {
        self.lock_follows().remove(id);
    }
}
