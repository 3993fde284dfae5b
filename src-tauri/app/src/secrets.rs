//! Secrets in the OS keychain, one entry per secret: LLM API keys (per profile), git provider
//! tokens, and custom secrets the agent may use. The database records only that a secret exists
//! (its kind, name, description), never its value. There is no plaintext fallback: when no
//! keychain answers, the error says how to get one.
//!
//! Crate: `keyring` — the maintained cross-platform keychain crate (macOS Keychain, Windows
//! Credential Manager, the Secret Service on Linux via pure-Rust D-Bus crypto), so Berth holds no
//! platform code of its own.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreError};
use crate::time::now;

/// The keychain service every Berth entry is filed under.
const SERVICE: &str = "Berth";

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ts_rs::TS,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum SecretKind {
    /// The API key of an LLM profile (named after the profile).
    Llm,
    /// A git provider token (`github`, `gitlab`, `bitbucket`).
    Provider,
    /// A user secret handed to the agent by name (e.g. `NPM_TOKEN`).
    Custom,
    /// Keys Berth itself needs (the key sealing conversation secrets at rest).
    Internal,
}

impl SecretKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// What the app shows of a secret: never its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct SecretInfo {
    pub kind: SecretKind,
    pub name: String,
    pub description: Option<String>,
    pub updated_at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "no keychain answers ({0}). Berth keeps secrets only in the system keychain: on Linux install and unlock a Secret Service keyring (GNOME Keyring: `sudo apt install gnome-keyring`, then log in to a desktop session, or KWallet); on macOS and Windows the system keychain must be reachable"
    )]
    NoKeychain(String),
    #[error(
        "the keychain no longer has the {kind} secret '{name}' (it was removed outside Berth); set it again"
    )]
    Lost { kind: &'static str, name: String },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone)]
pub struct SecretStore {
    store: Store,
    /// Distinguishes installs (or test homes) sharing one keychain.
    install: String,
}

impl SecretStore {
    pub fn new(store: Store) -> Result<Self, SecretError> {
        let install = install_id(&store)?;
        Ok(Self { store, install })
    }

    fn entry(&self, kind: SecretKind, name: &str) -> Result<keyring::Entry, SecretError> {
        let user = format!("{}/{}:{name}", self.install, kind.as_str());
        keyring::Entry::new(SERVICE, &user).map_err(keychain_error)
    }

    /// Fails with [`SecretError::NoKeychain`] unless a keychain can store and return a value.
    pub fn probe(&self) -> Result<(), SecretError> {
        let entry = self.entry(SecretKind::Internal, "probe")?;
        entry.set_password("probe").map_err(keychain_error)?;
        let back = entry.get_password().map_err(keychain_error)?;
        let _ = entry.delete_credential();
        if back == "probe" {
            Ok(())
        } else {
            Err(SecretError::NoKeychain(
                "the keychain returned another value than the one stored".into(),
            ))
        }
    }

    /// Stores (or replaces) a secret: the value in the keychain, the fact in the database.
    pub fn set(
        &self,
        kind: SecretKind,
        name: &str,
        value: &str,
        description: Option<&str>,
    ) -> Result<(), SecretError> {
        check_name(kind, name)?;
        if value.is_empty() {
            return Err(SecretError::Invalid(format!(
                "the secret '{name}' is empty; give it a value or delete it"
            )));
        }
        self.entry(kind, name)?
            .set_password(value)
            .map_err(keychain_error)?;
        self.store
            .lock()
            .execute(
                "INSERT INTO secrets (kind, name, description, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(kind, name) DO UPDATE SET description = ?3, updated_at = ?4",
                params![kind.as_str(), name, description, now()],
            )
            .map_err(StoreError::from)?;
        Ok(())
    }

    /// The value, `None` when no such secret was set.
    pub fn get(&self, kind: SecretKind, name: &str) -> Result<Option<String>, SecretError> {
        if !self.exists(kind, name)? {
            return Ok(None);
        }
        match self.entry(kind, name)?.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Err(SecretError::Lost {
                kind: kind.as_str(),
                name: name.to_string(),
            }),
            Err(e) => Err(keychain_error(e)),
        }
    }

    pub fn exists(&self, kind: SecretKind, name: &str) -> Result<bool, SecretError> {
        Ok(self
            .store
            .lock()
            .query_row(
                "SELECT 1 FROM secrets WHERE kind = ?1 AND name = ?2",
                params![kind.as_str(), name],
                |_| Ok(()),
            )
            .optional()
            .map_err(StoreError::from)?
            .is_some())
    }

    /// Every secret the user set (not Berth's internal keys), by kind then name.
    pub fn list(&self) -> Result<Vec<SecretInfo>, SecretError> {
        let conn = self.store.lock();
        let mut stmt = conn
            .prepare("SELECT kind, name, description, updated_at FROM secrets WHERE kind != 'internal' ORDER BY kind, name")
            .map_err(StoreError::from)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(StoreError::from)?;
        let mut out = Vec::new();
        for row in rows {
            let (kind, name, description, updated_at) = row.map_err(StoreError::from)?;
            if let Some(kind) = SecretKind::parse(&kind) {
                out.push(SecretInfo {
                    kind,
                    name,
                    description,
                    updated_at,
                });
            }
        }
        Ok(out)
    }

    /// The custom secrets with their values, for handing to a conversation.
    pub fn custom_values(&self) -> Result<Vec<(String, String, Option<String>)>, SecretError> {
        let mut out = Vec::new();
        for info in self.list()? {
            if info.kind == SecretKind::Custom
                && let Some(value) = self.get(SecretKind::Custom, &info.name)?
            {
                out.push((info.name, value, info.description));
            }
        }
        Ok(out)
    }

    /// Removes a secret from the keychain and the database. Returns whether it existed.
    pub fn delete(&self, kind: SecretKind, name: &str) -> Result<bool, SecretError> {
        match self.entry(kind, name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => {}
            Err(e) => return Err(keychain_error(e)),
        }
        let n = self
            .store
            .lock()
            .execute(
                "DELETE FROM secrets WHERE kind = ?1 AND name = ?2",
                params![kind.as_str(), name],
            )
            .map_err(StoreError::from)?;
        Ok(n > 0)
    }

    /// The install's sealing key, created on first use. It never enters a sandbox: each
    /// conversation's agent-server gets [`conversation_sealing_key`] of it, so a conversation can
    /// go on in a new sandbox with its secrets while no sandbox can open another's.
    pub fn sealing_key(&self) -> Result<String, SecretError> {
        if let Some(k) = self.get(SecretKind::Internal, "sealing-key")? {
            return Ok(k);
        }
        let key = crate::token::random_token();
        self.set(SecretKind::Internal, "sealing-key", &key, None)?;
        Ok(key)
    }
}

