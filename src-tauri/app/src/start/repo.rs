//! Repository preparation on the host: clone a git URL (shallow unless asked otherwise, a branch
//! or a fresh work branch) and install `.openhands/pre-commit.sh` as a git hook.
//!
//! A token is given to git for the one command that needs it, as an HTTP header on the command
//! line (`-c http.extraHeader=…`): it never reaches `.git/config`, the remote URL or an error
//! message shown to the user.

use std::path::Path;
use std::time::Duration;

use base64::Engine;

pub const HOOK_MARKER: &str = "# Installed by Berth";

fn mask(text: &str, token: Option<&str>) -> String {
    match token.filter(|t| !t.is_empty()) {
        Some(t) => text
            .replace(t, "<secret-hidden>")
            .replace(&basic_auth(t), "<secret-hidden>"),
        None => text.to_string(),
    }
}

fn basic_auth(token: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{token}"))
}

async fn git(
    dir: Option<&Path>,
    args: &[String],
    token: Option<&str>,
    timeout: Duration,
) -> Result<String, String> {
    let mut cmd = tokio::process::Command::new("git");
    // The workspace may belong to the container's user: it is Berth's own checkout.
    cmd.args(["-c", "safe.directory=*"]);
    if let Some(t) = token.filter(|t| !t.is_empty()) {
        cmd.arg("-c").arg(format!(
            "http.extraHeader=Authorization: Basic {}",
            basic_auth(t)
        ));
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
    git(None, &args, token, Duration::from_secs(600))
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

/// Installs the repository's `.openhands/pre-commit.sh` as the pre-commit hook. A hook that was
/// already there (not Berth's) moves to `pre-commit.local` and still runs after it. Returns
/// whether a hook was installed.
pub async fn install_pre_commit(repo: &Path) -> Result<bool, String> {
    if !repo.join(".openhands/pre-commit.sh").is_file() {
        return Ok(false);
    }
    let hooks = git(
        Some(repo),
        &["rev-parse".into(), "--git-path".into(), "hooks".into()],
        None,
        Duration::from_secs(30),
    )
    .await
    .map_err(|e| format!("{} is not a git repository: {e}", repo.display()))?;
    let hooks = repo.join(hooks.trim());
    std::fs::create_dir_all(&hooks)
        .map_err(|e| format!("cannot create {}: {e}", hooks.display()))?;
    let hook = hooks.join("pre-commit");
    let local = hooks.join("pre-commit.local");
    if hook.is_file() {
        let current = std::fs::read_to_string(&hook).unwrap_or_default();
        if !current.contains(HOOK_MARKER) {
            std::fs::rename(&hook, &local)
                .map_err(|e| format!("cannot keep the existing hook: {e}"))?;
        }
    }
    let script = format!(
        "#!/bin/sh\n{HOOK_MARKER}: runs the repository's .openhands/pre-commit.sh, then the hook that was here before.\n\
         bash \"$(git rev-parse --show-toplevel)/.openhands/pre-commit.sh\" || exit $?\n\
         if [ -x \"$(dirname \"$0\")/pre-commit.local\" ]; then exec \"$(dirname \"$0\")/pre-commit.local\" \"$@\"; fi\n"
    );
    std::fs::write(&hook, script).map_err(|e| format!("cannot write {}: {e}", hook.display()))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| e.to_string())?;
    Ok(true)
}
