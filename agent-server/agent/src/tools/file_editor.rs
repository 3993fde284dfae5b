//! The `file_editor` tool: view (files with line numbers, directories two levels deep), create,
//! str_replace (a literal, unique match), insert, and undo_edit — with OpenHands' limits and
//! messages, so an LLM prompted for OpenHands edits files the same way here.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use berth_protocol::{
    Action, FileEditorAction, FileEditorCommand, FileEditorObservation, Observation,
    ToolAnnotations,
};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::files::write_atomic;
use super::{Tool, ToolContext, annotations, from_args, text_content};

pub const MAX_VIEW_CHARS: usize = 16_000;
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;
pub const SNIPPET_LINES: usize = 4;
pub const UNDO_LEVELS: usize = 10;
/// The largest before or after text an edit's event carries for its diff. A bigger one would
/// make every copy of the event (the socket frame, the app's database, the diff the UI draws)
/// as big as the file; the event says so instead and the Changes tab has the diff.
pub const MAX_EVENT_CONTENT: usize = 256 * 1024;

/// Cloned for each call, which runs on a confined thread of its own; the undo history is shared.
#[derive(Default, Clone)]
pub struct FileEditorTool {
    history: std::sync::Arc<Mutex<HashMap<PathBuf, Vec<String>>>>,
}

struct Done {
    text: String,
    prev_exist: bool,
    old_content: Option<String>,
    new_content: Option<String>,
}

impl Done {
    fn view(text: String) -> Self {
        Self {
            text,
            prev_exist: true,
            old_content: None,
            new_content: None,
        }
    }
}

impl FileEditorTool {
    async fn run(&self, a: &FileEditorAction, ctx: &ToolContext) -> Result<Done, String> {
        let path = Path::new(&a.path);
        if !path.is_absolute() {
            let candidate = ctx.workspace.join(path);
            let hint = if candidate.exists() {
                format!(" Maybe you meant {}?", candidate.display())
            } else {
                String::new()
            };
            return Err(format!(
                "Invalid `path` parameter: {0}. The path should be an absolute path, starting with `/`.{hint}",
                a.path
            ));
        }
        let exists = path.exists();
        if a.command != FileEditorCommand::Create && !exists {
            return Err(format!(
                "Invalid `path` parameter: {0}. The path {0} does not exist. Please provide a valid path.",
                a.path
            ));
        }
        if a.command == FileEditorCommand::Create && exists {
            return Err(format!(
                "Invalid `path` parameter: {0}. File already exists at: {0}. Cannot overwrite files using command `create`.",
                a.path
            ));
        }
        if path.is_dir() && a.command != FileEditorCommand::View {
            return Err(format!(
                "Invalid `path` parameter: {0}. The path {0} is a directory and only the `view` command can be used on directories.",
                a.path
            ));
        }
        match a.command {
            FileEditorCommand::View => self.view(path, a.view_range.as_deref()),
            FileEditorCommand::Create => {
                let text = a
                    .file_text
                    .as_deref()
                    .ok_or("Parameter `file_text` is required for command: create.")?;
                write_atomic(path, text.as_bytes())
                    .map_err(|e| format!("Ran into {e} while trying to write to {}", a.path))?;
                self.push_history(path, String::new()).await;
                Ok(Done {
                    text: format!("File created successfully at: {}", a.path),
                    prev_exist: false,
                    old_content: None,
                    new_content: Some(text.to_string()),
                })
            }
            FileEditorCommand::StrReplace => {
                let old = a
                    .old_str
                    .as_deref()
                    .ok_or("Parameter `old_str` is required for command: str_replace.")?;
                let new = a.new_str.as_deref().unwrap_or("");
                self.str_replace(path, old, new).await
            }
            FileEditorCommand::Insert => {
                let line = a
                    .insert_line
                    .ok_or("Parameter `insert_line` is required for command: insert.")?;
                let new = a
                    .new_str
                    .as_deref()
                    .ok_or("Parameter `new_str` is required for command: insert.")?;
                self.insert(path, line, new).await
            }
            FileEditorCommand::UndoEdit => self.undo(path).await,
        }
    }

