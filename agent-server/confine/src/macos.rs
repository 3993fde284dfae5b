//! macOS: every command under `/usr/bin/sandbox-exec` (only that absolute path is trusted) with a
//! deny-by-default Seatbelt profile: processes may run and read, except the secrets; writes
//! only to the writable folders and the usual devices; the network as the policy says.

use std::ffi::{OsStr, OsString};
use std::path::Path;

use berth_protocol::{ConfinementPolicy, ConfinementState, NetworkAccess};

use crate::Launch;

const SANDBOX_EXEC: &str = "/usr/bin/sandbox-exec";

/// A path as a Seatbelt string literal.
fn literal(p: &Path) -> String {
    let s = p.display().to_string();
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

pub fn profile(policy: &ConfinementPolicy) -> String {
    let mut p = String::from(
        "(version 1)\n(deny default)\n\
         (allow process-exec process-fork signal (target same-sandbox))\n\
         (allow sysctl-read mach-lookup ipc-posix-shm iokit-open pseudo-tty)\n\
         (allow file-read*)\n\
         (allow file-write* (literal \"/dev/null\") (literal \"/dev/zero\") (literal \"/dev/tty\") (regex #\"^/dev/ttys[0-9]+$\") (literal \"/dev/ptmx\"))\n",
    );
    for d in &policy.denied {
        p.push_str(&format!("(deny file-read* (subpath {}))\n", literal(d)));
    }
    for r in &policy.readable {
        p.push_str(&format!("(allow file-read* (subpath {}))\n", literal(r)));
    }
    for w in policy.writable.iter().chain([&policy.home, &policy.tmp]) {
        p.push_str(&format!(
            "(allow file-read* file-write* (subpath {}))\n",
            literal(w)
        ));
    }
    match policy.network {
        NetworkAccess::On => p.push_str("(allow network*)\n"),
        NetworkAccess::Off => {
            for port in &policy.loopback_ports {
                p.push_str(&format!(
                    "(allow network-outbound (remote ip \"localhost:{port}\"))\n"
                ));
            }
        }
    }
    p
}

pub fn launch(
    policy: &ConfinementPolicy,
    program: &OsStr,
    args: &[OsString],
    env: Vec<(OsString, OsString)>,
) -> Launch {
    let mut all = vec![
        OsString::from("-p"),
        profile(policy).into(),
        "--".into(),
        program.to_owned(),
    ];
    all.extend(args.iter().cloned());
    Launch {
        program: SANDBOX_EXEC.into(),
        args: all,
        env,
    }
}

pub fn probe(policy: &ConfinementPolicy) -> Result<ConfinementState, String> {
    let status = std::process::Command::new(SANDBOX_EXEC)
        .args(["-p", &profile(policy), "--", "/usr/bin/true"])
        .status()
        .map_err(|e| format!("cannot run {SANDBOX_EXEC}: {e}"))?;
    if status.success() {
        Ok(ConfinementState::Seatbelt {
            network: policy.network,
        })
    } else {
        Err(format!("{SANDBOX_EXEC} refused the profile ({status})"))
    }
}
