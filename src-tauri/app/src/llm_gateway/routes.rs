//! The gateway's routes, in the database: which credential belongs to which sandbox and where
//! its calls go. A route dies with its sandbox's record (a foreign key), however the sandbox was
//! deleted. Only a hash of the credential is kept: the credential itself lives in the sandbox.

use std::net::IpAddr;

use berth_agent::llm::Wire;
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::store::{Store, StoreError};

/// Where one sandbox's LLM calls go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Route {
    pub sandbox_id: String,
    /// The `provider/model` id, which decides the wire format and the key's header.
    pub model: String,
    /// The real base URL (the profile's, or the provider's default).
    pub upstream: String,
    /// The LLM profile whose keychain entry holds the key; `None`: the key was given with the
    /// start request and is held in memory only.
    pub profile: Option<String>,
    /// The address the app listens on for this sandbox.
    pub bind: IpAddr,
}

impl Route {
    pub fn wire(&self) -> Wire {
        berth_agent::llm::ModelId::parse(&self.model).wire
    }
}

pub(super) fn hash(credential: &str) -> String {
    let digest = Sha256::digest(credential.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn insert(store: &Store, credential: &str, route: &Route) -> Result<(), StoreError> {
    store.lock().execute(
        "INSERT INTO llm_routes (credential_hash, sandbox_id, model, upstream, profile, bind, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            hash(credential),
            route.sandbox_id,
            route.model,
            route.upstream,
            route.profile,
            route.bind.to_string(),
            crate::time::now()
        ],
    )?;
    Ok(())
}

/// The route of a credential; `None` when it is unknown or its sandbox is gone.
pub(super) fn find(store: &Store, credential: &str) -> Result<Option<Route>, StoreError> {
    let row = store
        .lock()
        .query_row(
            "SELECT sandbox_id, model, upstream, profile, bind FROM llm_routes WHERE credential_hash = ?1",
            params![hash(credential)],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                ))
            },
        )
        .optional()?;
    Ok(
        row.and_then(|(sandbox_id, model, upstream, profile, bind)| {
            Some(Route {
                sandbox_id,
                model,
                upstream,
                profile,
                bind: bind.parse().ok()?,
            })
        }),
    )
}

/// The addresses live routes listen on.
pub(super) fn binds(store: &Store) -> Result<Vec<IpAddr>, StoreError> {
    binds_where(store, "1 = 1", params![])
}

/// The addresses one sandbox's routes listen on.
pub(super) fn binds_of(store: &Store, sandbox_id: &str) -> Result<Vec<IpAddr>, StoreError> {
    binds_where(store, "sandbox_id = ?1", params![sandbox_id])
}

fn binds_where(
    store: &Store,
    condition: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<IpAddr>, StoreError> {
    let conn = store.lock();
    let mut stmt = conn.prepare(&format!(
        "SELECT DISTINCT bind FROM llm_routes WHERE {condition}"
    ))?;
    let rows = stmt.query_map(args, |r| r.get::<_, String>(0))?;
    let mut binds = Vec::new();
    for bind in rows {
        if let Ok(ip) = bind?.parse() {
            binds.push(ip);
        }
    }
    Ok(binds)
}

/// The gateway's port: one per home, so a sandbox's recorded base URL holds across restarts.
/// `candidate` is taken when none is recorded yet; the recorded one is returned.
pub(super) fn port(store: &Store, candidate: u16) -> Result<u16, StoreError> {
    let conn = store.lock();
    conn.execute(
        "INSERT OR IGNORE INTO settings (section, value, updated_at) VALUES ('llm_gateway_port', ?1, ?2)",
        params![candidate.to_string(), crate::time::now()],
    )?;
    let value: String = conn.query_row(
        "SELECT value FROM settings WHERE section = 'llm_gateway_port'",
        [],
        |r| r.get(0),
    )?;
    value.parse().map_err(|_| {
        StoreError::Corrupt(format!(
            "the LLM gateway's recorded port '{value}' is not a port number"
        ))
    })
}
