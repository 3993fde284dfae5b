//! The event bridge: for each live conversation, follow the agent-server's event socket, store
//! each event in the mirror exactly once (by id), and publish it to the app's subscribers. After
//! a disconnect or an app restart it reconnects and catches up from the agent-server's log, so
//! the mirror has no gaps and no duplicates: the socket is subscribed first, then the REST log is
//! read, and whatever arrives twice is stored once.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use berth_protocol::Event;
use futures::{SinkExt, StreamExt};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message as Ws;

use crate::agent_client::{AgentClient, ClientError};
use crate::mirror::EventMirror;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// (conversation id, event) as the UI layer receives them.
pub type Update = (String, Event);

#[derive(Clone)]
pub struct EventBridge {
    mirror: EventMirror,
    updates: broadcast::Sender<Update>,
    /// Secrets the app holds and no sandbox knows (LLM keys stay in the app's gateway), so the
    /// agent-server cannot mask them: masked here, before an event is stored or shown.
    secrets: Arc<RwLock<Vec<String>>>,
}

/// What a masked secret becomes, as the agent-server writes it.
const HIDDEN: &str = "<secret-hidden>";

/// Shorter values would mask ordinary words.
const MIN_MASKED_LEN: usize = 8;

/// Stops following when dropped.
pub struct Following(JoinHandle<()>);

impl Following {
    pub fn is_finished(&self) -> bool {
        self.0.is_finished()
    }
}

impl Drop for Following {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl EventBridge {
    pub fn new(mirror: EventMirror) -> Self {
        let (updates, _) = broadcast::channel(4096);
        Self {
            mirror,
            updates,
            secrets: Arc::default(),
        }
    }

    /// Masks `value` in every event from now on.
    pub fn mask(&self, value: &str) {
        if value.len() < MIN_MASKED_LEN {
            return;
        }
        let mut secrets = self.secrets.write().unwrap_or_else(|e| e.into_inner());
        if !secrets.iter().any(|s| s == value) {
            secrets.push(value.to_string());
            // Longest first, so a secret that contains another is masked whole.
            secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// The event with every registered secret masked (as it appears in its JSON).
    fn masked(&self, event: Event) -> Event {
        let secrets = self.secrets.read().unwrap_or_else(|e| e.into_inner());
        if secrets.is_empty() {
            return event;
        }
        let Ok(mut text) = serde_json::to_string(&event) else {
            return event;
        };
        let mut changed = false;
        for secret in secrets.iter() {
            let quoted = serde_json::to_string(secret).unwrap_or_default();
            let escaped = quoted.trim_matches('"');
            if !escaped.is_empty() && text.contains(escaped) {
                text = text.replace(escaped, HIDDEN);
                changed = true;
            }
        }
        if !changed {
            return event;
        }
        match serde_json::from_str(&text) {
            Ok(masked) => masked,
            Err(e) => {
                tracing::warn!(error = %e, "a masked event no longer decodes; it is kept masked as text");
                let mut fallback = event;
                let mut body = serde_json::Map::new();
                body.insert("kind".into(), "MaskedEvent".into());
                fallback.body = berth_protocol::EventBody::Other(body);
                fallback
            }
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Update> {
        self.updates.subscribe()
    }

    pub fn mirror(&self) -> &EventMirror {
        &self.mirror
    }

    /// Stores the events of the agent-server's log that the mirror lacks. Returns how many.
    pub async fn catch_up(
        &self,
        client: &AgentClient,
        conversation_id: &str,
    ) -> Result<usize, BridgeError> {
        let mut added = 0;
        for e in client.events(conversation_id).await? {
            let e = self.masked(e);
            if self.mirror.insert(conversation_id, &e)? {
                added += 1;
                let _ = self.updates.send((conversation_id.to_string(), e));
            }
        }
        Ok(added)
    }

    /// Follows a conversation until it is deleted, the key stops working, or the handle drops.
    pub fn follow(&self, conversation_id: &str, agent_url: &str, key: &str) -> Following {
        let bridge = self.clone();
        let (id, url, key) = (
            conversation_id.to_string(),
            agent_url.to_string(),
            key.to_string(),
        );
        Following(tokio::spawn(
            async move { bridge.run(&id, &url, &key).await },
        ))
    }

    async fn run(&self, id: &str, url: &str, key: &str) {
        let client = AgentClient::new(url, key);
        let ws_url = format!("{}/sockets/events/{id}", url.replacen("http", "ws", 1));
        let mut delay = Duration::from_millis(200);
        loop {
            match self.session(&client, id, &ws_url, key).await {
                Ok(Some(code)) => {
                    tracing::info!(conversation = %id, code, "the agent-server closed the event socket for good");
                    return;
                }
                Ok(None) => delay = Duration::from_millis(200),
                Err(e) => {
                    tracing::debug!(conversation = %id, error = %e, "event socket lost; reconnecting")
                }
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }

    /// One socket session. `Ok(Some(code))` for a close that must not be retried (4001, 4004).
    async fn session(
        &self,
        client: &AgentClient,
        id: &str,
        ws_url: &str,
        key: &str,
    ) -> Result<Option<u16>, String> {
        let (mut socket, _) = tokio_tungstenite::connect_async(ws_url)
            .await
            .map_err(|e| e.to_string())?;
        let auth = serde_json::json!({"type": "auth", "session_api_key": key}).to_string();
        socket
            .send(Ws::Text(auth.into()))
            .await
            .map_err(|e| e.to_string())?;
        // The server subscribes us once it has read the key, then sends its state snapshot:
        // after that first frame nothing emitted is missed, so the log read next leaves no gap,
        // and the socket's copies of logged events are stored once, in the log's order.
        let first = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .ok()
            .flatten();
        self.catch_up(client, id).await.map_err(|e| e.to_string())?;
        let mut next = first;
        while let Some(frame) = next {
            match frame.map_err(|e| e.to_string())? {
                Ws::Text(text) => self.receive(id, &text).map_err(|e| e.to_string())?,
                Ws::Close(frame) => {
                    let code = frame.map(|f| u16::from(f.code));
                    return Ok(code.filter(|c| *c == 4001 || *c == 4004));
                }
                _ => {}
            }
            next = socket.next().await;
        }
        Ok(None)
    }

    /// One socket frame: stored once if it is a logged event, published if new or transient.
    fn receive(&self, id: &str, text: &str) -> Result<(), StoreError> {
        let event = match serde_json::from_str::<Event>(text) {
            Ok(event) => event,
            Err(e) => {
                // The log read at the next connection leaves it out too, and says so.
                tracing::warn!(conversation = %id, error = %e, "left out a socket frame the app cannot read");
                return Ok(());
            }
        };
        let event = self.masked(event);
        let new = self.mirror.insert(id, &event)?;
        if new || event.is_transient() {
            let _ = self.updates.send((id.to_string(), event));
        }
        Ok(())
    }
}
