//! Linux: a Landlock domain for the files and TCP, a seccomp filter for the sockets Landlock
//! cannot see, both applied to the helper process just before it executes the command (so the
//! agent-server itself, a multi-threaded program, is never restricted).
//!
//! Crates: `landlock` (the Landlock maintainers' own, best-effort across ABIs) and
//! `seccompiler` (rust-vmm's, used by Firecracker: BPF from rule maps, no C library).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use berth_protocol::{ConfinementPolicy, ConfinementState, NetworkAccess};
use landlock::{
    ABI, Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, LandlockStatus, NetPort,
    PathBeneath, PathFd, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope,
};
use seccompiler::{
    SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
    TargetArch,
};

use crate::ConfineError;
use crate::roots::readable_roots;

/// The newest ABI this code was written and tested against; older kernels get what they offer.
const ABI_WANTED: ABI = ABI::V10;

/// Device files every program expects to open for writing.
const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
    "/dev/ptmx",
    "/dev/pts",
    "/dev/shm",
];

fn landlock_error(e: impl std::fmt::Display) -> ConfineError {
    ConfineError::Apply(format!("Landlock: {e}"))
}

fn rule(path: &Path, access: BitFlags<AccessFs>) -> Result<PathBeneath<PathFd>, ConfineError> {
    let fd = PathFd::new(path).map_err(landlock_error)?;
    // Folder rights on a file are an error to the kernel.
    let access = if path.is_dir() {
        access
    } else {
        access & AccessFs::from_file(ABI_WANTED)
    };
    Ok(PathBeneath::new(fd, access))
}

/// The ABI the kernel gave, from the restriction's report.
fn abi_of(status: &LandlockStatus) -> Option<u32> {
    match status {
        LandlockStatus::Available { effective_abi, .. } => Some(*effective_abi as u32),
        _ => None,
    }
}

fn no_landlock(status: &LandlockStatus) -> String {
    match status {
        LandlockStatus::NotEnabled => {
            "Landlock is built into this kernel but not enabled (add landlock to the lsm= boot parameter)".into()
        }
        _ => "this kernel has no Landlock (Linux 5.13 or newer is needed)".into(),
    }
}

/// Restricts the calling thread (and what it executes) to `policy`: files, network, sockets.
pub fn apply(policy: &ConfinementPolicy) -> Result<ConfinementState, ConfineError> {
    let abi = landlock(policy, &readable_roots(&policy.denied), true)?;
    let sockets = SocketRules::for_kernel(abi, policy.network);
    sockets.apply()?;
    Ok(ConfinementState::Landlock {
        abi,
        network: policy.network,
        notes: sockets.notes(abi, policy),
    })
}

/// Restricts the calling thread's file access to `policy` (readable: `roots`); returns the ABI.
/// Before Landlock ABI 8 a restriction covers the calling thread only, which is what lets the
/// agent-server run its in-process file tools on a thread of their own.
pub fn landlock(
    policy: &ConfinementPolicy,
    roots: &[PathBuf],
    with_network: bool,
) -> Result<u32, ConfineError> {
    let read = AccessFs::from_read(ABI_WANTED);
    let all = AccessFs::from_all(ABI_WANTED);
    let network_off = with_network && policy.network == NetworkAccess::Off;
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(all)
        .map_err(landlock_error)?
        .scope(Scope::from_all(ABI_WANTED))
        .map_err(landlock_error)?;
    if network_off {
        ruleset = ruleset
            .handle_access(AccessNet::from_all(ABI_WANTED))
            .map_err(landlock_error)?;
    }
    let mut created = ruleset.create().map_err(landlock_error)?;
    for root in roots.iter().chain(&policy.readable).filter(|p| p.exists()) {
        created = created
            .add_rule(rule(root, read)?)
            .map_err(landlock_error)?;
    }
    let writable: Vec<PathBuf> = policy
        .writable
        .iter()
        .cloned()
        .chain([policy.home.clone(), policy.tmp.clone()])
        .chain(DEVICES.iter().map(PathBuf::from))
        .filter(|p| p.exists())
        .collect();
    for root in &writable {
        created = created.add_rule(rule(root, all)?).map_err(landlock_error)?;
    }
    if network_off {
        for port in &policy.loopback_ports {
            created = created
                .add_rule(NetPort::new(*port, AccessNet::ConnectTcp))
                .map_err(landlock_error)?;
        }
    }
    let status = created.restrict_self().map_err(landlock_error)?;
    let Some(abi) = abi_of(&status.landlock) else {
        return Err(ConfineError::Unavailable(no_landlock(&status.landlock)));
    };
    if status.ruleset == RulesetStatus::NotEnforced {
        return Err(ConfineError::Unavailable(format!(
            "the kernel's Landlock (ABI {abi}) enforced none of the rules"
        )));
    }
    Ok(abi)
}