    fn view(&self, path: &Path, range: Option<&[i64]>) -> Result<Done, String> {
        if path.is_dir() {
            if range.is_some() {
                return Err(
                    "The `view_range` parameter is not allowed when `path` points to a directory."
                        .into(),
                );
            }
            return Ok(Done::view(view_dir(path)));
        }
        let content = read_text(path)?;
        let lines: Vec<&str> = split_lines(&content);
        let n = lines.len() as i64;
        let (start, end) = match range {
            None => (1, n.max(1)),
            Some([s, e]) => {
                let (s, e) = (*s, *e);
                if s < 1 || s > n.max(1) {
                    return Err(format!(
                        "Invalid `view_range` parameter: [{s}, {e}]. Its first element `{s}` should be within the range of lines of the file: [1, {n}]."
                    ));
                }
                let e = if e == -1 { n } else { e };
                if e > n {
                    return Err(format!(
                        "Invalid `view_range` parameter: [{s}, {e}]. Its second element `{e}` should be smaller than the number of lines in the file: `{n}`."
                    ));
                }
                if e < s {
                    return Err(format!(
                        "Invalid `view_range` parameter: [{s}, {e}]. Its second element `{e}` should be greater than or equal to the first element `{s}`."
                    ));
                }
                (s, e)
            }
            Some(other) => {
                return Err(format!(
                    "Invalid `view_range` parameter: {other:?}. It should be a list of two integers."
                ));
            }
        };
        let selected: Vec<&str> = lines
            .iter()
            .skip((start - 1) as usize)
            .take((end - start + 1).max(0) as usize)
            .copied()
            .collect();
        let mut body = numbered(&selected, start as usize);
        if body.chars().count() > MAX_VIEW_CHARS {
            body = body.chars().take(MAX_VIEW_CHARS).collect();
            body.push_str("\n<response clipped><NOTE>The file is too long to show whole. Use `grep -n` in the terminal to find the lines you need, then view them with `view_range`.</NOTE>");
        }
        Ok(Done::view(format!(
            "Here's the result of running `cat -n` on {}:\n{body}\n",
            path.display()
        )))
    }

    async fn str_replace(&self, path: &Path, old: &str, new: &str) -> Result<Done, String> {
        let content = read_text(path)?;
        let shown = path.display();
        let mut old = old.to_string();
        let mut new = new.to_string();
        let mut count = content.matches(&old).count();
        if count == 0 && old.trim() != old && !old.trim().is_empty() {
            // Models often add stray whitespace around old_str; try once without it.
            let trimmed = old.trim().to_string();
            if content.matches(&trimmed).count() > 0 {
                old = trimmed;
                new = new.trim().to_string();
                count = content.matches(&old).count();
            }
        }
        if old == new {
            return Err(format!(
                "Invalid `new_str` parameter: {new}. No replacement was performed. `new_str` and `old_str` must be different."
            ));
        }
        if count == 0 {
            return Err(format!(
                "No replacement was performed, old_str `{old}` did not appear verbatim in {shown}."
            ));
        }
        if count > 1 {
            let lines: Vec<usize> = content
                .match_indices(&old)
                .map(|(i, _)| content[..i].matches('\n').count() + 1)
                .collect();
            return Err(format!(
                "No replacement was performed. Multiple occurrences of old_str `{old}` in lines {lines:?}. Please ensure it is unique."
            ));
        }
        let at = content.find(&old).unwrap_or(0);
        let updated = format!("{}{}{}", &content[..at], new, &content[at + old.len()..]);
        write_atomic(path, updated.as_bytes())
            .map_err(|e| format!("Ran into {e} while trying to write to {shown}"))?;
        self.push_history(path, content.clone()).await;
        let first = content[..at].matches('\n').count();
        let last = first + new.matches('\n').count();
        let snippet = snippet(&updated, first, last);
        Ok(Done {
            text: format!(
                "The file {shown} has been edited. Here's the result of running `cat -n` on a snippet of {shown}:\n{snippet}\nReview the changes and make sure they are as expected. Edit the file again if necessary."
            ),
            prev_exist: true,
            old_content: Some(content),
            new_content: Some(updated),
        })
    }

