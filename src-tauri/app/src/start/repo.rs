//! Repository preparation on the host: clone a git URL (shallow unless asked otherwise, a branch
//! or a fresh work branch). This is the only git the host runs, before any agent has touched the
//! folder; hooks are the sandbox's (see `berth_agent::agent_env`), none is installed here.
//!
//! A token is given to git for the one command that needs it, as an HTTP header for the
//! provider's host alone, through git's environment (see [`crate::git_remote`]): it never reaches
//! the command line, `.git/config`, the remote URL or an error message shown to the user.

use std::path::Path;
use std::time::Duration;

use crate::git_remote::{GitRemote, basic_auth};

fn mask(text: &str, token: Option<&str>) -> String {
    match token.filter(|t| !t.is_empty()) {
        Some(t) => text
            .replace(t, "<secret-hidden>")
            .replace(&basic_auth(t), "<secret-hidden>"),
        None => text.to_string(),
    }
}

async fn git(
    dir: Option<&Path>,
    args: &[String],
    auth: Option<(&GitRemote, &str)>,
    timeout: Duration,
) -> Result<String, String> {
    let token = auth.map(|(_, t)| t);
    let mut cmd = tokio::process::Command::new("git");
    // The workspace may belong to the container's user: it is Berth's own checkout.
    cmd.args(["-c", "safe.directory=*"]);
    if let Some((remote, t)) = auth {
        cmd.envs(remote.token_env(t));
    }
    cmd.args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "true")
        .kill_on_drop(true);
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    let out = tokio::time::timeout(timeout, cmd.output())
        .await
        .map_err(|_| {
            format!(
                "git {} took longer than {} s",
                args.first().map(String::as_str).unwrap_or(""),
                timeout.as_secs()
            )
        })?
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(mask(String::from_utf8_lossy(&out.stderr).trim(), token))
    }
}

/// Clones `url` into `dest` (which must be empty or absent).
pub async fn clone(
    url: &str,
    dest: &Path,
    branch: Option<&str>,
    new_branch: Option<&str>,
    full: bool,
    token: Option<&str>,
) -> Result<(), String> {
    let remote = GitRemote::parse(url).map_err(|e| e.to_string())?;
    let mut args: Vec<String> = vec!["clone".into(), "--quiet".into()];
    if !full {
        args.extend(["--depth".into(), "1".into()]);
        // A shallow clone of a file:// or local path needs this to stay shallow.
        args.push("--no-local".into());
    }
    if let Some(b) = branch {
        args.extend(["--branch".into(), b.into()]);
    }
    args.extend(["--".into(), url.into(), dest.display().to_string()]);
    let auth = token.filter(|t| !t.is_empty()).map(|t| (&remote, t));
    git(None, &args, auth, Duration::from_secs(600))
        .await
        .map_err(|e| format!("could not clone {}: {e}", mask(url, token)))?;
    if let Some(nb) = new_branch {
        git(
            Some(dest),
            &["checkout".into(), "-q".into(), "-b".into(), nb.into()],
            None,
            Duration::from_secs(60),
        )
        .await
        .map_err(|e| format!("could not create the branch {nb}: {e}"))?;
    }
    Ok(())
}
