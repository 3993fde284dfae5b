//! One app process owns a Berth home at a time. Several may open it — the desktop window, a
//! `berth conversations send` from a terminal, `berth serve` — but only the owner reconciles at
//! start (fails starts left unfinished, forgets sandboxes that are gone) and runs the background
//! duties (webhooks, idle pausing): a second process doing them would kill the sandbox of the
//! owner's start in flight, deliver webhooks twice and pause sandboxes under it.
//!
//! The lock is an advisory `flock` on `BERTH_HOME/app.lock`, released when the owner exits or
//! crashes (the kernel drops it with the process), so no stale lock outlives its app.

use std::path::Path;

use nix::fcntl::{Flock, FlockArg};

/// Held for as long as this process owns the home.
pub struct HomeLock {
    _lock: Flock<std::fs::File>,
}

impl std::fmt::Debug for HomeLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HomeLock")
    }
}

/// The home's lock if no other process holds it; `None` when another one does.
pub fn try_own(home: &Path) -> std::io::Result<Option<HomeLock>> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(home.join("app.lock"))?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => Ok(Some(HomeLock { _lock: lock })),
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => Ok(None),
        Err((_, e)) => Err(std::io::Error::from(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_owner_at_a_time_and_the_next_when_it_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let first = try_own(dir.path()).unwrap();
        assert!(first.is_some());
        assert!(try_own(dir.path()).unwrap().is_none());
        drop(first);
        assert!(try_own(dir.path()).unwrap().is_some());
    }
}