    async fn insert(&self, path: &Path, line: i64, new: &str) -> Result<Done, String> {
        let content = read_text(path)?;
        let lines = split_lines(&content);
        let n = lines.len() as i64;
        if line < 0 || line > n {
            return Err(format!(
                "Invalid `insert_line` parameter: {line}. It should be within the range of allowed values: [0, {n}]"
            ));
        }
        let mut out: Vec<String> = lines
            .iter()
            .take(line as usize)
            .map(|s| s.to_string())
            .collect();
        let inserted: Vec<&str> = split_lines(new);
        out.extend(inserted.iter().map(|s| s.to_string()));
        out.extend(lines.iter().skip(line as usize).map(|s| s.to_string()));
        let mut updated = out.join("\n");
        if content.ends_with('\n') || content.is_empty() {
            updated.push('\n');
        }
        write_atomic(path, updated.as_bytes())
            .map_err(|e| format!("Ran into {e} while trying to write to {}", path.display()))?;
        self.push_history(path, content.clone()).await;
        let first = line as usize;
        let last = first + inserted.len().saturating_sub(1);
        let snippet = snippet(&updated, first, last);
        Ok(Done {
            text: format!(
                "The file {} has been edited. Here's the result of running `cat -n` on a snippet of the edited file:\n{snippet}\nReview the changes and make sure they are as expected (correct indentation, no duplicate lines, etc). Edit the file again if necessary.",
                path.display()
            ),
            prev_exist: true,
            old_content: Some(content),
            new_content: Some(updated),
        })
    }

    async fn undo(&self, path: &Path) -> Result<Done, String> {
        let previous = {
            let mut h = self.history.lock().await;
            h.get_mut(path).and_then(Vec::pop)
        };
        let Some(previous) = previous else {
            return Err(format!("No edit history found for {}.", path.display()));
        };
        let current = read_text(path).unwrap_or_default();
        write_atomic(path, previous.as_bytes())
            .map_err(|e| format!("Ran into {e} while trying to write to {}", path.display()))?;
        let lines = split_lines(&previous);
        Ok(Done {
            text: format!(
                "Last edit to {} undone successfully. Here's the result of running `cat -n` on {}:\n{}\n",
                path.display(),
                path.display(),
                numbered(&lines, 1)
            ),
            prev_exist: true,
            old_content: Some(current),
            new_content: Some(previous),
        })
    }

    async fn push_history(&self, path: &Path, content: String) {
        let mut h = self.history.lock().await;
        let stack = h.entry(path.to_path_buf()).or_default();
        stack.push(content);
        if stack.len() > UNDO_LEVELS {
            stack.remove(0);
        }
    }
}

fn read_text(path: &Path) -> Result<String, String> {
    let meta =
        std::fs::metadata(path).map_err(|e| format!("Cannot read {}: {e}", path.display()))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "File is too large ({:.1}MB). Maximum allowed size is {}MB.",
            meta.len() as f64 / 1024.0 / 1024.0,
            MAX_FILE_BYTES / 1024 / 1024
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("Cannot read {}: {e}", path.display()))?;
    if bytes.iter().take(8192).any(|b| *b == 0) {
        return Err(format!(
            "The file {} appears to be binary; file_editor only views and edits text files.",
            path.display()
        ));
    }
    String::from_utf8(bytes).map_err(|_| {
        format!("The file {} is not valid UTF-8 text; file_editor only views and edits UTF-8 text files.", path.display())
    })
}

/// Lines without their terminators; a trailing newline does not make an extra empty line.
fn split_lines(s: &str) -> Vec<&str> {
    if s.is_empty() {
        return Vec::new();
    }
    s.strip_suffix('\n').unwrap_or(s).split('\n').collect()
}

fn numbered(lines: &[&str], first: usize) -> String {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| format!("{:>6}\t{l}", i + first))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Lines `first..=last` (0-based) with SNIPPET_LINES of context, numbered.
fn snippet(content: &str, first: usize, last: usize) -> String {
    let lines = split_lines(content);
    let start = first.saturating_sub(SNIPPET_LINES);
    let end = (last + SNIPPET_LINES + 1).min(lines.len());
    numbered(&lines[start.min(end)..end], start + 1)
}

fn view_dir(path: &Path) -> String {
    let mut entries = Vec::new();
    let mut hidden = 0usize;
    fn walk(dir: &Path, depth: usize, entries: &mut Vec<String>, hidden: &mut usize) {
        let Ok(read) = std::fs::read_dir(dir) else {
            return;
        };
        let mut items: Vec<_> = read.flatten().collect();
        items.sort_by_key(|e| e.file_name());
        for e in items {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                if depth == 1 {
                    *hidden += 1;
                }
                continue;
            }
            let p = e.path();
            let is_dir = p.is_dir();
            entries.push(format!("{}{}", p.display(), if is_dir { "/" } else { "" }));
            if is_dir && depth < 2 {
                walk(&p, depth + 1, entries, hidden);
            }
        }
    }
    walk(path, 1, &mut entries, &mut hidden);
    let mut out = format!(
        "Here's the files and directories up to 2 levels deep in {}, excluding hidden items:\n{}/\n",
        path.display(),
        path.display().to_string().trim_end_matches('/')
    );
    for e in entries {
        out.push_str(&e);
        out.push('\n');
    }
    if hidden > 0 {
        out.push_str(&format!(
            "\n{hidden} hidden files/directories in this directory are excluded. You can use 'ls -la {}' to see them.",
            path.display()
        ));
    }
    out
}

