//! Webhooks: every enabled URL in the settings receives conversation events as they are
//! mirrored, in batches (`POST {"conversation_id", "events": [...]}`, at most [`MAX_BATCH`] events
//! or [`BATCH_WINDOW`] apart), retried with exponential back-off when it fails. Every attempt is
//! recorded in `webhook_deliveries`; Settings shows the latest (`WebhookDeliveriesList`).

use std::collections::BTreeMap;
use std::time::Duration;

use berth_protocol::Event;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::broadcast;

use crate::bridge::{EventBridge, Update};
use crate::settings::SettingsService;
use crate::store::{Store, StoreError};
use crate::time::now;

pub const MAX_BATCH: usize = 100;
pub const BATCH_WINDOW: Duration = Duration::from_millis(500);
/// Attempts per batch and URL before it is given up (and recorded as such).
pub const MAX_ATTEMPTS: u32 = 6;

/// One recorded attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Delivery {
    pub url: String,
    pub conversation_id: String,
    pub first_event_id: String,
    pub events: usize,
    pub attempt: u32,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub delivered: bool,
    pub at: String,
}

#[derive(Clone)]
pub struct Webhooks {
    store: Store,
    settings: SettingsService,
    http: reqwest::Client,
    first_retry: Duration,
}

impl Webhooks {
    pub fn new(store: Store, settings: SettingsService) -> Self {
        Self {
            store,
            settings,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            first_retry: Duration::from_secs(1),
        }
    }

    /// The wait before the first retry (doubling after each failure).
    pub fn with_first_retry(mut self, delay: Duration) -> Self {
        self.first_retry = delay;
        self
    }

    /// Delivers everything the bridge publishes, until the returned task is aborted.
    pub fn deliver_from(&self, bridge: &EventBridge) -> tokio::task::JoinHandle<()> {
        let hooks = self.clone();
        let mut updates = bridge.subscribe();
        tokio::spawn(async move {
            loop {
                let Some(batches) = next_batches(&mut updates).await else {
                    return;
                };
                let urls: Vec<String> = hooks
                    .settings
                    .load()
                    .map(|s| {
                        s.webhooks
                            .into_iter()
                            .filter(|w| w.enabled)
                            .map(|w| w.url)
                            .collect()
                    })
                    .unwrap_or_default();
                for (conversation, events) in batches {
                    for url in &urls {
                        let hooks = hooks.clone();
                        let (url, conversation, events) =
                            (url.clone(), conversation.clone(), events.clone());
                        tokio::spawn(async move {
                            hooks.deliver(&url, &conversation, &events).await;
                        });
                    }
                }
            }
        })
    }

    /// Posts one batch, retrying with back-off; returns whether it was accepted.
    pub async fn deliver(&self, url: &str, conversation_id: &str, events: &[Event]) -> bool {
        let body = json!({"conversation_id": conversation_id, "events": events});
        let mut delay = self.first_retry;
        for attempt in 1..=MAX_ATTEMPTS {
            let result = self.http.post(url).json(&body).send().await;
            let (status, error) = match result {
                Ok(r) if r.status().is_success() => (Some(r.status().as_u16()), None),
                Ok(r) => (
                    Some(r.status().as_u16()),
                    Some(format!("the server answered {}", r.status())),
                ),
                Err(e) => (None, Some(format!("cannot reach it: {e}"))),
            };
            let delivered = error.is_none();
            let record = Delivery {
                url: url.to_string(),
                conversation_id: conversation_id.to_string(),
                first_event_id: events.first().map(|e| e.id.clone()).unwrap_or_default(),
                events: events.len(),
                attempt,
                http_status: status,
                error,
                delivered,
                at: now(),
            };
            if let Err(e) = self.record(&record) {
                tracing::warn!(error = %e, "cannot record a webhook delivery");
            }
            if delivered {
                return true;
            }
            if attempt < MAX_ATTEMPTS {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(300));
            }
        }
        tracing::warn!(%url, "a webhook batch was given up after {MAX_ATTEMPTS} attempts");
        false
    }

    fn record(&self, d: &Delivery) -> Result<(), StoreError> {
        self.store.lock().execute(
            "INSERT INTO webhook_deliveries (url, conversation_id, first_event_id, events, attempt, http_status, error, delivered, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![d.url, d.conversation_id, d.first_event_id, d.events as i64, d.attempt, d.http_status, d.error, d.delivered, d.at],
        )?;
        Ok(())
    }

    /// The latest attempts, newest first.
    pub fn deliveries(&self, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        let conn = self.store.lock();
        let mut stmt = conn.prepare(
            "SELECT url, conversation_id, first_event_id, events, attempt, http_status, error, delivered, at
             FROM webhook_deliveries ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit as i64], |r| {
            Ok(Delivery {
                url: r.get(0)?,
                conversation_id: r.get(1)?,
                first_event_id: r.get(2)?,
                events: r.get::<_, i64>(3)?.max(0) as usize,
                attempt: r.get(4)?,
                http_status: r.get(5)?,
                error: r.get(6)?,
                delivered: r.get(7)?,
                at: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

/// Waits for an event, then gathers what follows within the window: the batches by
/// conversation. `None` when the bridge is gone.
async fn next_batches(
    updates: &mut broadcast::Receiver<Update>,
) -> Option<BTreeMap<String, Vec<Event>>> {
    let mut batches: BTreeMap<String, Vec<Event>> = BTreeMap::new();
    let add = |(conv, event): Update, batches: &mut BTreeMap<String, Vec<Event>>| {
        if !event.is_transient() {
            batches.entry(conv).or_default().push(event);
        }
    };
    loop {
        match updates.recv().await {
            Ok(u) => {
                add(u, &mut batches);
                if !batches.is_empty() {
                    break;
                }
            }
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(
                    missed = n,
                    "webhooks fell behind; some events were not sent"
                );
            }
            Err(broadcast::error::RecvError::Closed) => return None,
        }
    }
    let deadline = tokio::time::Instant::now() + BATCH_WINDOW;
    while batches.values().map(Vec::len).sum::<usize>() < MAX_BATCH {
        match tokio::time::timeout_at(deadline, updates.recv()).await {
            Ok(Ok(u)) => add(u, &mut batches),
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(broadcast::error::RecvError::Closed)) | Err(_) => break,
        }
    }
    Some(batches)
}
