//! Berth's database: one SQLite file (rusqlite with SQLite bundled, so every platform gets the
//! same version), WAL journal, foreign keys on, migrations numbered by `PRAGMA user_version`.
//! Secrets never go here: sandbox session keys and API keys live elsewhere.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("cannot prepare Berth's data folder for {path}: {message}")]
    Folder { path: String, message: String },
    #[error(
        "this database was written by a newer Berth (schema {found}; this one knows up to {known}): update Berth, or point BERTH_HOME at another folder"
    )]
    Newer { found: i64, known: i64 },
}

/// The database's folder 0700 and the file 0600, created if need be.
fn private_files(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

/// Each migration runs once, in order; the index + 1 is the schema version it brings.
const MIGRATIONS: &[&str] = &[
    // 1: sandboxes and the start tasks that create conversations in them.
    "CREATE TABLE sandboxes (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        agent_url TEXT NOT NULL,
        workspace TEXT NOT NULL,
        host_workspace TEXT NOT NULL,
        pid INTEGER,
        container_id TEXT,
        created_at TEXT NOT NULL,
        last_used_at TEXT NOT NULL,
        error TEXT
    );
    CREATE TABLE start_tasks (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        detail TEXT,
        request TEXT NOT NULL,
        sandbox_id TEXT REFERENCES sandboxes(id) ON DELETE SET NULL,
        conversation_id TEXT,
        workspace TEXT,
        setup_output TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE start_task_transitions (
        task_id TEXT NOT NULL REFERENCES start_tasks(id) ON DELETE CASCADE,
        status TEXT NOT NULL,
        detail TEXT,
        at TEXT NOT NULL
    );",
    // 2: conversations and the event mirror, with full-text search over what users look for
    // (messages, commands, outputs, errors). The FTS table is contentless: its rowid is the
    // event's `seq`, the text lives only in the index.
    "CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        title TEXT,
        workspace TEXT,
        sandbox_id TEXT,
        status TEXT,
        model TEXT,
        tags TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        source TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX events_by_conversation ON events(conversation_id, seq);
    CREATE VIRTUAL TABLE events_fts USING fts5(text, content='', contentless_delete=1, tokenize='unicode61');",
    // 3: settings, one JSON document per section (never secrets: those live in the keychain).
    "CREATE TABLE settings (
        section TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );",
    // 4: which secrets exist (their values live in the keychain); what conversations were
    // started on and from; webhook deliveries.
    "CREATE TABLE secrets (
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        description TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (kind, name)
    );
    ALTER TABLE conversations ADD COLUMN repository TEXT;
    ALTER TABLE conversations ADD COLUMN branch TEXT;
    ALTER TABLE conversations ADD COLUMN start_task_id TEXT;
    ALTER TABLE conversations ADD COLUMN metrics TEXT;
    CREATE TABLE webhook_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        url TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        first_event_id TEXT NOT NULL,
        events INTEGER NOT NULL,
        attempt INTEGER NOT NULL,
        http_status INTEGER,
        error TEXT,
        delivered INTEGER NOT NULL,
        at TEXT NOT NULL
    );",
    // 5: an event id is unique within its conversation, not across them: ids come from the
    // agent-servers, and one of them must not make another conversation's event be dropped.
    // SQLite changes a constraint only by copying the table; `seq` (the search index's rowid)
    // is kept.
    "CREATE TABLE events_v5 (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        id TEXT NOT NULL,
        kind TEXT NOT NULL,
        source TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        body TEXT NOT NULL,
        UNIQUE (conversation_id, id)
    );
    INSERT INTO events_v5 (seq, conversation_id, id, kind, source, timestamp, body)
        SELECT seq, conversation_id, id, kind, source, timestamp, body FROM events;
    DROP TABLE events;
    ALTER TABLE events_v5 RENAME TO events;
    CREATE INDEX events_by_conversation ON events(conversation_id, seq);",
    // 6: the fingerprint of a repository's `.git/` config and hooks before any sandbox code ran
    // (git_tampering), to tell the user what the agent changed there.
    "ALTER TABLE conversations ADD COLUMN git_fingerprint TEXT;",
    // 7: the LLM gateway's routes (llm_gateway): a sandbox's credential, by hash, and where its
    // calls go; gone with the sandbox.
    "CREATE TABLE llm_routes (
        credential_hash TEXT PRIMARY KEY,
        sandbox_id TEXT NOT NULL REFERENCES sandboxes(id) ON DELETE CASCADE,
        model TEXT NOT NULL,
        upstream TEXT NOT NULL,
        profile TEXT,
        bind TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX llm_routes_by_sandbox ON llm_routes(sandbox_id);",
    // 8: how a sandbox's commands are confined (`ConfinementState` as JSON), as its
    // agent-server reported it at start.
    "ALTER TABLE sandboxes ADD COLUMN confinement TEXT;",
];

