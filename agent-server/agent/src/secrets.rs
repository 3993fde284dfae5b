//! The conversation's secret registry. Values are exported to a terminal command only when the
//! command mentions the secret's name, and every registered value is replaced by
//! `<secret-hidden>` in whatever the agent, the LLM or the user sees.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

pub const MASK: &str = berth_protocol::agent::SECRET_HIDDEN;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Secret {
    pub value: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// Shared and cheap to clone; every clone sees updates.
#[derive(Debug, Clone, Default)]
pub struct SecretRegistry {
    inner: Arc<RwLock<BTreeMap<String, Secret>>>,
    /// Values masked but never exported or sealed as secrets (the LLM's own keys).
    mask_only: Arc<RwLock<Vec<String>>>,
}

impl SecretRegistry {
    /// Masks `value` wherever it shows up, without making it a secret the agent can use: for
    /// keys the engine holds itself (the LLM's), which a prompt-injected agent might print.
    pub fn mask_also(&self, value: &str) {
        if value.len() < 3 {
            return;
        }
        let mut list = self.mask_only.write().unwrap_or_else(|e| e.into_inner());
        if !list.iter().any(|v| v == value) {
            list.push(value.to_string());
        }
    }

    pub fn set(
        &self,
        name: impl Into<String>,
        value: impl Into<String>,
        description: Option<String>,
    ) {
        let mut map = self.inner.write().unwrap_or_else(|e| e.into_inner());
        map.insert(
            name.into(),
            Secret {
                value: value.into(),
                description,
            },
        );
    }

    pub fn names_and_descriptions(&self) -> Vec<(String, Option<String>)> {
        let map = self.inner.read().unwrap_or_else(|e| e.into_inner());
        map.iter()
            .map(|(k, v)| (k.clone(), v.description.clone()))
            .collect()
    }

    /// Name → value, for sealing.
    pub fn values(&self) -> BTreeMap<String, String> {
        let map = self.inner.read().unwrap_or_else(|e| e.into_inner());
        map.iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
    }

    /// Whether nothing at all is masked.
    pub fn masks_nothing(&self) -> bool {
        self.is_empty()
            && self
                .mask_only
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .is_empty()
    }

    /// The secrets whose names appear in `command` (case-insensitive), as env pairs.
    pub fn env_for(&self, command: &str) -> Vec<(String, String)> {
        let lower = command.to_lowercase();
        let map = self.inner.read().unwrap_or_else(|e| e.into_inner());
        map.iter()
            .filter(|(name, _)| lower.contains(&name.to_lowercase()))
            .map(|(name, s)| (name.clone(), s.value.clone()))
            .collect()
    }

    /// Replaces every registered value in `text`; longer values first so that a secret that
    /// contains another is hidden whole.
    pub fn mask(&self, text: &str) -> String {
        let map = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let also = self.mask_only.read().unwrap_or_else(|e| e.into_inner());
        if map.is_empty() && also.is_empty() {
            return text.to_string();
        }
        let mut values: Vec<&str> = map
            .values()
            .map(|s| s.value.as_str())
            .chain(also.iter().map(String::as_str))
            .filter(|v| v.len() >= 3)
            .collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        let mut out = text.to_string();
        for v in values {
            if out.contains(v) {
                out = out.replace(v, MASK);
            }
        }
        out
    }

    /// Masks every string inside a JSON value.
    pub fn mask_json(&self, value: &mut serde_json::Value) {
        if self.masks_nothing() {
            return;
        }
        match value {
            serde_json::Value::String(s) => {
                let masked = self.mask(s);
                if masked != *s {
                    *s = masked;
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.mask_json(v)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| self.mask_json(v)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_values_and_exports_only_mentioned_secrets() {
        let r = SecretRegistry::default();
        r.set("GITHUB_TOKEN", "ghp_abcdef123456", Some("GitHub".into()));
        r.set("DB_PASS", "hunter2hunter2", None);
        assert_eq!(
            r.mask("token=ghp_abcdef123456 ok"),
            "token=<secret-hidden> ok"
        );
        assert_eq!(
            r.env_for("curl -H \"$github_token\""),
            vec![("GITHUB_TOKEN".into(), "ghp_abcdef123456".into())]
        );
        assert!(r.env_for("ls").is_empty());
        let mut v = serde_json::json!({"a": ["x hunter2hunter2 y"], "b": 1});
        r.mask_json(&mut v);
        assert_eq!(v["a"][0], "x <secret-hidden> y");
    }

    #[test]
    fn the_engines_own_keys_are_masked_but_never_exported() {
        let r = SecretRegistry::default();
        r.mask_also("sk-llm-0123456789");
        assert_eq!(r.mask("key sk-llm-0123456789"), "key <secret-hidden>");
        let mut v = serde_json::json!({"out": "sk-llm-0123456789"});
        r.mask_json(&mut v);
        assert_eq!(v["out"], MASK);
        assert!(r.env_for("echo sk-llm-0123456789").is_empty());
        assert!(r.values().is_empty());
    }
}
