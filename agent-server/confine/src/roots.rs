//! Which folders a confined command may read. Landlock only grants (it cannot say "all of `/`
//! except `~/.ssh`"), so "everything but the secrets" is spelled out: every entry of `/` is
//! granted whole, except the entries that hold a denied path, which are opened up one level
//! further, down to the denied paths themselves, which are never granted. A folder on the way
//! to a secret (`/`, `/home`, `~`) can be walked through but not listed.
//!
//! A symbolic link is granted only when what it points to is neither a secret nor on the way
//! to one (`~/keys -> ~/.ssh` would otherwise grant `~/.ssh`).

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

/// `path` with `.` and `..` resolved and the longest existing prefix made canonical, so a
/// denied path that does not exist yet still blocks the real folders above it.
pub fn normalize(path: &Path) -> PathBuf {
    let mut lexical = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                lexical.pop();
            }
            Component::CurDir => {}
            other => lexical.push(other),
        }
    }
    let mut existing = lexical.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            let mut out = real;
            out.extend(rest.iter().rev());
            return out;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return lexical,
        }
    }
}

/// The folders (and files) to grant read access to, so that everything is readable except
/// `denied` and what lies beneath.
pub fn readable_roots(denied: &[PathBuf]) -> Vec<PathBuf> {
    let denied: BTreeSet<PathBuf> = denied.iter().map(|p| normalize(p)).collect();
    let mut on_the_way = BTreeSet::new();
    for d in &denied {
        let mut p = d.as_path();
        while let Some(parent) = p.parent() {
            on_the_way.insert(parent.to_path_buf());
            p = parent;
        }
    }
    let is_secret = |p: &Path| denied.iter().any(|d| p.starts_with(d));
    let mut roots = Vec::new();
    if !denied.iter().any(|d| d.parent().is_some()) {
        // Nothing denied below `/`: `/` itself, unless `/` is denied.
        if !is_secret(Path::new("/")) {
            roots.push(PathBuf::from("/"));
        }
        return roots;
    }
    let mut stack = vec![PathBuf::from("/")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if is_secret(&path) {
                continue;
            }
            let is_link = entry.file_type().is_ok_and(|t| t.is_symlink());
            if on_the_way.contains(&path) && !is_link {
                stack.push(path);
                continue;
            }
            let Ok(real) = path.canonicalize() else {
                continue;
            };
            if is_secret(&real) || on_the_way.contains(&real) {
                continue;
            }
            roots.push(path);
        }
    }
    roots.sort();
    roots
}

#[cfg(test)]
mod tests {
    use super::*;

    fn granted(roots: &[PathBuf], p: &Path) -> bool {
        let p = normalize(p);
        roots
            .iter()
            .any(|r| p.starts_with(r.canonicalize().unwrap_or_else(|_| r.clone())))
    }

    #[test]
    fn everything_is_readable_but_the_secrets_and_what_links_to_them() {
        let tmp = tempfile::tempdir().unwrap();
        let home = normalize(tmp.path()).join("home");
        for d in [".ssh", ".config/gh", ".config/nvim", "src/app"] {
            std::fs::create_dir_all(home.join(d)).unwrap();
        }
        std::fs::write(home.join(".netrc"), "x").unwrap();
        std::fs::write(home.join(".bashrc"), "x").unwrap();
        std::os::unix::fs::symlink(home.join(".ssh"), home.join("keys")).unwrap();
        std::os::unix::fs::symlink(&home, home.join("me")).unwrap();
        let denied = vec![
            home.join(".ssh"),
            home.join(".config/gh"),
            home.join(".netrc"),
            home.join(".aws"),
        ];
        let roots = readable_roots(&denied);
        for ok in [".bashrc", ".config/nvim", "src/app"] {
            assert!(granted(&roots, &home.join(ok)), "{ok} should be readable");
        }
        assert!(granted(&roots, Path::new("/usr/bin")));
        for secret in [".ssh", ".config/gh", ".netrc", ".aws"] {
            assert!(!granted(&roots, &home.join(secret)), "{secret} is a secret");
        }
        assert!(
            !roots
                .iter()
                .any(|r| r.ends_with("keys") || r.ends_with("me")),
            "links to secrets or to folders holding them are not granted: {roots:?}"
        );
        assert!(!granted(&roots, &home), "the home folder is not listable");
    }

    #[test]
    fn a_denied_path_that_does_not_exist_still_hides_its_parent() {
        let tmp = tempfile::tempdir().unwrap();
        let base = normalize(tmp.path());
        std::fs::create_dir_all(base.join("a/b")).unwrap();
        let roots = readable_roots(&[base.join("a/missing/deeper")]);
        assert!(granted(&roots, &base.join("a/b")));
        assert!(!granted(&roots, &base.join("a")));
        assert_eq!(
            normalize(&base.join("a/./x/../missing")),
            base.join("a/missing")
        );
    }
}
