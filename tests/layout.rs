//! The import rule of `src/`, checked on the source itself: imports point one way only.
//!
//! ```text
//! main → cli → commands → {report, harness} → {server, load, series} → {strategy, protocol}
//!      → {metrics, fault} → sys → error
//! ```
//!
//! A module may use modules on a lower floor, never one on its own floor or above, so no two
//! top-level modules can import each other, and nothing below `cli` reaches the command line.
//! Below `cli` (and `main.rs`) the only clap name allowed is the `ValueEnum` derive on a
//! library enum.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Top-level module → floor. Higher floors may import lower ones.
const FLOORS: &[(&str, u32)] = &[
    ("error", 0),
    ("sys", 1),
    ("metrics", 2),
    ("fault", 2),
    ("strategy", 3),
    ("protocol", 3),
    ("server", 4),
    ("load", 4),
    ("series", 4),
    ("report", 5),
    ("harness", 5),
    ("commands", 6),
    ("cli", 7),
];

fn floor(module: &str) -> Option<u32> {
    FLOORS.iter().find(|(m, _)| *m == module).map(|&(_, f)| f)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file under src/: `src/a/b.rs` and `src/a/b/mod.rs` are `[a, b]`.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    if last != "mod.rs" {
        parts.push(last.trim_end_matches(".rs").to_string());
    }
    parts
}

/// The code of a file without comment lines and without `//` tails.
fn code(text: &str) -> String {
    text.lines()
        .map(|l| {
            let t = l.trim_start();
            if t.starts_with("//") {
                ""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first identifier of each item of a path tail: `x::y` → [x]; `{x, y::z}` → [x, y].
fn heads(tail: &str) -> Vec<String> {
    let tail = tail.trim_start();
    if let Some(inner) = tail.strip_prefix('{') {
        let mut depth = 0;
        let mut items = vec![String::new()];
        for c in inner.chars() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(String::new());
                    continue;
                }
                _ => {}
            }
            if let Some(last) = items.last_mut() {
                last.push(c);
            }
        }
        items
            .iter()
            .flat_map(|i| heads(i).into_iter().take(1))
            .collect()
    } else {
        let id: String = tail
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if id.is_empty() {
            vec![]
        } else {
            vec![id]
        }
    }
}

/// The top-level modules a file names through `crate::` or `super::` paths that leave its own
/// top-level module.
fn references(module: &[String], code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    for (i, _) in code.match_indices("crate::") {
        let before = if i == 0 { b' ' } else { bytes[i - 1] };
        if before.is_ascii_alphanumeric() || before == b'_' || before == b':' {
            continue;
        }
        out.extend(heads(&code[i + "crate::".len()..]));
    }
    // `super::` chains: resolve against the module path; only those that reach the crate root
    // name another top-level module.
    for (i, _) in code.match_indices("super::") {
        let before = if i == 0 { b' ' } else { bytes[i - 1] };
        if before.is_ascii_alphanumeric() || before == b'_' || before == b':' {
            continue;
        }
        let mut rest = &code[i..];
        let mut ups = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            ups += 1;
            rest = r;
        }
        if ups >= module.len() {
            out.extend(heads(rest));
        }
    }
    out
}

#[test]
fn imports_point_down_only() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    assert!(
        files.len() > 50,
        "too few files found under {}",
        src.display()
    );
    let mut wrong: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut unknown = Vec::new();
    for f in &files {
        let module = module_path(&src, f);
        let top = module[0].as_str();
        if top == "main" || top == "lib" {
            continue;
        }
        let Some(mine) = floor(top) else {
            unknown.push(top.to_string());
            continue;
        };
        let text = std::fs::read_to_string(f).expect("read");
        for other in references(&module, &code(&text)) {
            if other == top || other == "self" || other == "Error" || other == "Result" {
                continue;
            }
            match floor(&other) {
                Some(theirs) if theirs < mine => {}
                Some(_) => wrong
                    .entry(f.display().to_string())
                    .or_default()
                    .push(other),
                None => unknown.push(format!("{} names crate::{other}", f.display())),
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "modules missing from FLOORS in tests/layout.rs: {unknown:?}"
    );
    assert!(
        wrong.is_empty(),
        "imports on the same floor or upward (see tests/layout.rs for the floors): {wrong:#?}"
    );
}

#[test]
fn nothing_below_cli_names_clap_but_value_enum() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    for f in &files {
        let module = module_path(&src, f);
        if module[0] == "cli" || module[0] == "main" {
            continue;
        }
        let text = code(&std::fs::read_to_string(f).expect("read"));
        for (i, _) in text.match_indices("clap") {
            let rest = &text[i..];
            let ok = rest.starts_with("clap::ValueEnum");
            if !ok {
                let line = text[..i].lines().count();
                wrong.push(format!("{}:{line}", f.display()));
            }
        }
    }
    assert!(wrong.is_empty(), "clap named below cli/: {wrong:?}");
}

#[test]
fn the_checker_sees_what_it_must() {
    let m = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        references(
            &m(&["load", "mod"][..1]),
            "use crate::cli::LoadArgs;\nlet x = crate::{report::row, metrics};"
        ),
        ["cli", "report", "metrics"]
    );
    assert_eq!(
        references(
            &m(&["report", "plot", "series"]),
            "use super::super::load::X;"
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        references(&m(&["fault"]), "use super::metrics::Slot;"),
        ["metrics"]
    );
    assert_eq!(code("// crate::cli\nlet a = 1; "), "\nlet a = 1; ");
}
