//! `rust-version` in Cargo.toml is true of the committed lockfile: no package the lockfile
//! builds on Linux (dependencies, dev-dependencies, build-dependencies) declares a newer
//! `rust-version` or uses an edition newer than that toolchain knows. An old toolchain cannot
//! be installed offline to try the build itself, so the check reads what each locked package
//! says of itself (`cargo metadata`), the same data cargo's MSRV-aware resolver uses. A package
//! that declares no `rust-version` is held to its edition only.
use std::process::Command;

fn version(s: &str) -> (u64, u64) {
    let mut parts = s.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// The first toolchain that knows `edition`.
fn edition_needs(edition: &str) -> (u64, u64) {
    match edition {
        "2015" => (1, 0),
        "2018" => (1, 31),
        "2021" => (1, 56),
        "2024" => (1, 85),
        other => panic!("edition {other}: add it to this table"),
    }
}

fn host_triple() -> String {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("rustc -vV");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("a host line in rustc -vV")
        .to_string()
}

#[test]
fn rust_version_covers_every_locked_package() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", &host_triple()])
        .arg("--manifest-path")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let packages = meta["packages"].as_array().expect("packages");
    let ours = packages
        .iter()
        .find(|p| p["name"] == "herd")
        .expect("the herd package");
    let declared = version(
        ours["rust_version"]
            .as_str()
            .expect("herd declares rust-version"),
    );
    let mut too_new = Vec::new();
    for p in packages {
        let name = format!(
            "{} {}",
            p["name"].as_str().unwrap_or("?"),
            p["version"].as_str().unwrap_or("?")
        );
        let by_edition = edition_needs(p["edition"].as_str().unwrap_or("2015"));
        let by_field = p["rust_version"].as_str().map_or((1, 0), version);
        let needs = by_edition.max(by_field);
        if needs > declared {
            too_new.push(format!("{name} needs {}.{}", needs.0, needs.1));
        }
    }
    assert!(
        packages.len() > 20,
        "too few packages ({}): not the lockfile's graph?",
        packages.len()
    );
    assert!(
        too_new.is_empty(),
        "rust-version {}.{} in Cargo.toml is false: {}; raise it, or pin these packages back \
         (cargo update -p NAME --precise VERSION)",
        declared.0,
        declared.1,
        too_new.join(", ")
    );
}