/// One conversation's sealing key: HKDF-SHA256 of the install's key, for that conversation id.
/// Crate: `hkdf` (RustCrypto), the standard key derivation for one secret per purpose.
pub fn conversation_sealing_key(install_key: &str, conversation: &uuid::Uuid) -> String {
    use base64::Engine;
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(
        Some(b"berth conversation sealing key"),
        install_key.as_bytes(),
    );
    let mut okm = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's 8160-byte limit, so expanding cannot fail.
    if hk.expand(conversation.as_bytes(), &mut okm).is_err() {
        okm = [0u8; 32];
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(okm)
}

fn check_name(kind: SecretKind, name: &str) -> Result<(), SecretError> {
    if name.trim().is_empty() {
        return Err(SecretError::Invalid("a secret needs a name".into()));
    }
    if name.len() > 100 {
        return Err(SecretError::Invalid(
            "a secret's name is at most 100 characters".into(),
        ));
    }
    if kind == SecretKind::Custom && !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(SecretError::Invalid(format!(
            "'{name}' is not a usable secret name: use letters, digits and _ (like an environment variable, e.g. NPM_TOKEN)"
        )));
    }
    Ok(())
}

fn keychain_error(e: keyring::Error) -> SecretError {
    match e {
        keyring::Error::BadEncoding(_) => {
            SecretError::Invalid("the keychain holds a value that is not text".into())
        }
        keyring::Error::TooLong(what, max) => SecretError::Invalid(format!(
            "the {what} is longer than the keychain allows ({max})"
        )),
        other => SecretError::NoKeychain(other.to_string()),
    }
}

/// A random id for this database, made once.
fn install_id(store: &Store) -> Result<String, StoreError> {
    let conn = store.lock();
    let existing: Option<String> = conn
        .query_row(
            "SELECT value FROM settings WHERE section = 'install_id'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    conn.execute(
        "INSERT INTO settings (section, value, updated_at) VALUES ('install_id', ?1, ?2)",
        params![id, now()],
    )?;
    Ok(id)
}
