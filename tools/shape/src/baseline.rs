//! The baseline: the functions and files over the limits that existed when the check began, each
//! with its length. One line each, `<key> <lines>`; `#` starts a comment.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::sizes::Size;
use crate::{MAX_FILE_LINES, MAX_FN_LINES};

pub type Baseline = BTreeMap<String, usize>;

const HEADER: &str = "\
# Functions over 80 lines and files over 600 that predate the size check (tools/shape).
# This list may only shrink: split one, then lower or remove its line. Written by
# `cargo run -p berth-shape -- --write-baseline`; never add a line by hand.
";

pub fn parse(text: &str) -> Result<Baseline> {
    let mut out = Baseline::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, n)) = line.rsplit_once(' ') else {
            bail!("baseline line {}: expected `<key> <lines>`", i + 1);
        };
        let n = n
            .parse()
            .with_context(|| format!("baseline line {}: `{n}` is not a line count", i + 1))?;
        out.insert(key.to_string(), n);
    }
    Ok(out)
}

pub fn read(path: &Path) -> Result<Baseline> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Baseline::new()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

pub fn write(path: &Path, over: &[Size]) -> Result<()> {
    let mut text = HEADER.to_string();
    for s in over {
        text.push_str(&format!("{} {}\n", s.key, s.lines));
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn limit_of(key: &str) -> usize {
    if key.starts_with("file ") {
        MAX_FILE_LINES
    } else {
        MAX_FN_LINES
    }
}

/// What is over the limits now against what the baseline allows.
pub fn compare(over: &[Size], listed: &Baseline) -> Vec<String> {
    let mut problems = Vec::new();
    for s in over {
        let limit = limit_of(&s.key);
        match listed.get(&s.key) {
            None => problems.push(format!(
                "{} is {} lines, over the limit of {limit}: split it",
                s.key, s.lines
            )),
            Some(&was) if s.lines > was => problems.push(format!(
                "{} grew from {was} to {} lines (limit {limit}): split it",
                s.key, s.lines
            )),
            Some(&was) if s.lines < was => problems.push(format!(
                "{} is down to {} lines: lower its line in the baseline from {was}",
                s.key, s.lines
            )),
            Some(_) => {}
        }
    }
    for key in listed.keys() {
        if !over.iter().any(|s| &s.key == key) {
            problems.push(format!(
                "{key} is within the limit now (or gone): remove its line from the baseline"
            ));
        }
    }
    problems
}

/// The baseline against the one before this change: nothing new, nothing larger.
pub fn only_shrinks(listed: &Baseline, previous: &Baseline) -> Vec<String> {
    let mut problems = Vec::new();
    for (key, &n) in listed {
        match previous.get(key) {
            None => problems.push(format!(
                "{key} was added to the baseline: the baseline may only shrink, split it instead"
            )),
            Some(&was) if n > was => problems.push(format!(
                "{key} grew in the baseline from {was} to {n}: the baseline may only shrink"
            )),
            Some(_) => {}
        }
    }
    problems
}

/// The baseline as the previous change left it: HEAD's when the working copy differs from HEAD
/// (a change being made), else HEAD~1's (a change just committed, as CI sees it). `None` when
/// there is no such commit or that commit had no baseline.
pub fn at_previous_commit(root: &Path, rel: &str) -> Result<Option<Baseline>> {
    let now = match std::fs::read_to_string(root.join(rel)) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {rel}")),
    };
    if let Some(head) = git_show(root, "HEAD", rel)?
        && head != now
    {
        return parse(&head).map(Some);
    }
    match git_show(root, "HEAD~1", rel)? {
        Some(text) => parse(&text).map(Some),
        None => Ok(None),
    }
}

fn git_show(root: &Path, rev: &str, rel: &str) -> Result<Option<String>> {
    let run = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .context("running git (the baseline check reads the previous commit's baseline)")
    };
    if !run(&["rev-parse", "--verify", "--quiet", rev])?
        .status
        .success()
    {
        return Ok(None);
    }
    let out = run(&["show", &format!("{rev}:{rel}")])?;
    Ok(out
        .status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(key: &str, lines: usize) -> Size {
        Size {
            key: key.into(),
            lines,
        }
    }

    #[test]
    fn only_what_the_baseline_lists_may_be_over_and_no_longer_than_listed() {
        let listed = parse("# c\nfn a.rs::f 120\nfile b.rs 700\nfn a.rs::gone 90\n").unwrap();
        let over = [
            size("fn a.rs::f", 130),
            size("file b.rs", 650),
            size("fn a.rs::new", 81),
        ];
        let problems = compare(&over, &listed);
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(problems[0].contains("grew from 120 to 130"));
        assert!(problems[1].contains("down to 650"));
        assert!(problems[2].contains("fn a.rs::new is 81 lines"));
        assert!(problems[3].contains("fn a.rs::gone is within the limit"));
    }

    #[test]
    fn the_baseline_may_not_gain_entries_or_grow() {
        let previous = parse("fn a.rs::f 120\n").unwrap();
        let listed = parse("fn a.rs::f 121\nfn a.rs::g 100\n").unwrap();
        let problems = only_shrinks(&listed, &previous);
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(only_shrinks(&parse("fn a.rs::f 100\n").unwrap(), &previous).is_empty());
    }
}
