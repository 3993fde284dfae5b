//! Duplicated blocks in the Rust sources: runs of at least `WINDOW` meaningful lines (trimmed;
//! blank lines, comments and lone brackets left out) that appear in more than one place. A figure
//! to watch, not a failure: some repetition (test set-ups, route boilerplate) is honest.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, Result};

pub const WINDOW: usize = 8;

#[derive(Debug, Default, Clone, Copy)]
pub struct Figure {
    /// Distinct duplicated runs.
    pub blocks: usize,
    /// Where they occur (each occurrence of each run).
    pub places: usize,
}

fn meaningful(line: &str) -> Option<&str> {
    let t = line.trim();
    let noise = t.is_empty()
        || t.starts_with("//")
        || t.chars()
            .all(|c| matches!(c, '{' | '}' | '(' | ')' | '[' | ']' | ';' | ','));
    (!noise).then_some(t)
}

pub fn count(files: &[PathBuf]) -> Result<Figure> {
    let mut texts = Vec::new();
    for f in files {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        texts.push(
            text.lines()
                .filter_map(meaningful)
                .map(String::from)
                .collect::<Vec<_>>(),
        );
    }
    Ok(figure(&texts))
}

fn figure(files: &[Vec<String>]) -> Figure {
    let mut seen: HashMap<&[String], usize> = HashMap::new();
    for lines in files {
        for w in lines.windows(WINDOW) {
            *seen.entry(w).or_insert(0) += 1;
        }
    }
    // A duplicated run is a maximal stretch of consecutive duplicated windows in one file; the
    // run is counted once per place, and the distinct runs by their first window.
    let mut places = 0;
    let mut starts: HashMap<&[String], ()> = HashMap::new();
    for lines in files {
        let mut in_run = false;
        for w in lines.windows(WINDOW) {
            let dup = seen.get(w).is_some_and(|&n| n > 1);
            if dup && !in_run {
                places += 1;
                starts.insert(w, ());
            }
            in_run = dup;
        }
    }
    Figure {
        blocks: starts.len(),
        places,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines()
            .filter_map(meaningful)
            .map(String::from)
            .collect()
    }

    #[test]
    fn a_run_in_two_files_is_one_block_in_two_places() {
        let block: String = (0..10).map(|i| format!("let x{i} = {i};\n")).collect();
        let a = lines(&format!("fn a() {{\n{block}}}\n"));
        let b = lines(&format!("// other\nfn b() {{\n\n{block}}}\n"));
        let c = lines("fn c() {}\n");
        let f = figure(&[a, b, c]);
        assert_eq!((f.blocks, f.places), (1, 2));
    }
}
