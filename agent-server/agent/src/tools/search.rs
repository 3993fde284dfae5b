//! `glob` and `grep`: find files by name or content, honouring .gitignore, newest first, at
//! most 100 results.
//!
//! Crates: `ignore` (ripgrep's walker: .gitignore, .ignore, hidden files), `globset`, and
//! `grep-regex` + `grep-searcher` (ripgrep's matcher and searcher: binary detection, fast
//! literal paths) — no `rg` binary needed in the sandbox.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use async_trait::async_trait;
use berth_protocol::{
    Action, GlobAction, GlobObservation, GrepAction, GrepObservation, Observation, ToolAnnotations,
};
use serde_json::{Value, json};

use super::{Tool, ToolContext, annotations, from_args, text_content};

pub const MAX_RESULTS: usize = 100;

pub struct GlobTool;
pub struct GrepTool;

fn search_root(path: Option<&str>, ctx: &ToolContext) -> Result<PathBuf, String> {
    let root = match path {
        Some(p) if Path::new(p).is_absolute() => PathBuf::from(p),
        Some(p) => ctx.workspace.join(p),
        None => ctx.workspace.clone(),
    };
    if !root.is_dir() {
        return Err(format!(
            "The search path {} is not a directory.",
            root.display()
        ));
    }
    Ok(root)
}

fn walk(root: &Path) -> impl Iterator<Item = PathBuf> {
    ignore::WalkBuilder::new(root)
        .hidden(true)
        .git_ignore(true)
        .require_git(false)
        .build()
        .flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| e.into_path())
}

fn newest_first(mut files: Vec<PathBuf>) -> (Vec<String>, bool) {
    files.sort_by_key(|p| {
        std::cmp::Reverse(
            std::fs::metadata(p)
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH),
        )
    });
    let truncated = files.len() > MAX_RESULTS;
    files.truncate(MAX_RESULTS);
    (
        files.into_iter().map(|p| p.display().to_string()).collect(),
        truncated,
    )
}

fn listing(files: &[String], truncated: bool, none: &str) -> String {
    if files.is_empty() {
        return none.to_string();
    }
    let mut out = files.join("\n");
    if truncated {
        out.push_str(&format!("\n[Only the {MAX_RESULTS} most recently modified results are shown. Narrow the search.]"));
    }
    out
}

#[async_trait]
impl Tool for GlobTool {
    fn name(&self) -> &str {
        "glob"
    }
    fn kinds(&self) -> (&str, &str, &str) {
        ("GlobTool", "GlobAction", "GlobObservation")
    }
    fn description(&self) -> String {
        "Find files whose path matches a glob pattern such as `**/*.py` or `src/**/test_*.rs`. \
         Files ignored by .gitignore are skipped; results are newest first, at most 100."
            .into()
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {
            "pattern": {"type": "string", "description": "The glob pattern, relative to the search directory."},
            "path": {"type": "string", "description": "The directory to search (default: the workspace)."}
        }, "required": ["pattern"]})
    }
    fn annotations(&self) -> ToolAnnotations {
        annotations("glob", true, false, true, false)
    }
    fn parse(&self, args: Value) -> Result<Action, String> {
        from_args::<GlobAction>(self.name(), args).map(Action::GlobAction)
    }
    async fn execute(&self, action: &Action, ctx: &ToolContext) -> Observation {
        let Action::GlobAction(a) = action else {
            return Observation::Other(Default::default());
        };
        let a = a.clone();
        let ctx = ctx.clone();
        let fallback = a.clone();
        let result =
            crate::agent_env::on_confined_thread(move || -> Result<GlobObservation, String> {
                let root = search_root(a.path.as_deref(), &ctx)?;
                let matcher = globset::GlobBuilder::new(&a.pattern)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| format!("Invalid glob pattern `{}`: {e}", a.pattern))?
                    .compile_matcher();
                let files: Vec<PathBuf> = walk(&root)
                    .filter(|p| p.strip_prefix(&root).is_ok_and(|rel| matcher.is_match(rel)))
                    .collect();
                let (files, truncated) = newest_first(files);
                let text = listing(
                    &files,
                    truncated,
                    &format!("No files matched `{}` in {}.", a.pattern, root.display()),
                );
                Ok(GlobObservation {
                    content: text_content(text),
                    is_error: false,
                    files,
                    pattern: a.pattern.clone(),
                    search_path: root.display().to_string(),
                    truncated,
                })
            })
            .await
            .and_then(|r| r);
        Observation::GlobObservation(result.unwrap_or_else(|msg| GlobObservation {
            content: text_content(msg),
            is_error: true,
            files: vec![],
            pattern: fallback.pattern,
            search_path: fallback.path.unwrap_or_default(),
            truncated: false,
        }))
    }
}

