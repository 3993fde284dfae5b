//! The places where a user's machine keeps secrets, which no confined command may read: keys,
//! cloud and registry credentials, keyrings, browser profiles, the session's private runtime
//! folder (where the D-Bus, keyring, GnuPG and SSH agent sockets live).

use std::path::{Path, PathBuf};

/// Relative to the home folder.
const IN_HOME: &[&str] = &[
    ".ssh",
    ".gnupg",
    ".aws",
    ".azure",
    ".kube",
    ".docker",
    ".netrc",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    ".password-store",
    ".cargo/credentials",
    ".cargo/credentials.toml",
    ".terraform.d/credentials.tfrc.json",
    ".config/gh",
    ".config/hub",
    ".config/glab-cli",
    ".config/gcloud",
    ".config/git/credentials",
    ".config/op",
    ".local/share/keyrings",
    ".local/share/kwalletd",
    ".pki",
    // Browser profiles: cookies and saved passwords.
    ".mozilla",
    ".config/google-chrome",
    ".config/chromium",
    ".config/BraveSoftware",
    ".config/microsoft-edge",
    ".config/vivaldi",
    "snap/firefox",
    "snap/chromium",
    ".var/app/org.mozilla.firefox",
    ".var/app/com.google.Chrome",
    // macOS.
    "Library/Keychains",
    "Library/Cookies",
    "Library/Application Support/Google/Chrome",
    "Library/Application Support/Firefox",
    "Library/Application Support/BraveSoftware",
    "Library/Safari",
    "Library/Group Containers",
];

/// The user's secret places under `home`, and the runtime folder when there is one.
pub fn user_secrets(home: &Path, runtime_dir: Option<&Path>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = IN_HOME.iter().map(|p| home.join(p)).collect();
    out.extend(runtime_dir.map(Path::to_path_buf));
    // `/tmp` stays readable (not writable; commands get their own `TMPDIR`): hiding it would
    // hide whatever lives below it, a home folder or a checkout included. Its sockets are out
    // of reach all the same (no UNIX sockets below Landlock ABI 9, by path from ABI 9).
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_s_list_is_covered() {
        let home = Path::new("/home/u");
        let list = user_secrets(home, Some(Path::new("/run/user/1000")));
        for p in [
            ".ssh",
            ".gnupg",
            ".aws",
            ".config/gh",
            ".netrc",
            ".docker",
            ".local/share/keyrings",
            ".mozilla",
        ] {
            assert!(list.contains(&home.join(p)), "{p}");
        }
        assert!(list.contains(&PathBuf::from("/run/user/1000")));
    }
}
