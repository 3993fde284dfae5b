//! Who the agent's commits are by: the name and email from Settings, given to a sandbox's
//! agent-server (and so to every command it starts) as git's author and committer variables.
//! They take precedence over `user.name` and `user.email` in any git configuration, so commits
//! in a Docker sandbox (which has none) and in a process sandbox (which sees the user's own)
//! carry the identity the user chose for the agent.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default, ts_rs::TS)]
#[serde(default, deny_unknown_fields)]
pub struct GitIdentity {
    pub name: Option<String>,
    pub email: Option<String>,
}

impl GitIdentity {
    /// The variables to set: none for a part left empty (git then falls back as usual), and
    /// none for a value no environment can hold.
    pub fn environment(&self) -> Vec<(&'static str, String)> {
        let usable = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty() && !v.contains(['\0', '\n']))
                .map(str::to_string)
        };
        let mut env = Vec::new();
        if let Some(name) = usable(&self.name) {
            env.push(("GIT_AUTHOR_NAME", name.clone()));
            env.push(("GIT_COMMITTER_NAME", name));
        }
        if let Some(email) = usable(&self.email) {
            env.push(("GIT_AUTHOR_EMAIL", email.clone()));
            env.push(("GIT_COMMITTER_EMAIL", email));
        }
        env
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_usable_parts_become_variables() {
        let both = GitIdentity {
            name: Some(" Agent Smith ".into()),
            email: Some("agent@example.com".into()),
        };
        assert_eq!(
            both.environment(),
            vec![
                ("GIT_AUTHOR_NAME", "Agent Smith".to_string()),
                ("GIT_COMMITTER_NAME", "Agent Smith".to_string()),
                ("GIT_AUTHOR_EMAIL", "agent@example.com".to_string()),
                ("GIT_COMMITTER_EMAIL", "agent@example.com".to_string()),
            ]
        );
        let odd = GitIdentity {
            name: Some("two\nlines".into()),
            email: Some("  ".into()),
        };
        assert!(odd.environment().is_empty());
        assert!(GitIdentity::default().environment().is_empty());
    }
}