/// A shared handle; rusqlite connections are not `Sync`, so one connection sits behind a mutex
/// (Berth's writes are small and few).
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

impl Store {
    /// Opens (or creates) the database. Its folder is made readable by the user alone (0700)
    /// and so is the file (0600; SQLite gives its WAL and shared-memory files the same mode):
    /// it holds every conversation's history.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        private_files(path).map_err(|e| StoreError::Folder {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let conn = Connection::open(path).map_err(|e| StoreError::Open {
            path: path.display().to_string(),
            source: e,
        })?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let store = Self {
            conn: Arc::new(Mutex::new(conn)),
        };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > MIGRATIONS.len() as i64 {
            return Err(StoreError::Newer {
                found: version,
                known: MIGRATIONS.len() as i64,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        Ok(())
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .lock()
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// A single text column of a single row, if there is one.
    pub fn text(&self, sql: &str, id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .lock()
            .query_row(sql, params![id], |r| r.get(0))
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("berth.db");
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().ok(), Some(MIGRATIONS.len() as i64));
        let mode: String = store
            .lock()
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap_or_default();
        assert_eq!(mode, "wal");
        drop(store);
        let again = Store::open(&path).unwrap();
        assert_eq!(again.schema_version().ok(), Some(MIGRATIONS.len() as i64));
    }

    /// A database of the version before per-conversation event ids keeps its events, their
    /// order and their search index through the migration.
    #[test]
    fn events_survive_the_migration_to_per_conversation_ids() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("berth.db");
        {
            let conn = Connection::open(&path).unwrap();
            for sql in &MIGRATIONS[..4] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 4).unwrap();
            conn.execute_batch(
                "INSERT INTO conversations (id, created_at, updated_at) VALUES ('c', 'now', 'now');
                 INSERT INTO events (seq, conversation_id, id, kind, source, timestamp, body)
                     VALUES (7, 'c', 'e1', 'MessageEvent', 'agent', 't', '{}'),
                            (9, 'c', 'e2', 'MessageEvent', 'agent', 't', '{}');
                 INSERT INTO events_fts (rowid, text) VALUES (9, 'needle');",
            )
            .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let conn = store.lock();
        let rows: Vec<(i64, String)> = conn
            .prepare("SELECT seq, id FROM events ORDER BY seq")
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<_, _>>()
            })
            .unwrap();
        assert_eq!(rows, vec![(7, "e1".to_string()), (9, "e2".to_string())]);
        let hit: String = conn
            .query_row(
                "SELECT e.id FROM events_fts f JOIN events e ON e.seq = f.rowid WHERE events_fts MATCH 'needle'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(hit, "e2");
        // New events go on after the highest seq.
        conn.execute(
            "INSERT INTO events (conversation_id, id, kind, source, timestamp, body) VALUES ('c', 'e3', 'k', 's', 't', '{}')",
            [],
        )
        .unwrap();
        assert_eq!(conn.last_insert_rowid(), 10);
    }

    #[test]
    fn the_database_is_the_users_alone_and_a_newer_schema_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let path = home.join("berth.db");
        let store = Store::open(&path).unwrap();
        let mode = |p: &Path| {
            std::fs::metadata(p)
                .map(|m| m.permissions().mode() & 0o777)
                .unwrap_or(0)
        };
        assert_eq!(mode(&home), 0o700);
        assert_eq!(mode(&path), 0o600);
        store
            .lock()
            .pragma_update(None, "user_version", 999)
            .unwrap();
        drop(store);
        let err = Store::open(&path)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("newer Berth"), "{err}");
    }
}
