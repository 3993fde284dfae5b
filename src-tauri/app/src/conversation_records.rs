//! The conversations table: what the app lists, sorts, renames and deletes. A conversation's
//! row outlives its sandbox; `archived` says the sandbox is gone.

use berth_protocol::{
    ConfinementState, ConversationStats, Event, EventBody, ExecutionStatus, PendingAction, Source,
    pending_actions, state_key,
};
use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreError};
use crate::time::now;

/// A conversation as lists show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ConversationSummary {
    pub id: String,
    /// From the first user message unless renamed.
    pub title: Option<String>,
    /// The folder the agent works in, on this machine.
    pub workspace: Option<String>,
    /// What it was started from: a folder or a git URL.
    pub repository: Option<String>,
    pub branch: Option<String>,
    pub sandbox_id: Option<String>,
    /// The agent's execution status as last mirrored.
    pub status: Option<ExecutionStatus>,
    pub model: Option<String>,
    /// Cost and tokens so far, as last reported by the agent-server.
    pub metrics: Option<Usage>,
    /// The actions waiting for the user's confirmation (empty unless the status says so).
    pub pending_actions: Vec<PendingAction>,
    #[ts(as = "f64")]
    pub events: u64,
    /// Its sandbox is gone: readable from the mirror, continued only in a new sandbox.
    pub archived: bool,
    pub created_at: String,
    pub updated_at: String,
    /// How its sandbox confines the agent's commands, as that sandbox reported at start.
    pub confinement: Option<Confinement>,
}

/// What a conversation used so far, over every LLM it called (the agent's, the condenser's).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, ts_rs::TS)]
pub struct Usage {
    /// In US dollars, as the agent-server prices it.
    pub cost: f64,
    #[ts(as = "f64")]
    pub prompt_tokens: u64,
    #[ts(as = "f64")]
    pub completion_tokens: u64,
}

impl Usage {
    pub fn of(stats: &ConversationStats) -> Self {
        stats
            .usage_to_metrics
            .values()
            .fold(Self::default(), |total, m| {
                let tokens = m.accumulated_token_usage.as_ref();
                Self {
                    cost: total.cost + m.accumulated_cost,
                    prompt_tokens: total.prompt_tokens + tokens.map_or(0, |t| t.prompt_tokens),
                    completion_tokens: total.completion_tokens
                        + tokens.map_or(0, |t| t.completion_tokens),
                }
            })
    }
}

/// A sandbox's confinement as the UI shows it: the line to show, and the state behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Confinement {
    /// "Confined: Landlock ABI 7, network on" or "Not confined: … — the agent can read your files".
    pub summary: String,
    pub confined: bool,
    pub state: ConfinementState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    #[default]
    RecentlyUpdated,
    Newest,
    Oldest,
    Title,
}

impl SortBy {
    fn sql(self) -> &'static str {
        match self {
            Self::RecentlyUpdated => "c.updated_at DESC, c.created_at DESC",
            Self::Newest => "c.created_at DESC",
            Self::Oldest => "c.created_at ASC",
            Self::Title => "COALESCE(c.title, '') COLLATE NOCASE ASC, c.created_at DESC",
        }
    }
}

/// One page of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct PageRequest {
    pub offset: usize,
    pub limit: usize,
    pub sort: SortBy,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            offset: 0,
            limit: 50,
            sort: SortBy::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ConversationPage {
    pub items: Vec<ConversationSummary>,
    pub total: usize,
}

/// What the app records when a conversation starts.
#[derive(Debug, Clone, Default)]
pub struct NewRecord<'a> {
    pub id: &'a str,
    pub workspace: Option<&'a str>,
    pub repository: Option<&'a str>,
    pub branch: Option<&'a str>,
    pub sandbox_id: Option<&'a str>,
    pub model: Option<&'a str>,
    pub start_task_id: Option<&'a str>,
    pub title: Option<&'a str>,
    /// `.git/` before the agent ran (JSON of a `GitFingerprint`); the first one recorded stays.
    pub git_fingerprint: Option<&'a str>,
}

const COLUMNS: &str = "c.id, c.title, c.workspace, c.repository, c.branch, c.sandbox_id, c.status, c.model, c.metrics, c.created_at, c.updated_at,
    (SELECT COUNT(*) FROM events e WHERE e.conversation_id = c.id) AS n,
    NOT EXISTS (SELECT 1 FROM sandboxes s WHERE s.id = c.sandbox_id AND s.status != 'missing') AS archived,
    (SELECT s.confinement FROM sandboxes s WHERE s.id = c.sandbox_id) AS confinement";

