//! The shape ARCHITECTURE.md promises, checked on every build: no import
//! circle between modules, and none of the arrows the layering forbids (the
//! hub knowing a chardev kind, the terminal knowing pixels or the network,
//! the VNC server knowing terminals).
//!
//! It reads `src/` and the emulator's crate (`crates/term/src`, the module
//! `term`) as text: every path a file names through `crate::`,
//! `super::`, `self::` or a child module (in `use` items and inline) is an
//! arrow from that file's module to the module the path lands in. Each module
//! is a file (`a/mod.rs` is `a`, `a/b.rs` is `a::b`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module of the crate and what it names.
struct Module {
    /// `term::screen`; the crate root is "".
    path: String,
    /// Whether it is a `mod.rs` or `lib.rs` (its children are `path::child`).
    is_dir: bool,
    text: String,
}

/// The crates read, each as the module it is to the rest of vcmux: the main
/// crate's `src/` is the root, and the emulator's crate is `term` (its
/// `crate::` paths are rewritten to `crate::term::`, as `vcmux::term`
/// re-exports it).
const CRATES: [(&str, &str); 2] = [("src", ""), ("crates/term/src", "term")];

fn modules() -> Vec<Module> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    CRATES.iter().flat_map(|(dir, prefix)| crate_modules(&root.join(dir), prefix)).collect()
}

fn crate_modules(src: &Path, prefix: &str) -> Vec<Module> {
    let mut files = Vec::new();
    collect(src, &mut files);
    files
        .into_iter()
        .filter_map(|file| {
            let relative = file.strip_prefix(src).ok()?.with_extension("");
            let mut parts: Vec<String> =
                relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            let last = parts.last()?.clone();
            if last == "main" {
                return None;
            }
            let is_dir = last == "mod" || last == "lib";
            if is_dir {
                parts.pop();
            }
            if !prefix.is_empty() {
                parts.insert(0, prefix.to_string());
            }
            let mut text = std::fs::read_to_string(&file).ok()?;
            if !prefix.is_empty() {
                text = text.replace("crate::", &format!("crate::{prefix}::"));
            }
            // A file's unit tests (its last item, by this crate's habit) are
            // not part of its shape.
            let text = strip_comments(text.split("#[cfg(test)]\nmod ").next().unwrap_or_default());
            Some(Module { path: parts.join("::"), is_dir, text })
        })
        .collect()
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// The text without `//` comments (doc comments name modules in prose).
fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            // A `//` inside a string literal is kept: good enough for paths.
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path named in `use` items (a line starting `use` or `pub… use`),
/// with brace groups expanded, and whether the item re-exports it.
fn use_paths(text: &str) -> Vec<(String, bool)> {
    let mut paths = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim_start();
        let visibility = ["pub(crate) ", "pub(super) ", "pub "].iter().find(|v| trimmed.starts_with(**v));
        let after = visibility.map_or(trimmed, |v| &trimmed[v.len()..]);
        let Some(item) = after.strip_prefix("use ") else { continue };
        let from = start + (line.len() - item.len());
        let Some(end) = text[from..].find(';') else { continue };
        let item: String = text[from..from + end].chars().filter(|c| !c.is_whitespace()).collect();
        let mut expanded = Vec::new();
        expand("", &item, &mut expanded);
        paths.extend(expanded.into_iter().map(|p| (p, visibility.is_some())));
    }
    paths
}

