//! `berth-shape`: the code-shape check CI runs (`cargo run -p berth-shape --locked`).
//!
//! It prints the figures a reviewer asks about (the longest function and file, duplicated
//! blocks, test binaries) and fails when the shape gets worse: a function over 80 lines or a file
//! over 600 that the baseline (`tools/shape/baseline.txt`) does not list, a listed one that grew,
//! a module cycle inside a crate, or a crate depending on one above it. The baseline may only
//! shrink: an entry that is no longer needed must go, and one the previous commit did not have is
//! refused.

mod baseline;
mod dupes;
mod layers;
mod modules;
mod sizes;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

/// A function longer than this asks to be split (AGENTS.md).
pub const MAX_FN_LINES: usize = 80;
/// A file longer than this asks to be split (AGENTS.md).
pub const MAX_FILE_LINES: usize = 600;
const BASELINE: &str = "tools/shape/baseline.txt";

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("berth-shape: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<bool> {
    let root = workspace_root()?;
    let write = std::env::args().any(|a| a == "--write-baseline");
    let metadata = layers::Metadata::load(&root)?;
    let measured = sizes::measure(&root)?;
    let mut problems = Vec::new();

    let over = measured.over_limits();
    if write {
        baseline::write(&root.join(BASELINE), &over)?;
        println!("wrote {BASELINE} ({} entries)", over.len());
    }
    let listed = baseline::read(&root.join(BASELINE))?;
    problems.extend(baseline::compare(&over, &listed));
    if let Some(previous) = baseline::at_previous_commit(&root, BASELINE)? {
        problems.extend(baseline::only_shrinks(&listed, &previous));
    }
    for krate in metadata.crates() {
        problems.extend(modules::cycles(&krate.name, &krate.roots)?);
    }
    problems.extend(metadata.layering());

    let dupes = dupes::count(&measured.rust_files)?;
    print_figures(&measured, dupes, metadata.test_binaries());
    for p in &problems {
        println!("shape: {p}");
    }
    if problems.is_empty() {
        println!("shape: ok");
    }
    Ok(problems.is_empty())
}

fn print_figures(m: &sizes::Measured, dupes: dupes::Figure, test_binaries: usize) {
    if let Some(f) = m.longest_fn() {
        println!(
            "longest function: {} lines, {}",
            f.lines,
            f.key.trim_start_matches("fn ")
        );
    }
    if let Some(f) = m.longest_file() {
        println!(
            "longest file: {} lines, {}",
            f.lines,
            f.key.trim_start_matches("file ")
        );
    }
    println!(
        "over the limits: {} functions over {MAX_FN_LINES} lines, {} files over {MAX_FILE_LINES}",
        m.fns_over(),
        m.files_over()
    );
    println!(
        "duplicated blocks (>= {} lines): {} blocks in {} places",
        dupes::WINDOW,
        dupes.blocks,
        dupes.places
    );
    println!("test binaries: {test_binaries}");
}

fn workspace_root() -> Result<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.join("../..");
    root.canonicalize()
        .with_context(|| format!("the workspace root above {}", manifest.display()))
}
