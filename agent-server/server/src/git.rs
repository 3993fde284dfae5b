//! Git in the sandbox's workspace, for `/api/git/*`: which files changed against a ref, and a
//! file's content at a ref. Git runs here, inside the sandbox, never on the host: a repository's
//! config and hooks are the agent's to write.
//!
//! Refs come from the caller and go to git after `--end-of-options`, and only when they look
//! like a ref or a revision (no leading `-`, no control characters), so `ref=--output=/x` is a
//! bad request rather than an option.

use std::path::{Path, PathBuf};

use berth_protocol::{GitChange, GitChangeStatus};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run git: {0}")]
    Spawn(String),
    #[error("'{0}' is not a git ref or revision")]
    BadRef(String),
    #[error("{0} is not in a git repository")]
    NotARepository(String),
    #[error("the file is outside its repository")]
    OutsideRepository,
    #[error("{0}")]
    Failed(String),
}

async fn git(dir: &Path, args: &[&str]) -> Result<std::process::Output, GitError> {
    // The repository's config is the agent's to write: the server's own status checks do not
    // run an fsmonitor it set (they would, on every change of the workspace), and git runs
    // confined like the agent's own commands, since a filter or diff driver it set still runs.
    let dir = dir.to_string_lossy();
    let mut all = vec!["-C", dir.as_ref(), "-c", "core.fsmonitor=false"];
    all.extend_from_slice(args);
    let launch =
        berth_agent::agent_env::launch("git", &all).map_err(|e| GitError::Spawn(e.to_string()))?;
    let mut cmd = tokio::process::Command::new(&launch.program);
    cmd.args(&launch.args).envs(launch.env);
    for name in berth_agent::agent_env::withheld() {
        cmd.env_remove(name);
    }
    cmd.output()
        .await
        .map_err(|e| GitError::Spawn(e.to_string()))
}

fn check_ref(r: &str) -> Result<&str, GitError> {
    let ok = !r.is_empty()
        && r.len() <= 256
        && !r.starts_with('-')
        && !r.chars().any(|c| c.is_control() || c == ' ');
    ok.then_some(r)
        .ok_or_else(|| GitError::BadRef(r.to_string()))
}

fn paths(stdout: &[u8]) -> impl Iterator<Item = String> + '_ {
    stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
}

/// Changed files of the repository holding `dir` against `base` (default HEAD), untracked files
/// included; empty outside a repository.
pub async fn changes(dir: &Path, base: Option<&str>) -> Result<Vec<GitChange>, GitError> {
    if !git(dir, &["rev-parse", "--show-toplevel"])
        .await?
        .status
        .success()
    {
        return Ok(Vec::new());
    }
    let has_head = git(dir, &["rev-parse", "--verify", "-q", "HEAD"])
        .await?
        .status
        .success();
    let mut out = Vec::new();
    if has_head || base.is_some() {
        let base = check_ref(base.unwrap_or("HEAD"))?;
        let diff = git(
            dir,
            &[
                "diff",
                "--name-status",
                "-z",
                "-M",
                "--end-of-options",
                base,
                "--",
            ],
        )
        .await?;
        if !diff.status.success() {
            return Err(GitError::Failed(
                String::from_utf8_lossy(&diff.stderr).trim().to_string(),
            ));
        }
        let mut parts = paths(&diff.stdout);
        while let Some(code) = parts.next() {
            let status = match code.chars().next() {
                Some('A') | Some('C') => GitChangeStatus::Added,
                Some('D') => GitChangeStatus::Deleted,
                Some('R') => GitChangeStatus::Moved,
                _ => GitChangeStatus::Updated,
            };
            // A rename or copy names the old path first.
            if matches!(code.chars().next(), Some('R') | Some('C')) {
                parts.next();
            }
            if let Some(path) = parts.next() {
                out.push(GitChange { status, path });
            }
        }
    } else {
        let listed = git(dir, &["ls-files", "-z", "--cached"]).await?;
        out.extend(paths(&listed.stdout).map(|path| GitChange {
            status: GitChangeStatus::Added,
            path,
        }));
    }
    let untracked = git(dir, &["ls-files", "-z", "--others", "--exclude-standard"]).await?;
    out.extend(paths(&untracked.stdout).map(|path| GitChange {
        status: GitChangeStatus::Added,
        path,
    }));
    Ok(out)
}

/// A file's content at `base` (default HEAD), `None` when it did not exist there.
pub async fn original(file: &Path, base: Option<&str>) -> Result<Option<String>, GitError> {
    let dir = file.parent().unwrap_or(Path::new("/"));
    let existing = dir
        .ancestors()
        .find(|a| a.is_dir())
        .unwrap_or(Path::new("/"));
    let top = git(existing, &["rev-parse", "--show-toplevel"]).await?;
    if !top.status.success() {
        return Err(GitError::NotARepository(file.display().to_string()));
    }
    let root = PathBuf::from(String::from_utf8_lossy(&top.stdout).trim());
    let rel = file
        .strip_prefix(&root)
        .map_err(|_| GitError::OutsideRepository)?;
    let spec = format!("{}:{}", check_ref(base.unwrap_or("HEAD"))?, rel.display());
    let shown = git(&root, &["show", "--end-of-options", &spec]).await?;
    Ok(shown
        .status
        .success()
        .then(|| String::from_utf8_lossy(&shown.stdout).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_and_odd_refs_are_not_refs() {
        for bad in ["--output=/tmp/x", "-p", "", "a b", "HEAD\n", "x\u{1b}[2J"] {
            assert!(check_ref(bad).is_err(), "{bad:?} was taken as a ref");
        }
        for good in ["HEAD", "main", "origin/main", "HEAD~2", "v1.0", "0123abcd"] {
            assert!(check_ref(good).is_ok(), "{good:?} was refused");
        }
    }
}
