//! What the agent changed in a repository's `.git/` that the user's own git would run. Berth
//! never runs git on the host (see `watcher`), but the workspace is the user's folder: a
//! `core.fsmonitor`, an `include.path` or a hook the agent writes runs the next time **the
//! user** runs git there. So the app fingerprints `.git/config`, `.git/info/attributes` and the
//! hooks before any sandbox code runs, and tells the user when they no longer match.
//!
//! Only plain reads: no git, no following a symlink the agent planted (a link is recorded as
//! its target's name), no reading of a FIFO or device, at most `MAX_FILE` bytes a file.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Larger files are fingerprinted by their first bytes and their length.
const MAX_FILE: u64 = 1024 * 1024;

/// Path (relative to the workspace) → what it holds. Kept by the app, never in a sandbox.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitFingerprint(BTreeMap<String, String>);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum TamperKind {
    Added,
    Changed,
    Removed,
}

/// One file of `.git/` that differs from before the agent ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct GitTamper {
    pub path: String,
    pub change: TamperKind,
}

impl GitFingerprint {
    /// The fingerprint of the repository at `root`; empty when it is no repository.
    pub fn of(root: &Path) -> Self {
        let git = root.join(".git");
        let mut files = BTreeMap::new();
        let mut add = |rel: String| {
            if let Some(print) = print(&root.join(&rel)) {
                files.insert(rel, print);
            }
        };
        add(".git/config".into());
        add(".git/info/attributes".into());
        if let Ok(hooks) = std::fs::read_dir(git.join("hooks")) {
            for entry in hooks.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                // git ships inert samples; only a hook without the suffix runs.
                if !name.ends_with(".sample") {
                    add(format!(".git/hooks/{name}"));
                }
            }
        }
        Self(files)
    }

    /// What differs in `now` from `self`, in path order.
    pub fn changes(&self, now: &Self) -> Vec<GitTamper> {
        let mut out = Vec::new();
        for (path, before) in &self.0 {
            match now.0.get(path) {
                None => out.push(tamper(path, TamperKind::Removed)),
                Some(after) if after != before => out.push(tamper(path, TamperKind::Changed)),
                Some(_) => {}
            }
        }
        for path in now.0.keys().filter(|p| !self.0.contains_key(*p)) {
            out.push(tamper(path, TamperKind::Added));
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }
}

fn tamper(path: &str, change: TamperKind) -> GitTamper {
    GitTamper {
        path: path.to_string(),
        change,
    }
}

/// A file's fingerprint: its content's hash, a symlink's target, or its kind.
fn print(path: &Path) -> Option<String> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(path).ok()?;
        return Some(format!("symlink {}", target.display()));
    }
    if !meta.is_file() {
        return Some("not a file".into());
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(MAX_FILE)
        .read_to_end(&mut bytes)
        .ok()?;
    let mode = {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            meta.permissions().mode() & 0o111
        }
        #[cfg(not(unix))]
        {
            0
        }
    };
    Some(format!(
        "{:x} {} {mode:o}",
        Sha256::digest(&bytes),
        meta.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_hooks_and_links_the_agent_writes_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join(".git/hooks")).unwrap();
        std::fs::write(root.join(".git/config"), "[core]\n").unwrap();
        std::fs::write(root.join(".git/hooks/pre-commit.sample"), "x").unwrap();
        let before = GitFingerprint::of(root);
        assert_eq!(before.changes(&GitFingerprint::of(root)), vec![]);

        std::fs::write(
            root.join(".git/config"),
            "[core]\n\tfsmonitor = touch /tmp/x\n",
        )
        .unwrap();
        std::fs::write(root.join(".git/hooks/post-checkout"), "#!/bin/sh\n").unwrap();
        std::fs::write(root.join(".git/hooks/pre-commit.sample"), "changed, inert").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("/etc/passwd", root.join(".git/info")).unwrap();
        let found = before.changes(&GitFingerprint::of(root));
        assert_eq!(
            found,
            vec![
                tamper(".git/config", TamperKind::Changed),
                tamper(".git/hooks/post-checkout", TamperKind::Added),
            ]
        );
    }
}
