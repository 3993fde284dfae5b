//! Sandboxes in the database.

use std::path::PathBuf;

use rusqlite::{OptionalExtension, Row, params};

use super::{Sandbox, SandboxKind, SandboxStatus};
use berth_store::store::{Store, StoreError};

#[derive(Clone)]
pub struct SandboxRecords {
    store: Store,
}

/// A stored name read back into its enum; one this Berth does not know (a newer one wrote it, or
/// the file was edited) is an error naming it, never a guess such as "a process sandbox".
fn named<T: std::str::FromStr>(r: &Row<'_>, column: &str) -> rusqlite::Result<T> {
    let text: String = r.get(column)?;
    text.parse().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown sandbox {column} '{text}'").into(),
        )
    })
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Sandbox> {
    Ok(Sandbox {
        id: r.get("id")?,
        kind: named(r, "kind")?,
        status: named(r, "status")?,
        agent_url: r.get("agent_url")?,
        workspace: PathBuf::from(r.get::<_, String>("workspace")?),
        host_workspace: PathBuf::from(r.get::<_, String>("host_workspace")?),
        pid: r.get("pid")?,
        container_id: r.get("container_id")?,
        created_at: r.get("created_at")?,
        last_used_at: r.get("last_used_at")?,
        error: r.get("error")?,
        // Unreadable (a newer app's form) reads as unknown rather than failing the list.
        confinement: r
            .get::<_, Option<String>>("confinement")?
            .and_then(|json| serde_json::from_str(&json).ok()),
    })
}

impl SandboxRecords {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    pub fn put(&self, s: &Sandbox) -> Result<(), StoreError> {
        self.store.lock().execute(
            "INSERT INTO sandboxes (id, kind, status, agent_url, workspace, host_workspace, pid, container_id, created_at, last_used_at, error, confinement)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT(id) DO UPDATE SET status = ?3, agent_url = ?4, pid = ?7, container_id = ?8, last_used_at = ?10, error = ?11, confinement = ?12",
            params![
                s.id,
                s.kind.as_str(),
                s.status.as_str(),
                s.agent_url,
                s.workspace.display().to_string(),
                s.host_workspace.display().to_string(),
                s.pid,
                s.container_id,
                s.created_at,
                s.last_used_at,
                s.error,
                s.confinement
                    .as_ref()
                    .map(|c| serde_json::to_string(c).unwrap_or_default())
            ],
        )?;
        Ok(())
    }

    pub fn get(&self, id: &str) -> Result<Option<Sandbox>, StoreError> {
        Ok(self
            .store
            .lock()
            .query_row(
                "SELECT * FROM sandboxes WHERE id = ?1",
                params![id],
                from_row,
            )
            .optional()?)
    }

    /// The sandbox `id` if it is of `kind`; other kinds belong to another service.
    pub fn of_kind(&self, id: &str, kind: SandboxKind) -> Result<Sandbox, super::SandboxError> {
        match self.get(id)? {
            Some(s) if s.kind == kind => Ok(s),
            _ => Err(super::SandboxError::NotFound(id.to_string())),
        }
    }

    pub fn list(&self, kind: SandboxKind) -> Result<Vec<Sandbox>, StoreError> {
        let conn = self.store.lock();
        let mut stmt =
            conn.prepare("SELECT * FROM sandboxes WHERE kind = ?1 ORDER BY created_at")?;
        let rows = stmt.query_map(params![kind.as_str()], from_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Marks a sandbox of this kind as used now (its status unchanged).
    pub fn touch(&self, id: &str, kind: SandboxKind) -> Result<(), super::SandboxError> {
        let s = self.of_kind(id, kind)?;
        self.set_status(id, s.status, s.error.as_deref())?;
        Ok(())
    }

    pub fn set_status(
        &self,
        id: &str,
        status: SandboxStatus,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        self.store.lock().execute(
            "UPDATE sandboxes SET status = ?2, error = ?3, last_used_at = ?4 WHERE id = ?1",
            params![id, status.as_str(), error, berth_store::time::now()],
        )?;
        Ok(())
    }

    pub fn delete(&self, id: &str) -> Result<(), StoreError> {
        self.store
            .lock()
            .execute("DELETE FROM sandboxes WHERE id = ?1", params![id])?;
        Ok(())
    }
}
