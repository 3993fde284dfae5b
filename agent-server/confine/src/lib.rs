//! `berth-confine`: OS confinement of every process the agent starts in a process sandbox.
//!
//! The app hands the agent-server a [`ConfinementPolicy`] (what a command may read, write and
//! reach). The agent-server never confines itself: each command goes through the helper — the
//! agent-server's own binary run as `berth-agent-server confine -- <command>` — which applies
//! the policy to itself and then executes the command, so nothing extra ships and the
//! multi-threaded server is never half-restricted. A probe at start runs the helper once and
//! reports what holds on this machine ([`ConfinementState`]); with nothing to confine with,
//! commands run unconfined and the state says so, unless the policy requires confinement, in
//! which case they are refused.
//!
//! - Linux: Landlock (files; TCP from ABI 4) and seccomp (the sockets Landlock cannot see).
//! - macOS: a deny-by-default `sandbox-exec` profile.
//! - Elsewhere: unconfined, said plainly.
//!
//! Bubblewrap is not used yet. Where it works it would add namespaces (a private `/tmp`, its
//! own process tree, UNIX sockets reachable by path again); but it is often refused (Ubuntu's
//! AppArmor limit on unprivileged user namespaces, containers), and on the kernels Berth
//! targets Landlock plus seccomp already holds the file, network and signal boundary on its
//! own, without a setuid or namespace helper. It is the next layer, not a replacement.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

pub use berth_protocol::{CONFINEMENT_ENV, ConfinementPolicy, ConfinementState, NetworkAccess};

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "macos")]
mod macos;
pub mod roots;
pub mod secrets;

/// The first argument that turns `berth-agent-server` into the helper.
pub const HELPER_ARG: &str = "confine";
const PROBE_ARG: &str = "--probe";

#[derive(Debug, thiserror::Error)]
pub enum ConfineError {
    /// Nothing on this machine can confine (the reason is for the user).
    #[error("{0}")]
    Unavailable(String),
    #[error("cannot confine the command: {0}")]
    Apply(String),
    #[error("the confinement policy in {CONFINEMENT_ENV} is not valid: {0}")]
    Policy(String),
    #[error(
        "confinement is required, but commands cannot be confined here: {0}. Run the conversation in a Docker sandbox, or turn off \"Require confinement\" in Settings"
    )]
    Required(String),
    #[error("cannot prepare the sandbox's own folders: {0}")]
    Folders(String),
}

/// A command, ready to be started by whichever process API the caller uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    pub program: OsString,
    pub args: Vec<OsString>,
    /// Set in the command's environment.
    pub env: Vec<(OsString, OsString)>,
}

/// The agent-server's confinement: the policy, what the probe found, and the helper to run.
#[derive(Debug, Clone)]
pub struct Confiner {
    policy: Option<ConfinementPolicy>,
    state: ConfinementState,
    helper: PathBuf,
    /// For [`Confiner::restrict_this_thread`], worked out once: the policy with the secrets
    /// inside writable folders dropped, and the folders it lets a thread read.
    #[cfg(target_os = "linux")]
    thread: (ConfinementPolicy, Vec<PathBuf>),
}

impl Confiner {
    /// No policy: commands run as they are (a Docker sandbox, whose container is the boundary).
    pub fn none() -> Self {
        Self {
            policy: None,
            state: ConfinementState::Unconfined {
                reason: "no confinement policy was given".into(),
            },
            helper: PathBuf::new(),
            #[cfg(target_os = "linux")]
            thread: Default::default(),
        }
    }

    /// The policy from [`CONFINEMENT_ENV`], probed on this machine with `helper` (this binary).
    pub fn from_env(helper: PathBuf) -> Result<Self, ConfineError> {
        let Some(raw) = std::env::var_os(CONFINEMENT_ENV) else {
            return Ok(Self::none());
        };
        let policy: ConfinementPolicy = serde_json::from_str(&raw.to_string_lossy())
            .map_err(|e| ConfineError::Policy(e.to_string()))?;
        Self::new(policy, helper)
    }

    pub fn new(policy: ConfinementPolicy, helper: PathBuf) -> Result<Self, ConfineError> {
        prepare_folders(&policy)?;
        let state = probe(&policy, &helper);
        #[cfg(target_os = "linux")]
        let thread = {
            let mut split = policy.clone();
            split_denied(&mut split);
            let roots = roots::readable_roots(&split.denied);
            (split, roots)
        };
        Ok(Self {
            policy: Some(policy),
            state,
            helper,
            #[cfg(target_os = "linux")]
            thread,
        })
    }

