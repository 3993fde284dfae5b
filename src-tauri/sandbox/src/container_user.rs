//! Who a Docker sandbox runs as, and the files Berth hands to that user: the container's uid and
//! gid (never root's folders, never a chown outside Berth's own), and the keys file copied into
//! the container for its agent-server.

use std::path::Path;

use super::SandboxError;

/// Where the keys file is copied, in a folder of the container user's own so its agent-server
/// can delete it.
pub(super) const CONTAINER_KEYS_DIR: &str = "berth-keys";
pub(super) const CONTAINER_KEYS_PARENT: &str = "/tmp";

/// The uid and gid the container runs as: the user's own, so files the agent writes belong to
/// them. When the app itself runs as root (a server, CI), the workspace's owner — unless the
/// workspace is a folder of Berth's own (a clone), which is handed to the image's `agent`
/// (1000:1000). Berth never changes the owner of a folder outside its own, and a root-owned
/// folder outside them is refused rather than given to a root container.
pub(super) fn container_ids(
    workspace: &Path,
    berth_home: &Path,
) -> Result<(u32, u32), SandboxError> {
    use std::os::unix::fs::MetadataExt;
    let uid = nix::unistd::getuid().as_raw();
    if uid != 0 {
        return Ok((uid, nix::unistd::getgid().as_raw()));
    }
    let real = std::fs::canonicalize(workspace).unwrap_or_else(|_| workspace.to_path_buf());
    let home = std::fs::canonicalize(berth_home).unwrap_or_else(|_| berth_home.to_path_buf());
    if real.starts_with(&home) {
        chown_to_agent(&real)?;
        return Ok((1000, 1000));
    }
    let meta = std::fs::metadata(&real)
        .map_err(|e| SandboxError::Workspace(format!("{}: {e}", real.display())))?;
    if meta.uid() == 0 {
        return Err(SandboxError::Start(format!(
            "Berth runs as root and {} belongs to root: it will not give a root-owned folder to a sandbox, nor change its owner. Run Berth as your own user, give the folder to the user the agent should act as, or start from a git URL (Berth clones it into a folder of its own).",
            real.display()
        )));
    }
    Ok((meta.uid(), meta.gid()))
}

/// Hands a folder of Berth's own to the image's `agent` user.
fn chown_to_agent(dir: &Path) -> Result<(), SandboxError> {
    chown(dir, (1000, 1000))
}

/// `chown -R uid:gid` of a folder of Berth's own.
pub(super) fn chown(dir: &Path, (uid, gid): (u32, u32)) -> Result<(), SandboxError> {
    let status = std::process::Command::new("chown")
        .arg("-R")
        .arg(format!("{uid}:{gid}"))
        .arg(dir)
        .status()
        .map_err(|e| SandboxError::Start(format!("cannot run chown: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(SandboxError::Start(format!(
            "chown of {} failed ({status})",
            dir.display()
        )))
    }
}

/// The uid and gid a container runs as, from its configuration.
pub(super) fn user_of(config_user: Option<&str>) -> (u32, u32) {
    let mut parts = config_user.unwrap_or_default().split(':');
    let uid = parts.next().and_then(|u| u.parse().ok()).unwrap_or(1000);
    let gid = parts.next().and_then(|g| g.parse().ok()).unwrap_or(uid);
    (uid, gid)
}

/// A tar of the keys folder and file, owned by the container's user, readable by it alone.
pub(super) fn keys_archive(file: &str, (uid, gid): (u32, u32)) -> std::io::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    let mut dir = tar::Header::new_gnu();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_mode(0o700);
    dir.set_uid(uid.into());
    dir.set_gid(gid.into());
    dir.set_size(0);
    dir.set_cksum();
    tar.append_data(&mut dir, CONTAINER_KEYS_DIR, std::io::empty())?;
    let mut f = tar::Header::new_gnu();
    f.set_mode(0o600);
    f.set_uid(uid.into());
    f.set_gid(gid.into());
    f.set_size(file.len() as u64);
    f.set_cksum();
    tar.append_data(
        &mut f,
        format!("{CONTAINER_KEYS_DIR}/keys.json"),
        file.as_bytes(),
    )?;
    tar.into_inner()
}

/// As root, a folder of Berth's own that Berth just wrote into (a clone) goes back to the
/// container's user; other folders are never touched.
pub fn share_with_container(dir: &Path, berth_home: &Path) -> Result<(), SandboxError> {
    if nix::unistd::getuid().is_root() {
        let real = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        let home = std::fs::canonicalize(berth_home).unwrap_or_else(|_| berth_home.to_path_buf());
        if real.starts_with(&home) {
            return chown_to_agent(&real);
        }
    }
    Ok(())
}