fn summary(r: &Row<'_>) -> rusqlite::Result<ConversationSummary> {
    Ok(ConversationSummary {
        id: r.get(0)?,
        title: r.get(1)?,
        workspace: r.get(2)?,
        repository: r.get(3)?,
        branch: r.get(4)?,
        sandbox_id: r.get(5)?,
        status: r
            .get::<_, Option<String>>(6)?
            .as_deref()
            .and_then(ExecutionStatus::parse),
        model: r.get(7)?,
        metrics: r
            .get::<_, Option<String>>(8)?
            .and_then(|m| serde_json::from_str::<ConversationStats>(&m).ok())
            .map(|stats| Usage::of(&stats)),
        pending_actions: Vec::new(),
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
        events: r.get::<_, i64>(11)?.max(0) as u64,
        archived: r.get(12)?,
        confinement: r
            .get::<_, Option<String>>(13)?
            .and_then(|c| serde_json::from_str::<ConfinementState>(&c).ok())
            .map(|state| Confinement {
                summary: state.summary(),
                confined: state.is_confined(),
                state,
            }),
    })
}

#[derive(Clone)]
pub struct ConversationRecords {
    store: Store,
}

impl ConversationRecords {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// Records a conversation, or points an existing one at its new sandbox.
    pub fn put(&self, rec: &NewRecord<'_>) -> Result<(), StoreError> {
        let stamp = now();
        self.store.lock().execute(
            "INSERT INTO conversations (id, title, workspace, repository, branch, sandbox_id, model, start_task_id, created_at, updated_at, git_fingerprint)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10)
             ON CONFLICT(id) DO UPDATE SET sandbox_id = COALESCE(?6, sandbox_id), model = COALESCE(?7, model),
               start_task_id = COALESCE(?8, start_task_id), workspace = COALESCE(workspace, ?3),
               repository = COALESCE(repository, ?4), branch = COALESCE(branch, ?5), updated_at = ?9,
               git_fingerprint = COALESCE(git_fingerprint, ?10)",
            params![rec.id, rec.title, rec.workspace, rec.repository, rec.branch, rec.sandbox_id, rec.model, rec.start_task_id, stamp, rec.git_fingerprint],
        )?;
        Ok(())
    }

    /// The `.git/` fingerprint recorded before the agent first ran, if any.
    pub fn git_fingerprint(&self, id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .store
            .lock()
            .query_row(
                "SELECT git_fingerprint FROM conversations WHERE id = ?1",
                params![id],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()?
            .flatten())
    }

    pub fn get(&self, id: &str) -> Result<Option<ConversationSummary>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM conversations c WHERE c.id = ?1");
        let conn = self.store.lock();
        conn.query_row(&sql, params![id], summary)
            .optional()?
            .map(|s| with_pending(&conn, s))
            .transpose()
    }

    /// The row as it is after a stored event changed it; `None` when the event changed nothing.
    pub fn summary_after(&self, id: &str, e: &Event) -> Option<ConversationSummary> {
        row_change(e)?;
        match self.get(id) {
            Ok(summary) => summary,
            Err(err) => {
                tracing::warn!(error = %err, conversation = id, "could not read a conversation");
                None
            }
        }
    }

    pub fn list(&self, page: PageRequest) -> Result<ConversationPage, StoreError> {
        let conn = self.store.lock();
        let total: i64 = conn.query_row("SELECT COUNT(*) FROM conversations", [], |r| r.get(0))?;
        let sql = format!(
            "SELECT {COLUMNS} FROM conversations c ORDER BY {} LIMIT ?1 OFFSET ?2",
            page.sort.sql()
        );
        let mut stmt = conn.prepare(&sql)?;
        let items = stmt
            .query_map(
                params![page.limit.clamp(1, 500) as i64, page.offset as i64],
                summary,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        let items = items
            .into_iter()
            .map(|s| with_pending(&conn, s))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ConversationPage {
            items,
            total: total.max(0) as usize,
        })
    }

    /// Conversations whose title holds every word of `query` (case-insensitive).
    pub fn by_title(
        &self,
        query: &str,
        limit: usize,
    ) -> Result<Vec<ConversationSummary>, StoreError> {
        let words: Vec<String> = query
            .split_whitespace()
            .map(|w| {
                format!(
                    "%{}%",
                    w.replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_")
                )
            })
            .collect();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let conds: Vec<String> = (1..=words.len())
            .map(|i| format!("c.title LIKE ?{i} ESCAPE '\\'"))
            .collect();
        let sql = format!(
            "SELECT {COLUMNS} FROM conversations c WHERE {} ORDER BY c.updated_at DESC LIMIT {}",
            conds.join(" AND "),
            limit.clamp(1, 500)
        );
        let conn = self.store.lock();
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(words.iter()), summary)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(|s| with_pending(&conn, s)).collect()
    }

    pub fn rename(&self, id: &str, title: &str) -> Result<bool, StoreError> {
        Ok(self.store.lock().execute(
            "UPDATE conversations SET title = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, title, now()],
        )? > 0)
    }

    pub fn set_metrics(&self, id: &str, metrics: &serde_json::Value) -> Result<(), StoreError> {
        self.store.lock().execute(
            "UPDATE conversations SET metrics = ?2 WHERE id = ?1",
            params![id, metrics.to_string()],
        )?;
        Ok(())
    }

    /// How many conversations use a sandbox.
    pub fn using_sandbox(&self, sandbox_id: &str) -> Result<usize, StoreError> {
        Ok(self.store.lock().query_row(
            "SELECT COUNT(*) FROM conversations WHERE sandbox_id = ?1",
            params![sandbox_id],
            |r| r.get::<_, i64>(0),
        )? as usize)
    }

    /// Conversations whose sandbox is still recorded (running or paused): the ones to follow.
    pub fn live(&self) -> Result<Vec<(String, String)>, StoreError> {
        let conn = self.store.lock();
        let mut stmt = conn.prepare(
            "SELECT c.id, c.sandbox_id FROM conversations c JOIN sandboxes s ON s.id = c.sandbox_id WHERE s.status IN ('running', 'paused', 'starting')",
        )?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Removes the conversation, its events and their search entries.
    pub fn delete(&self, id: &str) -> Result<bool, StoreError> {
        let mut conn = self.store.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "DELETE FROM events_fts WHERE rowid IN (SELECT seq FROM events WHERE conversation_id = ?1)",
            params![id],
        )?;
        tx.execute("DELETE FROM events WHERE conversation_id = ?1", params![id])?;
        let n = tx.execute("DELETE FROM conversations WHERE id = ?1", params![id])?;
        tx.commit()?;
        Ok(n > 0)
    }
}

