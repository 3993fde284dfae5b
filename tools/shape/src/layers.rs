//! Crate layering, from `cargo metadata`: a crate depends only on crates below it, test helpers
//! are only ever dev-dependencies, and every workspace crate has its place in the order.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// The workspace's crates from the bottom up. A crate may depend on crates of lower layers only:
/// the wire types know nothing of the engine, the engine nothing of the app, the app nothing of
/// its edges (web mode, the CLI, the desktop shell).
const LAYERS: &[&[&str]] = &[
    &["berth-protocol"],
    &["berth-confine"],
    &["berth-agent"],
    &["berth-store"],
    &["berth-sandbox"],
    // The app runs the agent-server as a program, never links it: side by side.
    &["berth-agent-server", "berth-app"],
    &["berth-web"],
    &["berth-cli"],
    &["berth"],
];
/// Test helpers: dev-dependencies only, never shipped.
const TEST_ONLY: &[&str] = &["berth-scripted-llm", "berth-test-support"];
/// Tools that run on the sources, not part of the app.
const TOOLS: &[&str] = &["berth-shape"];

pub struct Krate {
    pub name: String,
    /// The root file of each library and binary target (each is a crate of its own).
    pub roots: Vec<PathBuf>,
}

pub struct Metadata {
    packages: Vec<Value>,
}

impl Metadata {
    pub fn load(root: &Path) -> Result<Self> {
        let out = Command::new(env!("CARGO"))
            .args(["metadata", "--format-version", "1", "--no-deps", "--locked"])
            .current_dir(root)
            .output()
            .context("running cargo metadata")?;
        if !out.status.success() {
            bail!(
                "cargo metadata failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let v: Value = serde_json::from_slice(&out.stdout).context("reading cargo metadata")?;
        let packages = v["packages"].as_array().cloned().unwrap_or_default();
        Ok(Self { packages })
    }

    fn targets(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.packages.iter().flat_map(|p| {
            let name = p["name"].as_str().unwrap_or("");
            p["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |t| (name, t))
        })
    }

    fn has_kind(target: &Value, kind: &str) -> bool {
        target["kind"]
            .as_array()
            .is_some_and(|k| k.iter().any(|x| x == kind))
    }

    pub fn crates(&self) -> Vec<Krate> {
        let mut out: Vec<Krate> = Vec::new();
        for (name, t) in self.targets() {
            if !(Self::has_kind(t, "lib") || Self::has_kind(t, "bin")) {
                continue;
            }
            let Some(src) = t["src_path"].as_str() else {
                continue;
            };
            match out.iter_mut().find(|k| k.name == name) {
                Some(k) => k.roots.push(src.into()),
                None => out.push(Krate {
                    name: name.into(),
                    roots: vec![src.into()],
                }),
            }
        }
        out
    }

    pub fn test_binaries(&self) -> usize {
        self.targets()
            .filter(|(_, t)| Self::has_kind(t, "test"))
            .count()
    }

    pub fn layering(&self) -> Vec<String> {
        let names: Vec<&str> = self
            .packages
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        let mut problems = Vec::new();
        for p in &self.packages {
            let name = p["name"].as_str().unwrap_or("");
            let deps = p["dependencies"].as_array().into_iter().flatten();
            let deps = deps.filter_map(|d| {
                let dep = d["name"].as_str()?;
                names.contains(&dep).then(|| (dep, d["kind"].as_str()))
            });
            problems.extend(deps.filter_map(|(dep, kind)| check(name, dep, kind)));
            if !TOOLS.contains(&name) && !TEST_ONLY.contains(&name) && layer(name).is_none() {
                problems.push(format!(
                    "crate {name} has no layer: add it to LAYERS in tools/shape/src/layers.rs"
                ));
            }
        }
        problems
    }
}

fn layer(name: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&name))
}

/// One dependency edge against the rules; `kind` is cargo's (`None` normal, `dev`, `build`).
fn check(from: &str, to: &str, kind: Option<&str>) -> Option<String> {
    if TEST_ONLY.contains(&to) {
        return (kind != Some("dev") && !TEST_ONLY.contains(&from))
            .then(|| format!("{from} depends on the test helper {to} outside dev-dependencies"));
    }
    if kind == Some("dev") || TEST_ONLY.contains(&from) {
        return None;
    }
    match (layer(from), layer(to)) {
        (Some(a), Some(b)) if b >= a => Some(format!(
            "{from} depends on {to}, which is not below it (tools/shape/src/layers.rs)"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn a_crate_depends_only_downwards_and_on_test_helpers_only_in_tests() {
        assert_eq!(check("berth-app", "berth-agent", None), None);
        assert!(check("berth-agent", "berth-app", None).is_some());
        assert!(check("berth-app", "berth-agent-server", None).is_some());
        assert_eq!(check("berth-app", "berth-sandbox", None), None);
        assert!(check("berth-sandbox", "berth-app", None).is_some());
        assert!(check("berth-store", "berth-sandbox", None).is_some());
        assert_eq!(check("berth-app", "berth-scripted-llm", Some("dev")), None);
        assert!(check("berth-app", "berth-scripted-llm", None).is_some());
        assert_eq!(check("berth-web", "berth-protocol", Some("dev")), None);
    }
}
