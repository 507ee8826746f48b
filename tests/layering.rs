//! The module graph matches the book's picture (the crate docs, DESIGN §2): every module of
//! `src/` imports only modules of a lower layer, or of its own layer without a cycle, so the
//! graph has none. A service that the
//! loop named (a field of its type, a trait of its module) would put `event_loop` above it and
//! below it at once; this test names the import that does it.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// The layers, lowest first, as `src/lib.rs` draws them (`panics` is a private leaf).
const LAYERS: &[&[&str]] = &[
    &[
        "heap",
        "stack",
        "clock",
        "microtasks",
        "refs",
        "trace",
        "console",
        "sys",
        "panics",
    ],
    &["timers", "queue", "threadpool", "io"],
    &["event_loop"],
    &["promise", "net", "fs", "dns", "crypto"],
    &["task"],
    &["prelude"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// Every `.rs` file of a top-level module: `src/<m>.rs` or the files under `src/<m>/`.
fn sources(module: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let file = Path::new("src").join(format!("{module}.rs"));
    let dir = Path::new("src").join(module);
    let mut stack = vec![];
    if file.is_file() {
        stack.push(file);
    }
    if dir.is_dir() {
        stack.push(dir);
    }
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in fs::read_dir(&path).expect("a source directory") {
                stack.push(entry.expect("a directory entry").path());
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&path).expect("a source file");
            found.push((path.display().to_string(), text));
        }
    }
    assert!(!found.is_empty(), "no source for module `{module}`");
    found
}

/// The top-level modules a source file names as `crate::<m>`, with the line that does it.
fn imports(text: &str) -> Vec<(String, usize)> {
    let mut names = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                names.push((name, number + 1));
            }
        }
    }
    names
}

#[test]
fn no_module_imports_one_above_it_and_the_graph_has_no_cycle() {
    let mut wrong = Vec::new();
    let mut graph: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for layer in LAYERS {
        for &module in *layer {
            let own = layer_of(module).expect("listed");
            for (file, text) in sources(module) {
                for (name, line) in imports(&text) {
                    if name == module {
                        continue;
                    }
                    match layer_of(&name) {
                        // A module of its own layer is allowed (a service using another's
                        // error codes), as long as no cycle follows: checked below.
                        Some(theirs) if theirs <= own => {
                            let deps = graph.entry(module).or_default();
                            if !deps.contains(&name) {
                                deps.push(name);
                            }
                        }
                        Some(_) => wrong.push(format!(
                            "{file}:{line}: `{module}` imports `{name}`, which is above it"
                        )),
                        None => wrong.push(format!(
                            "{file}:{line}: `{name}` is in no layer: add it to LAYERS and to \
                             the picture in src/lib.rs"
                        )),
                    }
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the module graph breaks its layers:\n{}",
        wrong.join("\n")
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!("the module graph has a cycle: {}", cycle.join(" -> "));
    }
    // What the picture promises most: the loop knows no service.
    for service in LAYERS[3] {
        assert!(
            !graph["event_loop"].iter().any(|m| m == service),
            "event_loop imports the service `{service}`"
        );
    }
}

/// A cycle of imports, as the modules on it (the first one repeated at the end), if any.
fn find_cycle(graph: &BTreeMap<&str, Vec<String>>) -> Option<Vec<String>> {
    fn visit(
        graph: &BTreeMap<&str, Vec<String>>,
        module: &str,
        path: &mut Vec<String>,
        done: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|m| m == module) {
            let mut cycle = path[at..].to_vec();
            cycle.push(module.to_string());
            return Some(cycle);
        }
        if done.iter().any(|m| m == module) {
            return None;
        }
        path.push(module.to_string());
        for dep in graph.get(module).into_iter().flatten() {
            if let Some(cycle) = visit(graph, dep, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.push(module.to_string());
        None
    }
    let mut done = Vec::new();
    graph
        .keys()
        .find_map(|module| visit(graph, module, &mut Vec::new(), &mut done))
}

#[test]
fn the_cycle_check_finds_a_cycle_within_a_layer() {
    let mut graph: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    graph.insert("net", vec!["fs".into(), "event_loop".into()]);
    graph.insert("fs", vec!["event_loop".into()]);
    assert_eq!(find_cycle(&graph), None);
    graph.insert("fs", vec!["net".into()]);
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["fs".into(), "net".into(), "fs".into()])
    );
}

#[test]
fn every_module_of_the_crate_is_in_a_layer() {
    let lib = fs::read_to_string("src/lib.rs").expect("src/lib.rs");
    for line in lib.lines() {
        let line = line.trim();
        let Some(rest) = line
            .strip_prefix("pub mod ")
            .or_else(|| line.strip_prefix("mod "))
        else {
            continue;
        };
        let module = rest.trim_end_matches(';');
        assert!(
            layer_of(module).is_some(),
            "module `{module}` is in no layer: add it to LAYERS and to the picture in src/lib.rs"
        );
    }
}
