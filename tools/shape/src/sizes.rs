//! Lengths of files (Rust and the UI's TypeScript) and of Rust functions, from the sources git
//! tracks (`ignore` walks them as git sees them, so `target/` and `node_modules/` stay out).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use syn::visit::Visit;

use crate::{MAX_FILE_LINES, MAX_FN_LINES};

/// One measured thing: `fn <file>::<path>` or `file <file>`, and its length in lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Size {
    pub key: String,
    pub lines: usize,
}

#[derive(Debug, Default)]
pub struct Measured {
    pub files: Vec<Size>,
    pub fns: Vec<Size>,
    pub rust_files: Vec<PathBuf>,
}

impl Measured {
    pub fn over_limits(&self) -> Vec<Size> {
        let fns = self.fns.iter().filter(|f| f.lines > MAX_FN_LINES);
        let files = self.files.iter().filter(|f| f.lines > MAX_FILE_LINES);
        let mut over: Vec<Size> = files.chain(fns).cloned().collect();
        over.sort_by(|a, b| a.key.cmp(&b.key));
        over
    }

    pub fn longest_fn(&self) -> Option<&Size> {
        self.fns.iter().max_by_key(|f| f.lines)
    }

    pub fn longest_file(&self) -> Option<&Size> {
        self.files.iter().max_by_key(|f| f.lines)
    }

    pub fn fns_over(&self) -> usize {
        self.fns.iter().filter(|f| f.lines > MAX_FN_LINES).count()
    }

    pub fn files_over(&self) -> usize {
        self.files
            .iter()
            .filter(|f| f.lines > MAX_FILE_LINES)
            .count()
    }
}

/// Generated code is not written by people, so its size says nothing about the code's shape.
fn is_generated(rel: &str) -> bool {
    rel.starts_with("ui/src/generated/")
}

pub fn measure(root: &Path) -> Result<Measured> {
    let mut out = Measured::default();
    for entry in ignore::WalkBuilder::new(root).build() {
        let entry = entry.context("walking the sources")?;
        let path = entry.path();
        let rel = path
            .strip_prefix(root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "rs" | "ts" | "tsx") || is_generated(&rel) || !path.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {rel}"))?;
        out.files.push(Size {
            key: format!("file {rel}"),
            lines: text.lines().count(),
        });
        if ext == "rs" {
            out.fns.extend(functions(&rel, &text)?);
            out.rust_files.push(path.to_path_buf());
        }
    }
    Ok(out)
}

/// Every function with a body in one Rust file, named by its inline modules and `impl` type.
pub fn functions(rel: &str, text: &str) -> Result<Vec<Size>> {
    let file = syn::parse_file(text).with_context(|| format!("parsing {rel}"))?;
    let mut v = FnVisitor {
        rel,
        scope: Vec::new(),
        found: Vec::new(),
        seen: HashMap::new(),
    };
    v.visit_file(&file);
    Ok(v.found)
}

struct FnVisitor<'a> {
    rel: &'a str,
    scope: Vec<String>,
    found: Vec<Size>,
    seen: HashMap<String, usize>,
}

impl FnVisitor<'_> {
    fn record(&mut self, name: &syn::Ident, start: proc_macro2::Span, body: &syn::Block) {
        let lines = body.brace_token.span.close().end().line + 1 - start.start().line;
        let mut path = self.scope.clone();
        path.push(name.to_string());
        let mut key = format!("fn {}::{}", self.rel, path.join("::"));
        // Two impls (of different traits, say) can both have a `fmt`: the second is `fmt#2`.
        let n = self.seen.entry(key.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            key = format!("{key}#{n}");
        }
        self.found.push(Size { key, lines });
    }
}

impl<'ast> Visit<'ast> for FnVisitor<'_> {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.record(&f.sig.ident, f.sig.fn_token.span, &f.block);
        syn::visit::visit_item_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.record(&f.sig.ident, f.sig.fn_token.span, &f.block);
        syn::visit::visit_impl_item_fn(self, f);
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if let Some(body) = &f.default {
            self.record(&f.sig.ident, f.sig.fn_token.span, body);
        }
        syn::visit::visit_trait_item_fn(self, f);
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        let ty = &i.self_ty;
        let name = match &**ty {
            syn::Type::Path(p) => p
                .path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default(),
            _ => "impl".to_string(),
        };
        self.scope.push(name);
        syn::visit::visit_item_impl(self, i);
        self.scope.pop();
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        self.scope.push(m.ident.to_string());
        syn::visit::visit_item_mod(self, m);
        self.scope.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_is_measured_from_its_signature_to_its_closing_brace() {
        let text = "/// doc\n#[inline]\nfn a() {\n    1;\n}\nimpl S {\n    fn b(\n        x: u8,\n    ) {}\n}\nmod m {\n    fn c() {}\n}\n";
        let fns = functions("x.rs", text).unwrap();
        let got: Vec<(&str, usize)> = fns.iter().map(|f| (f.key.as_str(), f.lines)).collect();
        assert_eq!(
            got,
            [
                ("fn x.rs::a", 3),
                ("fn x.rs::S::b", 3),
                ("fn x.rs::m::c", 1)
            ]
        );
    }
}
