//! The environment of every process the agent starts: the terminal tool's shell, `/api/bash`
//! commands (the setup script, the user's Terminal tab) — one definition for all of them.
//!
//! - The server's keys and the LLM key are removed: with the session key an agent could approve
//!   its own actions through the API, with the sealing key open stored secrets, with the LLM key
//!   spend the user's money elsewhere. (Removing them from the child's environment is not
//!   enough on its own: the server also makes itself non-dumpable, see the server's `keys`.)
//! - Git's hooks come from a folder of the sandbox's own (`core.hooksPath` through
//!   `GIT_CONFIG_*`), never from a hook Berth writes into the repository: a hook in `.git/hooks`
//!   of a bind-mounted workspace would run on the host at the user's next commit. The
//!   `pre-commit` hook runs the repository's `.openhands/pre-commit.sh`; every hook then runs
//!   the repository's own hook of that name, inside the sandbox.
//! - In a process sandbox every one of them runs OS-confined ([`launch`], `berth-confine`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

static CONFINER: OnceLock<berth_confine::Confiner> = OnceLock::new();

/// Sets the confinement of every process the agent starts; once, at start-up.
pub fn confine_with(confiner: berth_confine::Confiner) {
    if CONFINER.set(confiner).is_err() {
        tracing::warn!("the confinement was already set; the first one stays");
    }
}

/// The confinement in force (none until [`confine_with`]).
pub fn confiner() -> &'static berth_confine::Confiner {
    CONFINER.get_or_init(berth_confine::Confiner::none)
}

/// Runs `f` on a new thread whose file access is confined like the agent's commands (see
/// `Confiner::restrict_this_thread`), for the tools that open the agent's paths in-process.
pub async fn on_confined_thread<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("confined-tool".into())
        .spawn(move || {
            if tx.send(confined(f)).is_err() {
                tracing::debug!("a file tool finished after its caller stopped waiting");
            }
        })
        .map_err(|e| format!("cannot start the file tool: {e}"))?;
    rx.await
        .map_err(|_| "the file tool stopped before it answered".to_string())?
}

/// Runs `f` on the calling thread once that thread is confined (it stays so).
fn confined<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    confiner()
        .restrict_this_thread()
        .map(|()| f())
        .map_err(|e| e.to_string())
}

/// [`on_confined_thread`] for a short synchronous job that borrows: the caller waits for it.
pub fn confined_now<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T, String> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("confined-read".into())
            .spawn_scoped(scope, || confined(f))
            .map_err(|e| format!("cannot start a confined thread: {e}"))?
            .join()
            .map_err(|_| "a confined thread panicked".to_string())?
    })
}

/// How to start `program args` as one of the agent's processes: confined when confinement is
/// set, with [`added`] in its environment (the caller removes [`withheld`]).
pub fn launch(
    program: &str,
    args: &[&str],
) -> Result<berth_confine::Launch, berth_confine::ConfineError> {
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    let mut launch = confiner().command(program.as_ref(), &args)?;
    let mut env: Vec<(OsString, OsString)> = added()
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    env.append(&mut launch.env);
    launch.env = env;
    Ok(launch)
}

/// Variables the agent's processes never see.
pub fn is_withheld(name: &str) -> bool {
    name == "SESSION_API_KEY"
        || name.starts_with("OH_SESSION_API_KEYS")
        || name == "OH_SECRET_KEY"
        || name == "BERTH_KEYS_FILE"
        || name == "LLM_API_KEY"
}

/// The names in this process's environment that the agent's processes must not inherit.
pub fn withheld() -> Vec<OsString> {
    std::env::vars_os()
        .map(|(name, _)| name)
        .filter(|name| is_withheld(&name.to_string_lossy()))
        .collect()
}

/// Variables the agent's processes get in addition to the inherited ones.
pub fn added() -> Vec<(String, String)> {
    match hooks_dir() {
        Some(dir) => vec![
            ("GIT_CONFIG_COUNT".into(), "1".into()),
            ("GIT_CONFIG_KEY_0".into(), "core.hooksPath".into()),
            ("GIT_CONFIG_VALUE_0".into(), dir.display().to_string()),
        ],
        None => Vec::new(),
    }
}

/// The hooks the sandbox's git runs, chained to the repository's own.
const HOOKS: &[&str] = &[
    "pre-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
    "pre-push",
    "post-checkout",
    "post-merge",
    "pre-rebase",
];

fn hook_script(name: &str) -> String {
    let openhands = if name == "pre-commit" {
        "top=$(git rev-parse --show-toplevel) || exit 1\n\
         if [ -f \"$top/.openhands/pre-commit.sh\" ]; then bash \"$top/.openhands/pre-commit.sh\" || exit $?; fi\n"
    } else {
        ""
    };
    format!(
        "#!/bin/sh\n# Berth's sandbox hook: the repository's .openhands/pre-commit.sh (before commits), then the repository's own {name} hook.\n\
         {openhands}own=\"$(git rev-parse --git-common-dir)/hooks/{name}\"\n\
         if [ -x \"$own\" ]; then exec \"$own\" \"$@\"; fi\n"
    )
}

fn write_hooks(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for name in HOOKS {
        let path = dir.join(name);
        std::fs::write(&path, hook_script(name))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

/// Made once per server, in a fresh private temporary folder (inside the confined commands' own
/// temporary folder when there is one).
fn hooks_dir() -> Option<&'static PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let mut builder = tempfile::Builder::new();
        builder.prefix("berth-git-hooks-");
        let made = match confiner().private_tmp() {
            Some(tmp) => builder.tempdir_in(tmp),
            None => builder.tempdir(),
        };
        let made = made
            .map(|d| d.keep())
            .and_then(|d| write_hooks(&d).map(|()| d));
        match made {
            Ok(d) => Some(d),
            Err(e) => {
                tracing::warn!(error = %e, "cannot prepare the sandbox's git hooks; .openhands/pre-commit.sh will not run on commits");
                None
            }
        }
    })
    .as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_withheld_and_ordinary_variables_are_not() {
        for k in [
            "SESSION_API_KEY",
            "OH_SESSION_API_KEYS_0",
            "OH_SECRET_KEY",
            "LLM_API_KEY",
            "BERTH_KEYS_FILE",
        ] {
            assert!(is_withheld(k), "{k}");
        }
        for k in ["PATH", "HOME", "LLM_MODEL", "GITHUB_ACTIONS"] {
            assert!(!is_withheld(k), "{k}");
        }
    }

    #[test]
    fn the_hooks_folder_holds_every_chained_hook() {
        let vars = added();
        let dir = vars
            .iter()
            .find(|(k, _)| k == "GIT_CONFIG_VALUE_0")
            .map(|(_, v)| PathBuf::from(v))
            .unwrap_or_default();
        for name in HOOKS {
            let text = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
            assert!(text.contains(&format!("hooks/{name}\"")), "{name}: {text}");
        }
    }
}
