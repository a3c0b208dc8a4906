//! The shape of the house, checked: the top-level modules of every crate depend on each other one way (no
//! cycles), read from the `crate::`, `super::` and `self::` paths in the source, and the library crates never reach
//! into the front crates.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crates checked: every crate of the workspace but the test kit.
const CRATES: &[&str] = &[
    "crates/domain",
    "crates/config",
    "crates/store",
    "crates/telegram",
    "crates/llm",
    "crates/platforms",
    "crates/delivery",
    "crates/queue",
    "crates/posting",
    "scheduler",
    "web",
    "bot",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a source file relative to `src`: `lib.rs` is `[]`, `a.rs` and `a/mod.rs` are `[a]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap();
    match last.as_str() {
        "lib.rs" | "main.rs" | "mod.rs" => {}
        other => parts.push(other.trim_end_matches(".rs").to_owned()),
    }
    parts
}

/// Source without comments (line comments and doc comments), so prose naming a module is not a use of it.
fn code(text: &str) -> String {
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// Names the crate root re-exports (`pub use m::{A, B}` in lib.rs), mapped to the module they come from.
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let re = regex::Regex::new(r"pub use (\w+)::(\{[^}]*\}|\w+)").unwrap();
    for cap in re.captures_iter(lib) {
        for name in cap[2].trim_matches(|c| c == '{' || c == '}').split(',') {
            let name = name.split(" as ").last().unwrap_or("").trim();
            if !name.is_empty() {
                out.insert(name.to_owned(), cap[1].to_owned());
            }
        }
    }
    out
}

/// Edges between the top-level modules of one crate.
fn module_graph(crate_dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let src = crate_dir.join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let lib = files.iter().find(|f| f.ends_with("lib.rs")).map(|f| code(&std::fs::read_to_string(f).unwrap()));
    let reexported = lib.as_deref().map(reexports).unwrap_or_default();
    let top: BTreeSet<String> = files.iter().filter_map(|f| module_of(&src, f).first().cloned()).collect();
    let path = regex::Regex::new(r"\b(crate|super|self)((?:::\w+)+|::\{)").unwrap();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let module = module_of(&src, file);
        let Some(from) = module.first().cloned() else { continue };
        let text = code(&std::fs::read_to_string(file).unwrap());
        for cap in path.captures_iter(&text) {
            let segments: Vec<&str> = cap[2].split("::").filter(|s| !s.is_empty() && *s != "{").collect();
            // Resolve to an absolute module path from the crate root.
            let mut abs: Vec<String> = match &cap[1] {
                "crate" => Vec::new(),
                "self" => module.clone(),
                _ => module[..module.len().saturating_sub(1)].to_vec(),
            };
            abs.extend(segments.iter().map(|s| s.to_string()));
            let Some(first) = abs.first() else { continue };
            let target = if top.contains(first) {
                first.clone()
            } else if let Some(m) = reexported.get(first) {
                m.clone()
            } else {
                continue;
            };
            if target != from {
                graph.entry(from.clone()).or_default().insert(target);
            }
        }
    }
    graph
}

/// One cycle of the graph, if it has any.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_cycle_finder_finds_a_cycle_and_accepts_a_tree() {
    let g = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
        }
        g
    };
    assert_eq!(find_cycle(&g(&[("a", "b"), ("b", "c"), ("a", "c")])), None);
    assert_eq!(find_cycle(&g(&[("a", "b"), ("b", "c"), ("c", "a")])).unwrap().len(), 4);
}

#[test]
fn no_crate_has_a_module_cycle() {
    let mut cycles = Vec::new();
    for name in CRATES {
        if let Some(cycle) = find_cycle(&module_graph(&root().join(name))) {
            cycles.push(format!("{name}: {}", cycle.join(" -> ")));
        }
    }
    assert!(cycles.is_empty(), "module cycles (make the dependency one-way):\n{}", cycles.join("\n"));
}

#[test]
fn library_crates_never_name_a_front_crate() {
    for name in CRATES.iter().filter(|c| c.starts_with("crates/")) {
        let manifest = std::fs::read_to_string(root().join(name).join("Cargo.toml")).unwrap();
        let deps = manifest.split("[dev-dependencies]").next().unwrap();
        for front in ["tochen-bot", "tochen-scheduler", "tochen-web"] {
            assert!(!deps.contains(front), "{name} depends on the front crate {front}");
        }
    }
}

/// The bot's conversational flows: each handles its own commands, buttons and answers. Shared pieces (context,
/// keyboards, screens, cards, state, the creation policy) are not flows; buttons of one flow that open another go
/// through `handover.rs`, the router.
const BOT_FLOWS: &[&str] = &[
    "admin",
    "ads",
    "approval",
    "automations",
    "calendar",
    "connect",
    "draft",
    "ideas",
    "library",
    "onboarding",
    "queue",
    "schedule",
    "slots",
    "stats",
    "team",
];

#[test]
fn bot_flows_never_import_each_other() {
    let graph = module_graph(&root().join("bot"));
    let mut crossings = Vec::new();
    for (from, tos) in &graph {
        if !BOT_FLOWS.contains(&from.as_str()) {
            continue;
        }
        for to in tos.iter().filter(|t| *t != from && BOT_FLOWS.contains(&t.as_str())) {
            crossings.push(format!("{from} -> {to}"));
        }
    }
    assert!(
        crossings.is_empty(),
        "flows import each other (route the button through handover.rs, or move the shared piece to screens):\n{}",
        crossings.join("\n")
    );
    for flow in ["draft", "schedule", "team", "onboarding"] {
        assert!(graph.contains_key(flow), "the module graph knows the bot's flows: {graph:?}");
    }
}