    /// Confines the calling thread's file access as a command's would be, for the agent's
    /// in-process file tools (`file_editor`, `glob`, `grep`): a path the agent names is opened
    /// by the kernel's rules, not checked first and raced later. The thread must be one of
    /// their own: the restriction cannot be lifted. Nothing to do without a policy.
    pub fn restrict_this_thread(&self) -> Result<(), ConfineError> {
        let Some(policy) = &self.policy else {
            return Ok(());
        };
        if let ConfinementState::Unconfined { reason } = &self.state {
            return if policy.required {
                Err(ConfineError::Required(reason.clone()))
            } else {
                Ok(())
            };
        }
        self.restrict_platform_thread(policy)
    }

    #[cfg(target_os = "linux")]
    fn restrict_platform_thread(&self, _policy: &ConfinementPolicy) -> Result<(), ConfineError> {
        let (split, roots) = &self.thread;
        linux::landlock(split, roots, false).map(|_| ())
    }

    /// macOS has no per-thread sandbox: the in-process tools are not confined there yet.
    #[cfg(not(target_os = "linux"))]
    fn restrict_platform_thread(&self, _policy: &ConfinementPolicy) -> Result<(), ConfineError> {
        Ok(())
    }

    pub fn state(&self) -> &ConfinementState {
        &self.state
    }

    /// The commands' own temporary folder, when there is a policy: files the server prepares
    /// for them (their git hooks) go there, since the rest of `/tmp` is hidden from them.
    pub fn private_tmp(&self) -> Option<&Path> {
        self.policy.as_ref().map(|p| p.tmp.as_path())
    }

    /// `program args` as the agent may run it: through the helper when confinement holds, as
    /// it is when it cannot (and the policy allows that), or refused.
    pub fn command(&self, program: &OsStr, args: &[OsString]) -> Result<Launch, ConfineError> {
        let plain = Launch {
            program: program.to_owned(),
            args: args.to_vec(),
            env: Vec::new(),
        };
        let Some(policy) = &self.policy else {
            return Ok(plain);
        };
        if let ConfinementState::Unconfined { reason } = &self.state {
            return if policy.required {
                Err(ConfineError::Required(reason.clone()))
            } else {
                Ok(plain)
            };
        }
        let mut env = own_folders_env(policy);
        let policy_json =
            serde_json::to_string(policy).map_err(|e| ConfineError::Policy(e.to_string()))?;
        env.push((CONFINEMENT_ENV.into(), policy_json.into()));
        Ok(platform_launch(&self.helper, policy, program, args, env))
    }
}

/// The environment that points a command's tools at the sandbox's own home and temporary
/// folder, while the user's toolchains stay where they are (read-only).
fn own_folders_env(policy: &ConfinementPolicy) -> Vec<(OsString, OsString)> {
    // Caches and package stores are written to (cargo locks its registry even to build, Go
    // fills its module cache): the sandbox's own, whatever the user's environment says.
    let mut env: Vec<(OsString, OsString)> = vec![
        ("HOME".into(), policy.home.clone().into()),
        ("TMPDIR".into(), policy.tmp.clone().into()),
        ("CARGO_HOME".into(), policy.home.join(".cargo").into()),
        ("GOPATH".into(), policy.home.join("go").into()),
    ];
    // The installed toolchains are only read: the user's own.
    let rustup = std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .or_else(|| policy.user_home.as_ref().map(|h| h.join(".rustup")))
        .filter(|p| p.is_dir());
    if let Some(rustup) = rustup {
        env.push(("RUSTUP_HOME".into(), rustup.into()));
    }
    env
}