fn expand(prefix: &str, item: &str, out: &mut Vec<String>) {
    match item.find('{') {
        None => out.push(format!("{prefix}{item}")),
        Some(open) => {
            let head = format!("{prefix}{}", &item[..open]);
            let inner = &item[open + 1..item.rfind('}').unwrap_or(item.len())];
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        expand(&head, &inner[start..i], out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            if start < inner.len() {
                expand(&head, &inner[start..], out);
            }
        }
    }
}

/// Paths written inline (`crate::chardev::stdio::restore_terminal()`).
fn inline_paths(text: &str, roots: &[&str]) -> Vec<String> {
    let mut paths = Vec::new();
    let bytes = text.as_bytes();
    for root in roots {
        let needle = format!("{root}::");
        let mut from = 0;
        while let Some(at) = text[from..].find(&needle) {
            let start = from + at;
            from = start + needle.len();
            if start > 0
                && (bytes[start - 1].is_ascii_alphanumeric() || matches!(bytes[start - 1], b'_' | b':'))
            {
                continue;
            }
            let end = text[start..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(text.len(), |e| start + e);
            paths.push(text[start..end].trim_end_matches(':').to_string());
        }
    }
    paths
}

/// What a module re-exports: the name it gives, and the path it names.
type Exports = BTreeMap<String, BTreeMap<String, String>>;

/// The module a path written in `module` lands in, if it is one of ours,
/// following re-exports (`pub use`) to the module that defines the item.
fn resolve(
    module: &str,
    is_dir: bool,
    path: &str,
    known: &BTreeSet<String>,
    exports: &Exports,
) -> Option<String> {
    resolve_at(module, is_dir, path, known, exports, 0)
}

fn resolve_at(
    module: &str,
    is_dir: bool,
    path: &str,
    known: &BTreeSet<String>,
    exports: &Exports,
    depth: usize,
) -> Option<String> {
    let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let mut base: Vec<String> =
        if module.is_empty() { Vec::new() } else { module.split("::").map(String::from).collect() };
    let mut rest = &segments[..];
    match rest.first().copied() {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        Some("super") => {
            while rest.first() == Some(&"super") {
                base.pop();
                rest = &rest[1..];
            }
        }
        Some(first) => {
            // A child module named without `self::` (2018 paths), else not ours.
            let child = if module.is_empty() { first.to_string() } else { format!("{module}::{first}") };
            if !is_dir || !known.contains(&child) {
                return None;
            }
        }
        None => return None,
    }
    // The longest prefix that is a module.
    let mut target = base.join("::");
    let mut candidate = base;
    let mut item = None;
    for segment in rest {
        candidate.push((*segment).to_string());
        let joined = candidate.join("::");
        if known.contains(&joined) {
            target = joined;
        } else {
            item = Some(*segment);
            break;
        }
    }
    // An item the module only re-exports lives where its `pub use` points.
    if let Some(reexported) = item.and_then(|name| exports.get(&target)?.get(name))
        && depth < 8
    {
        let target_is_dir = known.iter().any(|k| k.starts_with(&format!("{target}::")));
        return resolve_at(&target, target_is_dir, reexported, known, exports, depth + 1);
    }
    Some(target)
}

/// Every arrow between two different modules.
fn arrows() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    let known: BTreeSet<String> = modules.iter().map(|m| m.path.clone()).collect();
    let mut exports: Exports = BTreeMap::new();
    for module in &modules {
        for (path, public) in use_paths(&module.text) {
            if !public || path.ends_with('*') {
                continue;
            }
            let (path, name) = match path.split_once(" as ").or_else(|| path.split_once("as")) {
                _ if path.contains("::") && !path.contains(" as ") => {
                    let name = path.rsplit("::").next().unwrap_or_default().to_string();
                    (path.clone(), name)
                }
                _ => (path.clone(), path.rsplit("::").next().unwrap_or_default().to_string()),
            };
            exports.entry(module.path.clone()).or_default().insert(name, path);
        }
    }
    let mut graph = BTreeMap::new();
    for module in &modules {
        let children: Vec<String> = known
            .iter()
            .filter_map(|k| {
                let rest = if module.path.is_empty() {
                    Some(k.as_str())
                } else {
                    k.strip_prefix(&format!("{}::", module.path))
                };
                rest.filter(|r| !r.is_empty() && !r.contains("::")).map(String::from)
            })
            .collect();
        let mut roots = vec!["crate", "super", "self"];
        if module.is_dir {
            roots.extend(children.iter().map(String::as_str));
        }
        let paths = use_paths(&module.text)
            .into_iter()
            .map(|(path, _)| path)
            .chain(inline_paths(&module.text, &roots));
        let targets: &mut BTreeSet<String> = graph.entry(module.path.clone()).or_default();
        for path in paths {
            if let Some(target) = resolve(&module.path, module.is_dir, &path, &known, &exports)
                && target != module.path
                && !target.is_empty()
            {
                targets.insert(target);
            }
        }
    }
    graph
}

/// The modules on circles of arrows (Tarjan's strongly connected components of
/// more than one module).
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.graph.get(v).into_iter().flatten() {
            if !s.index.contains_key(w.as_str()) {
                visit(s, w);
                let low = s.low[w.as_str()].min(s.low[v]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w.as_str()) {
                let low = s.index[w.as_str()].min(s.low[v]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    state.found
}

/// Whether `module` is `layer` or inside it.
fn within(module: &str, layer: &str) -> bool {
    module == layer || module.starts_with(&format!("{layer}::"))
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let graph = arrows();
    let found = circles(&graph);
    let described: Vec<String> = found
        .iter()
        .map(|component| {
            let inner: Vec<String> = component
                .iter()
                .flat_map(|from| {
                    graph[from]
                        .iter()
                        .filter(|to| component.contains(to))
                        .map(move |to| format!("{from} -> {to}"))
                })
                .collect();
            format!("[{}]", inner.join(", "))
        })
        .collect();
    assert!(found.is_empty(), "import circles:\n{}", described.join("\n"));
}

#[test]
fn the_layers_import_only_downwards() {
    // (layer, what it must never import): ARCHITECTURE.md's invariants.
    let forbidden: &[(&str, &[&str])] = &[
        ("hub", &["chardev", "launch", "cli", "config", "control", "rfb", "term", "render", "frame"]),
        ("term", &["render", "rfb", "hub", "chardev", "launch", "cli", "config", "control", "frame"]),
        ("frame", &["render", "rfb", "term", "hub", "chardev", "launch", "cli", "config", "control"]),
        (
            "memory",
            &["frame", "render", "rfb", "term", "hub", "chardev", "launch", "cli", "config", "control"],
        ),
        (
            "novnc",
            &["frame", "render", "rfb", "term", "hub", "chardev", "launch", "cli", "config", "control"],
        ),
        ("render", &["rfb", "hub", "chardev", "launch", "cli", "control"]),
        ("rfb", &["term", "render", "hub", "chardev", "launch", "cli", "config", "control"]),
        // TLS credentials: rustls configurations from files, nothing of vcmux.
        ("tls", &["term", "render", "rfb", "hub", "chardev", "launch", "cli", "config", "control", "frame"]),
        ("chardev", &["launch", "cli", "control"]),
        // The control socket hears of frontends and viewers through `launch`,
        // and reads only the RFB server's plain data.
        ("control", &["launch", "cli", "hub", "rfb::server", "rfb::connection", "rfb::viewers"]),
        // `vcmux ctl` is a client: it reaches the server over the wire only
        // (it reads chardev-add's option with config's -chardev parser).
        ("cli::ctl", &["control", "launch", "chardev", "hub", "rfb", "render", "term", "frame"]),
    ];
    let graph = arrows();
    let mut wrong = Vec::new();
    for (from, targets) in &graph {
        for (layer, never) in forbidden {
            if !within(from, layer) {
                continue;
            }
            for to in targets {
                if never.iter().any(|n| within(to, n)) {
                    wrong.push(format!("{from} -> {to}"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "arrows the layering forbids:\n{}", wrong.join("\n"));
}

#[test]
fn the_reader_sees_what_it_should() {
    // The check must see arrows, or it would pass by seeing nothing.
    let graph = arrows();
    assert!(graph["launch"].contains("hub"), "{:?}", graph["launch"]);
    assert!(graph["term"].iter().any(|m| m.starts_with("term::")), "{:?}", graph["term"]);
    let mut paths = Vec::new();
    expand("", "super::{a,b::{c,d}}", &mut paths);
    assert_eq!(paths, ["super::a", "super::b::c", "super::b::d"]);
}