/// What the seccomp filter refuses, decided by what this kernel's Landlock cannot.
struct SocketRules {
    /// Landlock before ABI 9 cannot limit connecting to a UNIX socket by its path (the D-Bus
    /// session bus, and through it the keyring; the SSH agent; Docker): no new UNIX sockets.
    unix: bool,
    /// Network off: no UDP or raw sockets (Landlock filters TCP only, and UDP from ABI 10).
    datagram: bool,
    /// Network off on a kernel without Landlock's TCP rules (ABI < 4): no IP sockets at all.
    ip: bool,
}

const AF_UNIX: u64 = 1;
const AF_INET: u64 = 2;
const AF_INET6: u64 = 10;
const AF_PACKET: u64 = 17;
const OTHER_SOCKET_TYPES: [u64; 6] = [2, 3, 4, 5, 6, 10];
const SOCK_TYPE_MASK: u64 = 0xf;

impl SocketRules {
    fn for_kernel(abi: u32, network: NetworkAccess) -> Self {
        let off = network == NetworkAccess::Off;
        Self {
            unix: abi < 9,
            datagram: off,
            ip: off && abi < 4,
        }
    }

    fn notes(&self, abi: u32, policy: &ConfinementPolicy) -> Vec<String> {
        let mut notes = Vec::new();
        if self.unix {
            notes.push(
                "commands cannot open UNIX sockets (this kernel's Landlock cannot limit them by path)"
                    .to_string(),
            );
        }
        if self.ip && !policy.loopback_ports.is_empty() {
            notes.push("with the network off, the conversation's loopback services are unreachable too (Landlock ABI 4 is needed)".into());
        }
        if abi < 3 {
            notes.push(
                "files outside the workspace can be truncated (Landlock ABI 3 is needed)".into(),
            );
        }
        if abi < 6 {
            notes.push(
                "commands can signal processes outside the sandbox (Landlock ABI 6 is needed)"
                    .into(),
            );
        }
        notes
    }

    fn condition(arg: u8, op: SeccompCmpOp, value: u64) -> Result<SeccompCondition, ConfineError> {
        SeccompCondition::new(arg, SeccompCmpArgLen::Dword, op, value)
            .map_err(|e| ConfineError::Apply(format!("seccomp: {e}")))
    }

    fn socket_rules(&self) -> Result<Vec<SeccompRule>, ConfineError> {
        let family = |f| Self::condition(0, SeccompCmpOp::Eq, f);
        let mut rules = Vec::new();
        if self.unix {
            rules.push(vec![family(AF_UNIX)?]);
        }
        if self.ip {
            rules.push(vec![family(AF_INET)?]);
            rules.push(vec![family(AF_INET6)?]);
        } else if self.datagram {
            // `type & 0xf != SOCK_STREAM`: seccomp compares for equality, so every other type
            // (datagram, raw, reliable datagram, sequenced packet, DCCP, packet) is listed.
            for f in [AF_INET, AF_INET6] {
                for t in OTHER_SOCKET_TYPES {
                    rules.push(vec![
                        family(f)?,
                        Self::condition(1, SeccompCmpOp::MaskedEq(SOCK_TYPE_MASK), t)?,
                    ]);
                }
            }
        }
        if self.datagram {
            rules.push(vec![family(AF_PACKET)?]);
        }
        rules
            .into_iter()
            .map(|conditions| {
                SeccompRule::new(conditions)
                    .map_err(|e| ConfineError::Apply(format!("seccomp: {e}")))
            })
            .collect()
    }

    fn apply(&self) -> Result<(), ConfineError> {
        fn seccomp(e: impl std::fmt::Display) -> ConfineError {
            ConfineError::Apply(format!("seccomp: {e}"))
        }
        let mut map: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
        let socket = self.socket_rules()?;
        if !socket.is_empty() {
            map.insert(libc::SYS_socket, socket);
        }
        if self.datagram {
            // io_uring can open and connect sockets without the system calls filtered here.
            map.insert(libc::SYS_io_uring_setup, Vec::new());
        }
        if map.is_empty() {
            return Ok(());
        }
        let arch = TargetArch::try_from(std::env::consts::ARCH).map_err(seccomp)?;
        let filter = SeccompFilter::new(
            map,
            SeccompAction::Allow,
            SeccompAction::Errno(libc::EPERM as u32),
            arch,
        )
        .map_err(seccomp)?;
        let program: seccompiler::BpfProgram = filter.try_into().map_err(seccomp)?;
        seccompiler::apply_filter(&program).map_err(seccomp)
    }
}
