//! Module cycles inside a crate. A module's code names other modules through `crate::`,
//! `super::` and `self::` paths (in `use` items and in code); two sibling modules that reach each
//! other, directly or round a loop, cannot be understood, tested or moved apart one at a time.
//! A child naming its parent, or a parent its child, is how Rust is written and is not a cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use syn::visit::Visit;

type ModPath = Vec<String>;

struct Reference {
    target: ModPath,
    at: String,
}

struct Module {
    path: ModPath,
    refs: Vec<Reference>,
}

pub fn cycles(krate: &str, roots: &[PathBuf]) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for root in roots {
        let base = root.parent().unwrap_or(Path::new("."));
        let mut modules = Vec::new();
        load_file(root, base.to_path_buf(), Vec::new(), base, &mut modules)?;
        problems.extend(sibling_cycles(krate, &modules));
    }
    Ok(problems)
}

fn load_file(
    file: &Path,
    children: PathBuf,
    path: ModPath,
    base: &Path,
    out: &mut Vec<Module>,
) -> Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let parsed = syn::parse_file(&text).with_context(|| format!("parsing {}", file.display()))?;
    let rel = file
        .strip_prefix(base)
        .unwrap_or(file)
        .display()
        .to_string();
    load_items(&parsed.items, &rel, file, children, path, base, out)
}

fn load_items(
    items: &[syn::Item],
    rel: &str,
    file: &Path,
    children: PathBuf,
    path: ModPath,
    base: &Path,
    out: &mut Vec<Module>,
) -> Result<()> {
    let mut refs = Refs {
        here: &path,
        rel,
        found: Vec::new(),
    };
    for item in items {
        refs.visit_item(item);
    }
    let found = refs.found;
    for item in items {
        let syn::Item::Mod(m) = item else { continue };
        let name = m.ident.to_string();
        let mut child = path.clone();
        child.push(name.clone());
        match &m.content {
            Some((_, inner)) => {
                load_items(inner, rel, file, children.join(&name), child, base, out)?
            }
            None => {
                let (f, dir) = child_file(file, &children, &name, path_attr(m));
                load_file(&f, dir, child, base, out)?;
            }
        }
    }
    out.push(Module { path, refs: found });
    Ok(())
}

fn path_attr(m: &syn::ItemMod) -> Option<String> {
    m.attrs.iter().find_map(|a| {
        let syn::Meta::NameValue(nv) = &a.meta else {
            return None;
        };
        if !nv.path.is_ident("path") {
            return None;
        }
        match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        }
    })
}

/// The file of `mod name;` and the folder its own children live in.
fn child_file(
    declaring: &Path,
    children: &Path,
    name: &str,
    attr: Option<String>,
) -> (PathBuf, PathBuf) {
    if let Some(p) = attr {
        let f = declaring.parent().unwrap_or(Path::new(".")).join(p);
        let stem = f.file_stem().map(|s| s.to_os_string()).unwrap_or_default();
        let dir = f.parent().unwrap_or(Path::new(".")).join(stem);
        return (f, dir);
    }
    let flat = children.join(format!("{name}.rs"));
    if flat.is_file() {
        (flat, children.join(name))
    } else {
        (children.join(name).join("mod.rs"), children.join(name))
    }
}

struct Refs<'a> {
    here: &'a ModPath,
    rel: &'a str,
    found: Vec<Reference>,
}

impl Refs<'_> {
    /// `crate::a::b`, `super::a`, `self::a` as a path from the crate root; other paths name
    /// external crates, local items or children, none of which can close a loop between siblings.
    fn resolve(&self, segments: &[String]) -> Option<ModPath> {
        let mut at: ModPath = self.here.clone();
        let mut rest = segments;
        match rest.first().map(String::as_str) {
            Some("crate") => {
                at.clear();
                rest = &rest[1..];
            }
            Some("self") => rest = &rest[1..],
            Some("super") => {
                while rest.first().map(String::as_str) == Some("super") {
                    at.pop()?;
                    rest = &rest[1..];
                }
            }
            _ => return None,
        }
        at.extend(rest.iter().cloned());
        Some(at)
    }

    fn add(&mut self, segments: &[String], span: proc_macro2::Span) {
        if let Some(target) = self.resolve(segments) {
            let at = format!(
                "{}:{} `{}`",
                self.rel,
                span.start().line,
                segments.join("::")
            );
            self.found.push(Reference { target, at });
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => self.use_leaf(prefix, Some(&n.ident), n.ident.span()),
            syn::UseTree::Rename(r) => self.use_leaf(prefix, Some(&r.ident), r.ident.span()),
            syn::UseTree::Glob(g) => self.use_leaf(prefix, None, g.star_token.span),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }

    fn use_leaf(&mut self, prefix: &[String], leaf: Option<&syn::Ident>, span: proc_macro2::Span) {
        let mut full = prefix.to_vec();
        full.extend(leaf.map(|i| i.to_string()).filter(|i| i != "self"));
        self.add(&full, span);
    }
}

