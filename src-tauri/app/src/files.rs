//! A conversation's workspace as the Files tab sees it: folders listed, files read for preview or
//! saved elsewhere, files dropped or pasted by the user written in. Every path is relative to the
//! workspace and stays inside it (no `..`, no absolute paths, no symlink leading out).

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Previews stop here; larger files are downloaded, not shown.
pub const MAX_PREVIEW: u64 = 1024 * 1024;
/// Files dropped into a conversation.
pub const MAX_UPLOAD: usize = 20 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FileEntry {
    pub name: String,
    /// Relative to the workspace, `/`-separated.
    pub path: String,
    pub is_dir: bool,
    #[ts(as = "f64")]
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FilePreview {
    pub path: String,
    /// The text, or `None` for a binary or too large file.
    pub text: Option<String>,
    #[ts(as = "f64")]
    pub size: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("'{0}' is outside the workspace")]
    Outside(String),
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Invalid(String),
}

/// The absolute path of `relative` inside `root`, refusing anything that leaves it.
pub fn resolve(root: &Path, relative: &str) -> Result<PathBuf, FileError> {
    let rel = Path::new(relative.trim_start_matches("./"));
    if rel
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(FileError::Outside(relative.into()));
    }
    let root = std::fs::canonicalize(root).map_err(|e| FileError::Io(e.to_string()))?;
    let joined = root.join(rel);
    // A symlink inside may point out: the real path must still be inside.
    if let Ok(real) = std::fs::canonicalize(&joined)
        && !real.starts_with(&root)
    {
        return Err(FileError::Outside(relative.into()));
    }
    Ok(joined)
}

/// One folder's entries, folders first, `.git` left out.
pub fn list(root: &Path, dir: &str) -> Result<Vec<FileEntry>, FileError> {
    let path = resolve(root, dir)?;
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&path).map_err(|e| FileError::Io(format!("{dir}: {e}")))? {
        let entry = entry.map_err(|e| FileError::Io(e.to_string()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == ".git" {
            continue;
        }
        let meta = entry.metadata().map_err(|e| FileError::Io(e.to_string()))?;
        let rel = Path::new(dir).join(&name);
        out.push(FileEntry {
            path: rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/"),
            name,
            is_dir: meta.is_dir(),
            size: meta.len(),
        });
    }
    out.sort_by(|a, b| b.is_dir.cmp(&a.is_dir).then(a.name.cmp(&b.name)));
    Ok(out)
}

pub fn preview(root: &Path, file: &str) -> Result<FilePreview, FileError> {
    let path = resolve(root, file)?;
    let size = std::fs::metadata(&path)
        .map_err(|e| FileError::Io(format!("{file}: {e}")))?
        .len();
    let text = if size <= MAX_PREVIEW {
        let bytes = std::fs::read(&path).map_err(|e| FileError::Io(e.to_string()))?;
        String::from_utf8(bytes).ok().filter(|t| !t.contains('\0'))
    } else {
        None
    };
    Ok(FilePreview {
        path: file.into(),
        text,
        size,
    })
}

pub fn read(root: &Path, file: &str) -> Result<Vec<u8>, FileError> {
    std::fs::read(resolve(root, file)?).map_err(|e| FileError::Io(format!("{file}: {e}")))
}

/// Writes a file the user dropped into the workspace's top folder; answers its relative path.
pub fn upload(root: &Path, name: &str, bytes: &[u8]) -> Result<String, FileError> {
    let name = Path::new(name)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty() && n != "." && n != "..")
        .ok_or_else(|| FileError::Invalid(format!("'{name}' is not a file name")))?;
    if bytes.len() > MAX_UPLOAD {
        return Err(FileError::Invalid(format!(
            "{name} is larger than {} MiB",
            MAX_UPLOAD / 1024 / 1024
        )));
    }
    let path = resolve(root, &name)?;
    std::fs::write(&path, bytes).map_err(|e| FileError::Io(format!("{name}: {e}")))?;
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_workspace() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        std::fs::create_dir_all(root.join("src")).unwrap_or_default();
        std::fs::write(root.join("src/main.rs"), "fn main() {}\n").unwrap_or_default();
        std::fs::write(dir.path().join("secret.txt"), "outside").unwrap_or_default();
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), root.join("link"))
            .unwrap_or_default();
        for bad in [
            "../secret.txt",
            "/etc/passwd",
            "src/../../secret.txt",
            "link",
        ] {
            assert!(
                matches!(preview(&root, bad), Err(FileError::Outside(_))),
                "{bad} was read"
            );
        }
        let listed = list(&root, "").unwrap_or_default();
        assert_eq!(listed[0].name, "src");
        assert!(listed[0].is_dir);
        assert_eq!(
            list(&root, "src").unwrap_or_default()[0].path,
            "src/main.rs"
        );
        assert_eq!(
            preview(&root, "src/main.rs").ok().and_then(|p| p.text),
            Some("fn main() {}\n".into())
        );
        assert_eq!(
            upload(&root, "../../evil.sh", b"x").ok().as_deref(),
            Some("evil.sh")
        );
        assert!(root.join("evil.sh").is_file() && !dir.path().join("evil.sh").exists());
        std::fs::write(root.join("blob.bin"), [0u8, 1, 2]).unwrap_or_default();
        assert_eq!(preview(&root, "blob.bin").ok().and_then(|p| p.text), None);
    }
}