/// The sandbox's home and temporary folder, and a `~/.gitconfig` that includes the user's (so
/// commits carry the user's name) while `git config --global` writes stay in the sandbox.
fn prepare_folders(policy: &ConfinementPolicy) -> Result<(), ConfineError> {
    let folders = |e: std::io::Error| ConfineError::Folders(e.to_string());
    std::fs::create_dir_all(&policy.home).map_err(folders)?;
    std::fs::create_dir_all(&policy.tmp).map_err(folders)?;
    let gitconfig = policy.home.join(".gitconfig");
    if !gitconfig.exists()
        && let Some(user) = &policy.user_home
    {
        let includes: String = [user.join(".gitconfig"), user.join(".config/git/config")]
            .iter()
            .filter(|p| p.is_file())
            .map(|p| format!("[include]\n\tpath = {}\n", p.display()))
            .collect();
        std::fs::write(&gitconfig, includes).map_err(folders)?;
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn platform_launch(
    helper: &Path,
    _policy: &ConfinementPolicy,
    program: &OsStr,
    args: &[OsString],
    env: Vec<(OsString, OsString)>,
) -> Launch {
    let mut all = vec![OsString::from(HELPER_ARG), "--".into(), program.to_owned()];
    all.extend(args.iter().cloned());
    Launch {
        program: helper.as_os_str().to_owned(),
        args: all,
        env,
    }
}

#[cfg(target_os = "macos")]
fn platform_launch(
    _helper: &Path,
    policy: &ConfinementPolicy,
    program: &OsStr,
    args: &[OsString],
    env: Vec<(OsString, OsString)>,
) -> Launch {
    macos::launch(policy, program, args, env)
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn platform_launch(
    _helper: &Path,
    _policy: &ConfinementPolicy,
    program: &OsStr,
    args: &[OsString],
    env: Vec<(OsString, OsString)>,
) -> Launch {
    Launch {
        program: program.to_owned(),
        args: args.to_vec(),
        env,
    }
}

/// What confinement holds here: the helper run once under the policy, reporting.
fn probe(policy: &ConfinementPolicy, helper: &Path) -> ConfinementState {
    if let Some(reason) = &policy.unavailable {
        return ConfinementState::Unconfined {
            reason: reason.clone(),
        };
    }
    match platform_probe(policy, helper) {
        Ok(state) => state,
        Err(reason) => ConfinementState::Unconfined { reason },
    }
}

#[cfg(target_os = "linux")]
fn platform_probe(policy: &ConfinementPolicy, helper: &Path) -> Result<ConfinementState, String> {
    let json = serde_json::to_string(policy).map_err(|e| e.to_string())?;
    let out = std::process::Command::new(helper)
        .args([HELPER_ARG, PROBE_ARG])
        .env(CONFINEMENT_ENV, json)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            format!(
                "cannot run the confinement helper {}: {e}",
                helper.display()
            )
        })?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(if said.is_empty() {
            format!("the confinement helper failed ({})", out.status)
        } else {
            said
        });
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("the confinement helper's report is not valid: {e}"))
}

#[cfg(target_os = "macos")]
fn platform_probe(policy: &ConfinementPolicy, _helper: &Path) -> Result<ConfinementState, String> {
    macos::probe(policy)
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn platform_probe(_policy: &ConfinementPolicy, _helper: &Path) -> Result<ConfinementState, String> {
    Err("this system has no confinement Berth can use; use a Docker sandbox".into())
}

/// The helper: `confine [--probe] [-- program args…]`, the policy in [`CONFINEMENT_ENV`]. Applies
/// the policy to this process, then executes the program (or, probing, prints the state as
/// JSON). Returns only on failure, with the exit code to use.
#[cfg(target_os = "linux")]
pub fn helper_main(args: &[OsString]) -> i32 {
    use std::os::unix::process::CommandExt;
    let fail = |e: &dyn std::fmt::Display| {
        eprintln!("{e}");
        126
    };
    let policy: ConfinementPolicy = match std::env::var(CONFINEMENT_ENV)
        .map_err(|e| ConfineError::Policy(e.to_string()))
        .and_then(|raw| serde_json::from_str(&raw).map_err(|e| ConfineError::Policy(e.to_string())))
    {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    let mut policy = policy;
    let inside_writable = split_denied(&mut policy);
    let state = match linux::apply(&policy) {
        Ok(ConfinementState::Landlock {
            abi,
            network,
            mut notes,
        }) => {
            notes.extend(inside_writable);
            ConfinementState::Landlock {
                abi,
                network,
                notes,
            }
        }
        Ok(other) => other,
        Err(e) => return fail(&e),
    };
    let rest: Vec<&OsString> = args.iter().skip_while(|a| *a != "--").skip(1).collect();
    if args.iter().any(|a| a == PROBE_ARG) {
        return match serde_json::to_string(&state) {
            Ok(json) => {
                println!("{json}");
                0
            }
            Err(e) => fail(&e),
        };
    }
    let Some((program, program_args)) = rest.split_first() else {
        return fail(&"the confinement helper needs a command after --");
    };
    let error = std::process::Command::new(program)
        .args(program_args)
        .env_remove(CONFINEMENT_ENV)
        .exec();
    eprintln!("cannot run {}: {error}", program.to_string_lossy());
    127
}

/// Denied paths inside a writable folder cannot be hidden (Landlock only grants): they are
/// dropped from the policy and named, so the user is told.
#[cfg(target_os = "linux")]
fn split_denied(policy: &mut ConfinementPolicy) -> Vec<String> {
    let writable: Vec<PathBuf> = policy
        .writable
        .iter()
        .map(|p| roots::normalize(p))
        .collect();
    let mut notes = Vec::new();
    policy.denied.retain(|d| {
        let d = roots::normalize(d);
        match writable.iter().find(|w| d.starts_with(w)) {
            Some(w) => {
                if d.exists() {
                    notes.push(format!(
                        "{} is inside the writable folder {}, so commands can read it",
                        d.display(),
                        w.display()
                    ));
                }
                false
            }
            None => true,
        }
    });
    notes
}

#[cfg(not(target_os = "linux"))]
pub fn helper_main(_args: &[OsString]) -> i32 {
    eprintln!("the confinement helper runs on Linux only");
    126
}