/// What an event changes in its conversation's row. A status the protocol does not know
/// changes nothing.
enum RowChange<'e> {
    Status(ExecutionStatus),
    Metrics(&'e serde_json::Value),
    /// The first user message names a conversation nobody named.
    Title(String),
}

fn row_change(e: &Event) -> Option<RowChange<'_>> {
    if let Some(status) = e.execution_status() {
        return Some(RowChange::Status(status));
    }
    match &e.body {
        EventBody::ConversationStateUpdateEvent { key, value } if key == state_key::STATS => {
            Some(RowChange::Metrics(value))
        }
        EventBody::MessageEvent { llm_message, .. } if e.source == Source::User => {
            Some(RowChange::Title(title_from(&llm_message.text())))
        }
        _ => None,
    }
}

/// The summary with what is derived from its events rather than stored in its row: the
/// actions waiting for the user, by the engine's own rule, read only while it waits.
fn with_pending(
    conn: &rusqlite::Connection,
    mut s: ConversationSummary,
) -> Result<ConversationSummary, StoreError> {
    if s.status != Some(ExecutionStatus::WaitingForConfirmation) {
        return Ok(s);
    }
    let mut stmt = conn.prepare(
        "SELECT body FROM events WHERE conversation_id = ?1 AND kind IN (?2, ?3, ?4, ?5) ORDER BY seq",
    )?;
    let [a, b, c, d] = berth_protocol::pending::KINDS_READ;
    let rows = stmt.query_map(params![s.id, a, b, c, d], |r| r.get::<_, String>(0))?;
    let mut events = Vec::new();
    for body in rows {
        events.push(
            serde_json::from_str::<Event>(&body?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        );
    }
    s.pending_actions = pending_actions(&events);
    Ok(s)
}

/// Applies an event to its conversation's row, in the transaction that stores the event.
pub(crate) fn apply_event(
    tx: &rusqlite::Transaction<'_>,
    conversation_id: &str,
    e: &Event,
) -> rusqlite::Result<()> {
    match row_change(e) {
        Some(RowChange::Status(status)) => tx.execute(
            "UPDATE conversations SET status = ?2, updated_at = ?3 WHERE id = ?1",
            params![conversation_id, status.as_str(), now()],
        )?,
        Some(RowChange::Metrics(value)) => tx.execute(
            "UPDATE conversations SET metrics = ?2 WHERE id = ?1",
            params![conversation_id, value.to_string()],
        )?,
        Some(RowChange::Title(title)) => tx.execute(
            "UPDATE conversations SET title = ?2 WHERE id = ?1 AND title IS NULL",
            params![conversation_id, title],
        )?,
        None => 0,
    };
    Ok(())
}

/// A title from a message: its first line, at most 60 characters.
pub fn title_from(text: &str) -> String {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let mut title: String = line.chars().take(60).collect();
    if line.chars().count() > 60 {
        title.push('…');
    }
    title
}
