//! The event mirror: every event of every conversation the app knows, in its own database, so a
//! conversation stays readable (and searchable) when its sandbox is gone. Events are stored once
//! by id, whatever path they arrive by; state snapshots and token deltas are not stored.

use berth_protocol::{Event, EventBody, ExecutionStatus, Observation, content_text};
use rusqlite::{OptionalExtension, params};

use crate::store::{Store, StoreError};

/// A search hit: where, and a snippet around the match.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub conversation_id: String,
    pub event_id: String,
    pub snippet: String,
}

#[derive(Clone)]
pub struct EventMirror {
    store: Store,
}

/// The words a user may search an event by.
fn searchable_text(e: &Event) -> String {
    match &e.body {
        EventBody::MessageEvent { llm_message, .. } => llm_message.text(),
        EventBody::ActionEvent {
            thought,
            summary,
            tool_call,
            ..
        } => {
            let t: Vec<&str> = thought.iter().map(|t| t.text.as_str()).collect();
            format!(
                "{} {} {}",
                t.join(" "),
                summary.clone().unwrap_or_default(),
                tool_call.arguments
            )
        }
        EventBody::ObservationEvent { observation, .. } => match observation {
            Observation::TerminalObservation(o) => format!(
                "{} {}",
                o.command.clone().unwrap_or_default(),
                content_text(&o.content)
            ),
            other => content_text(&other.content_and_error().0),
        },
        EventBody::AgentErrorEvent { error, .. } => error.clone(),
        EventBody::ConversationErrorEvent { code, detail, .. } => format!("{code} {detail}"),
        EventBody::UserRejectObservation {
            rejection_reason, ..
        } => rejection_reason.clone(),
        EventBody::Condensation { summary, .. } => summary.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

impl EventMirror {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// Stores an event unless it is transient or already there. Returns whether it was new.
    pub fn insert(&self, conversation_id: &str, e: &Event) -> Result<bool, StoreError> {
        if e.is_transient() {
            return Ok(false);
        }
        let body = serde_json::to_string(e).map_err(|err| StoreError::Corrupt(err.to_string()))?;
        let mut conn = self.store.lock();
        let tx = conn.transaction()?;
        let added = tx.execute(
            "INSERT OR IGNORE INTO events (conversation_id, id, kind, source, timestamp, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![conversation_id, e.id, e.kind(), serde_json::to_value(e.source).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(), e.timestamp, body],
        )?;
        if added == 1 {
            let seq = tx.last_insert_rowid();
            let text = searchable_text(e);
            if !text.trim().is_empty() {
                tx.execute(
                    "INSERT INTO events_fts (rowid, text) VALUES (?1, ?2)",
                    params![seq, text],
                )?;
            }
            crate::conversation_records::apply_event(&tx, conversation_id, e)?;
        }
        tx.commit()?;
        Ok(added == 1)
    }

    /// A conversation's events in the order they were mirrored.
    pub fn events(&self, conversation_id: &str) -> Result<Vec<Event>, StoreError> {
        let conn = self.store.lock();
        let mut stmt =
            conn.prepare("SELECT body FROM events WHERE conversation_id = ?1 ORDER BY seq")?;
        let rows = stmt.query_map(params![conversation_id], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for body in rows {
            out.push(serde_json::from_str(&body?).map_err(|e| StoreError::Corrupt(e.to_string()))?);
        }
        Ok(out)
    }

    pub fn count(&self, conversation_id: &str) -> Result<usize, StoreError> {
        Ok(self.store.lock().query_row(
            "SELECT COUNT(*) FROM events WHERE conversation_id = ?1",
            params![conversation_id],
            |r| r.get::<_, i64>(0),
        )? as usize)
    }

    pub fn status(&self, conversation_id: &str) -> Result<Option<ExecutionStatus>, StoreError> {
        let stored: Option<String> = self
            .store
            .lock()
            .query_row(
                "SELECT status FROM conversations WHERE id = ?1",
                params![conversation_id],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        Ok(stored.as_deref().and_then(ExecutionStatus::parse))
    }

    /// Full-text search over every mirrored conversation, best matches first.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<Hit>, StoreError> {
        // Each word must appear; quoting keeps FTS syntax characters in user input literal.
        let fts: Vec<String> = query
            .split_whitespace()
            .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
            .collect();
        if fts.is_empty() {
            return Ok(Vec::new());
        }
        let conn = self.store.lock();
        let mut stmt = conn.prepare(
            "SELECT e.conversation_id, e.id, e.body FROM events_fts f JOIN events e ON e.seq = f.rowid
             WHERE events_fts MATCH ?1 ORDER BY rank LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![fts.join(" "), limit as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut hits = Vec::new();
        for row in rows {
            let (conversation_id, event_id, body) = row?;
            let event: Event =
                serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let text = searchable_text(&event);
            let lower = text.to_lowercase();
            let first = query
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_lowercase();
            let at = lower.find(&first).unwrap_or(0);
            // The snippet starts up to 40 bytes before the match, on a character boundary.
            let wanted = at.saturating_sub(40);
            let start = (0..=wanted)
                .rev()
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(0);
            let snippet: String = text[start..].chars().take(120).collect();
            hits.push(Hit {
                conversation_id,
                event_id,
                snippet,
            });
        }
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str, text: &str) -> Event {
        serde_json::from_value(serde_json::json!({
            "id": id, "timestamp": "2026-12-01T10:00:00", "source": "agent", "kind": "MessageEvent",
            "llm_message": {"role": "assistant", "content": [{"type": "text", "text": text}]}
        }))
        .unwrap()
    }

    /// A sandbox's agent-server writes its own events: a status value the protocol does not
    /// know is stored as an event but never becomes the conversation's status, and no summary
    /// update goes out for it.
    #[test]
    fn a_status_the_protocol_does_not_know_is_not_taken() {
        let (_dir, store) = store_with(&["c"]);
        let mirror = EventMirror::new(store.clone());
        let records = crate::conversation_records::ConversationRecords::new(store);
        let state = |id: &str, value: &str| -> Event {
            serde_json::from_value(serde_json::json!({
                "id": id, "timestamp": "2026-12-01T10:00:00", "source": "environment",
                "kind": "ConversationStateUpdateEvent", "key": "execution_status", "value": value
            }))
            .unwrap()
        };
        let odd = state("s1", "owned_by_the_agent");
        assert!(mirror.insert("c", &odd).unwrap());
        assert_eq!(records.get("c").unwrap().unwrap().status, None);
        assert!(records.summary_after("c", &odd).is_none());
        let done = state("s2", "finished");
        assert!(mirror.insert("c", &done).unwrap());
        assert_eq!(mirror.status("c").unwrap(), Some(ExecutionStatus::Finished));
        assert!(records.summary_after("c", &done).is_some());
    }

    fn store_with(conversations: &[&str]) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("berth.db")).unwrap();
        for id in conversations {
            store
                .lock()
                .execute(
                    "INSERT INTO conversations (id, created_at, updated_at) VALUES (?1, 'now', 'now')",
                    [id],
                )
                .unwrap();
        }
        (dir, store)
    }

    /// Event ids come from agent-servers, one per sandbox: an id one of them reuses must not
    /// make another conversation's event vanish.
    #[test]
    fn an_event_id_another_conversation_used_is_stored_for_both() {
        let (_dir, store) = store_with(&["a", "b"]);
        let mirror = EventMirror::new(store);
        let insert = |c: &str, e: &Event| mirror.insert(c, e).unwrap();
        assert!(insert("a", &message("same-id", "in a")));
        assert!(insert("b", &message("same-id", "in b")));
        assert!(
            !insert("a", &message("same-id", "in a")),
            "once per conversation"
        );
        let texts = |c: &str| -> Vec<String> {
            mirror
                .events(c)
                .unwrap_or_default()
                .iter()
                .map(|e| serde_json::to_string(e).unwrap_or_default())
                .collect()
        };
        assert!(texts("a")[0].contains("in a") && texts("a").len() == 1);
        assert!(texts("b")[0].contains("in b") && texts("b").len() == 1);
    }
}