#[async_trait]
impl Tool for GrepTool {
    fn name(&self) -> &str {
        "grep"
    }
    fn kinds(&self) -> (&str, &str, &str) {
        ("GrepTool", "GrepAction", "GrepObservation")
    }
    fn description(&self) -> String {
        "Find files whose content matches a regular expression. Files ignored by .gitignore and \
         binary files are skipped; `include` limits the search to file names matching a glob \
         (e.g. `*.py`). Returns the matching file paths, newest first, at most 100."
            .into()
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {
            "pattern": {"type": "string", "description": "The regular expression to search for."},
            "path": {"type": "string", "description": "The directory to search (default: the workspace)."},
            "include": {"type": "string", "description": "Only search files whose name matches this glob, e.g. `*.rs` or `*.{ts,tsx}`."}
        }, "required": ["pattern"]})
    }
    fn annotations(&self) -> ToolAnnotations {
        annotations("grep", true, false, true, false)
    }
    fn parse(&self, args: Value) -> Result<Action, String> {
        from_args::<GrepAction>(self.name(), args).map(Action::GrepAction)
    }
    async fn execute(&self, action: &Action, ctx: &ToolContext) -> Observation {
        let Action::GrepAction(a) = action else {
            return Observation::Other(Default::default());
        };
        let a = a.clone();
        let ctx = ctx.clone();
        let fallback = a.clone();
        let result =
            crate::agent_env::on_confined_thread(move || -> Result<GrepObservation, String> {
                use grep_searcher::sinks::UTF8;
                let root = search_root(a.path.as_deref(), &ctx)?;
                let matcher = grep_regex::RegexMatcher::new(&a.pattern)
                    .map_err(|e| format!("Invalid regex `{}`: {e}", a.pattern))?;
                let include = match &a.include {
                    Some(g) => Some(
                        globset::Glob::new(g)
                            .map_err(|e| format!("Invalid include glob `{g}`: {e}"))?
                            .compile_matcher(),
                    ),
                    None => None,
                };
                let mut searcher = grep_searcher::SearcherBuilder::new()
                    .binary_detection(grep_searcher::BinaryDetection::quit(0))
                    .build();
                let mut hits = Vec::new();
                for path in walk(&root) {
                    if let Some(inc) = &include {
                        let name = path.file_name().map(Path::new).unwrap_or(&path);
                        if !inc.is_match(name) {
                            continue;
                        }
                    }
                    let mut found = false;
                    let _ = searcher.search_path(
                        &matcher,
                        &path,
                        UTF8(|_, _| {
                            found = true;
                            Ok(false)
                        }),
                    );
                    if found {
                        hits.push(path);
                    }
                }
                let (matches, truncated) = newest_first(hits);
                let text = listing(
                    &matches,
                    truncated,
                    &format!(
                        "No files found containing `{}` in {}.",
                        a.pattern,
                        root.display()
                    ),
                );
                Ok(GrepObservation {
                    content: text_content(text),
                    is_error: false,
                    matches,
                    pattern: a.pattern.clone(),
                    search_path: root.display().to_string(),
                    include_pattern: a.include.clone(),
                    truncated,
                })
            })
            .await
            .and_then(|r| r);
        Observation::GrepObservation(result.unwrap_or_else(|msg| GrepObservation {
            content: text_content(msg),
            is_error: true,
            matches: vec![],
            pattern: fallback.pattern,
            search_path: fallback.path.unwrap_or_default(),
            include_pattern: fallback.include,
            truncated: false,
        }))
    }
}
