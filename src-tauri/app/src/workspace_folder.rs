//! Which folders may become a workspace. A sandbox can write its workspace (in Docker it is a
//! read-write bind mount), so a workspace of `/`, the home folder or a system folder would hand
//! the agent the machine — one click on a link's Start would do it. Refused, after following
//! symlinks: `/`, the user's home folder itself, the system folders, and Berth's own data folder
//! or any folder holding it. A project inside the home folder is what workspaces are for.

use std::path::{Path, PathBuf};

/// Folders that are never a workspace, nor is anything above them refused by `/`.
const SYSTEM: &[&str] = &[
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/srv",
    "/sys",
    "/usr",
    "/var",
    "/opt",
    "/snap",
    "/System",
    "/Library",
    "/Applications",
    "/private",
    "/Users",
    "/home",
    "/tmp",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path} cannot be a workspace: {why}. Choose the folder of one project (e.g. ~/src/app).")]
pub struct Refused {
    pub path: String,
    pub why: &'static str,
}

/// The folder, canonical, if it may be a workspace. `berth_home` is Berth's data folder.
pub fn check(path: &Path, berth_home: &Path) -> Result<PathBuf, Refused> {
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let refuse = |why| Refused {
        path: path.display().to_string(),
        why,
    };
    if real.parent().is_none() {
        return Err(refuse("it is the whole file system"));
    }
    if dirs::home_dir()
        .and_then(|h| std::fs::canonicalize(&h).ok().or(Some(h)))
        .is_some_and(|home| home == real)
    {
        return Err(refuse("it is your whole home folder"));
    }
    if SYSTEM.iter().any(|s| Path::new(s) == real) {
        return Err(refuse("it is a system folder"));
    }
    let ours = std::fs::canonicalize(berth_home).unwrap_or_else(|_| berth_home.to_path_buf());
    if ours.starts_with(&real) {
        return Err(refuse("it holds Berth's own data"));
    }
    Ok(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machine_the_home_and_berths_data_are_no_workspace() {
        let tmp = tempfile::tempdir().unwrap();
        let berth = tmp.path().join("berth-home");
        let project = tmp.path().join("project");
        std::fs::create_dir_all(&berth).unwrap();
        std::fs::create_dir_all(&project).unwrap();
        let link = tmp.path().join("innocent");
        std::os::unix::fs::symlink("/", &link).unwrap();
        for bad in [
            Path::new("/"),
            Path::new("/etc"),
            Path::new("/usr"),
            &link,
            &berth,
            tmp.path(),
        ] {
            assert!(
                check(bad, &berth).is_err(),
                "{} was accepted",
                bad.display()
            );
        }
        if let Some(home) = dirs::home_dir() {
            assert!(check(&home, &berth).is_err());
        }
        assert!(check(&project, &berth).is_ok());
    }
}