#[async_trait]
impl Tool for FileEditorTool {
    fn name(&self) -> &str {
        "file_editor"
    }

    fn kinds(&self) -> (&str, &str, &str) {
        (
            "FileEditorTool",
            "FileEditorAction",
            "FileEditorObservation",
        )
    }

    fn description(&self) -> String {
        "View, create and edit text files.\n\
         * `view` shows a file with line numbers (`cat -n`), or a directory two levels deep. Use view_range [start, end] for part of a long file (end -1 = to the end).\n\
         * `create` writes a new file; it refuses to overwrite an existing one.\n\
         * `str_replace` replaces old_str with new_str. old_str must match exactly one place in the file, whitespace included: give enough surrounding lines to make it unique.\n\
         * `insert` adds new_str after line insert_line (0 = at the top).\n\
         * `undo_edit` reverts the last edit of the file.\n\
         Paths must be absolute."
            .into()
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "command": {"type": "string", "enum": ["view", "create", "str_replace", "insert", "undo_edit"], "description": "The command to run."},
                "path": {"type": "string", "description": "Absolute path to file or directory."},
                "file_text": {"type": "string", "description": "For `create`: the content of the new file."},
                "old_str": {"type": "string", "description": "For `str_replace`: the exact text to replace."},
                "new_str": {"type": "string", "description": "For `str_replace`: the replacement (empty to delete). For `insert`: the text to insert."},
                "insert_line": {"type": "integer", "description": "For `insert`: new_str goes after this line (0 for the top)."},
                "view_range": {"type": "array", "items": {"type": "integer"}, "description": "For `view` of a file: [start, end] line numbers, 1-based, inclusive; end -1 means the end of the file."}
            },
            "required": ["command", "path"]
        })
    }

    fn annotations(&self) -> ToolAnnotations {
        annotations("file_editor", false, true, false, false)
    }

    fn parse(&self, args: Value) -> Result<Action, String> {
        from_args(self.name(), args).map(Action::FileEditorAction)
    }

    async fn execute(&self, action: &Action, ctx: &ToolContext) -> Observation {
        let Action::FileEditorAction(a) = action else {
            return Observation::FileEditorObservation(FileEditorObservation {
                content: text_content("file_editor received an action of another tool"),
                is_error: true,
                command: FileEditorCommand::View,
                path: None,
                prev_exist: false,
                old_content: None,
                new_content: None,
            });
        };
        let (tool, action, context) = (self.clone(), a.clone(), ctx.clone());
        // The agent names the path: the kernel's confinement, not a check, decides what opens.
        let result = crate::agent_env::on_confined_thread(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot run the file editor: {e}"))
                .and_then(|rt| rt.block_on(tool.run(&action, &context)))
        })
        .await
        .and_then(|r| r);
        let obs = match result {
            Ok(mut done) => {
                let too_big = [&done.old_content, &done.new_content]
                    .iter()
                    .any(|c| c.as_ref().is_some_and(|c| c.len() > MAX_EVENT_CONTENT));
                if too_big {
                    done.old_content = None;
                    done.new_content = None;
                    done.text.push_str(&format!(
                        "\n[The file is over {} KiB: this edit is not shown as a diff here; the Changes tab shows it.]",
                        MAX_EVENT_CONTENT / 1024
                    ));
                }
                FileEditorObservation {
                    content: text_content(ctx.secrets.mask(&done.text)),
                    is_error: false,
                    command: a.command,
                    path: Some(a.path.clone()),
                    prev_exist: done.prev_exist,
                    old_content: done.old_content.map(|c| ctx.secrets.mask(&c)),
                    new_content: done.new_content.map(|c| ctx.secrets.mask(&c)),
                }
            }
            Err(msg) => FileEditorObservation {
                content: text_content(ctx.secrets.mask(&msg)),
                is_error: true,
                command: a.command,
                path: Some(a.path.clone()),
                prev_exist: Path::new(&a.path).exists(),
                old_content: None,
                new_content: None,
            },
        };
        Observation::FileEditorObservation(obs)
    }
}