impl<'ast> Visit<'ast> for Refs<'_> {
    fn visit_item_mod(&mut self, _: &'ast syn::ItemMod) {
        // A child module is a module of its own, read on its own.
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &u.tree);
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        if let Some(first) = p.segments.first() {
            self.add(&segments, first.ident.span());
        }
        syn::visit::visit_path(self, p);
    }
}

/// Edges between siblings (the children of one module) and the loops among them.
fn sibling_cycles(krate: &str, modules: &[Module]) -> Vec<String> {
    let known: BTreeSet<&ModPath> = modules.iter().map(|m| &m.path).collect();
    // parent → (from child → (to child → first reference))
    let mut graphs: BTreeMap<ModPath, BTreeMap<String, BTreeMap<String, String>>> = BTreeMap::new();
    for m in modules {
        for r in &m.refs {
            let mut target = r.target.clone();
            while !target.is_empty() && !known.contains(&target) {
                target.pop();
            }
            let common = m.path.iter().zip(&target).take_while(|(a, b)| a == b);
            let p = common.count();
            if p < m.path.len() && p < target.len() {
                graphs
                    .entry(m.path[..p].to_vec())
                    .or_default()
                    .entry(m.path[p].clone())
                    .or_default()
                    .entry(target[p].clone())
                    .or_insert_with(|| r.at.clone());
            }
        }
    }
    let mut problems = Vec::new();
    for (parent, graph) in &graphs {
        for scc in strongly_connected(graph) {
            let inside = |n: &String| scc.contains(n);
            let edges: Vec<String> = scc
                .iter()
                .flat_map(|from| {
                    graph[from]
                        .iter()
                        .filter(|(to, _)| inside(to))
                        .map(move |(to, at)| format!("{from} → {to} at {at}"))
                })
                .collect();
            let under = if parent.is_empty() {
                "the crate root".to_string()
            } else {
                parent.join("::")
            };
            problems.push(format!(
                "{krate}: modules {} (in {under}) form a cycle: {}",
                scc.join(", "),
                edges.join("; ")
            ));
        }
    }
    problems
}

/// The loops among a few sibling modules: nodes that reach each other (the graphs are small, so
/// plain reachability is clearer than Tarjan's algorithm).
fn strongly_connected(graph: &BTreeMap<String, BTreeMap<String, String>>) -> Vec<Vec<String>> {
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(v) = todo.pop() {
            for w in graph.get(&v).into_iter().flat_map(|e| e.keys()) {
                if seen.insert(w.clone()) {
                    todo.push(w.clone());
                }
            }
        }
        seen
    };
    let mut placed = BTreeSet::new();
    let mut out = Vec::new();
    for v in graph.keys() {
        if placed.contains(v) {
            continue;
        }
        let from_v = reach(v);
        let scc: Vec<String> = from_v
            .iter()
            .filter(|w| reach(w).contains(v))
            .cloned()
            .collect();
        placed.extend(scc.iter().cloned());
        if scc.len() > 1 {
            out.push(scc);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crate_of(files: &[(&str, &str)]) -> Vec<String> {
        let dir = std::env::temp_dir().join(format!("shape-{}", std::process::id()));
        let _ignored = std::fs::remove_dir_all(&dir);
        for (name, text) in files {
            let f = dir.join(name);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, text).unwrap();
        }
        let found = cycles("k", &[dir.join("lib.rs")]).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        found
    }

    #[test]
    fn siblings_that_reach_each_other_are_a_cycle_and_parent_child_is_not() {
        let found = crate_of(&[
            ("lib.rs", "mod a;\nmod b;\nmod c;\n"),
            ("a.rs", "use crate::b::X;\nmod inner;\n"),
            ("a/inner.rs", "use super::super::c::Y;\nuse super::Z;\n"),
            ("b.rs", "fn f() { crate::a::inner::g(); }\n"),
            ("c.rs", "pub struct Y;\n"),
        ]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].contains("modules a, b (in the crate root)"),
            "{found:#?}"
        );
        assert!(found[0].contains("b → a at b.rs:1 `crate::a::inner::g`"));
    }

    #[test]
    fn a_crate_without_loops_has_no_cycle() {
        let found = crate_of(&[
            ("lib.rs", "mod a;\nmod b;\npub use a::X;\n"),
            ("a.rs", "pub struct X;\nuse crate::b::*;\n"),
            ("b.rs", "mod tests { use super::*; }\n"),
        ]);
        assert!(found.is_empty(), "{found:#?}");
    }
}
