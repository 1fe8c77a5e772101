//! The import rule of docs/architecture.md, checked on the source: `http`/`realtime` → `service`
//! → `store` → `entity`, `domain` for all. A use of a lower layer that skips one, or of a higher
//! layer, fails here with the file and line.

use std::path::Path;

/// `(layer directory, module paths it must not name)`.
const RULES: &[(&str, &[&str])] = &[
    ("src/http", &["crate::store", "entity::"]),
    ("src/realtime", &["crate::store", "entity::", "crate::http"]),
    (
        "src/service",
        &["crate::http", "crate::realtime", "entity::"],
    ),
    (
        "src/store",
        &["crate::service", "crate::http", "crate::realtime"],
    ),
    (
        "src/domain",
        &[
            "crate::service",
            "crate::store",
            "crate::http",
            "crate::realtime",
            "crate::events",
            "entity::",
        ],
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir)
        .expect("read source directory")
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn layers_import_only_downwards() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    let mut broken = Vec::new();
    for (dir, forbidden) in RULES {
        let mut files = Vec::new();
        rust_files(&root.join(dir), &mut files);
        assert!(!files.is_empty(), "{dir} has no Rust files");
        for file in files {
            let text = std::fs::read_to_string(&file).expect("read source file");
            // A `use crate::{ a::…, store::… }` group names the module without the `crate::`
            // prefix: check those too.
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                for name in *forbidden {
                    let short = name.trim_start_matches("crate::");
                    let grouped =
                        short != *name && code.trim_start().starts_with(&format!("{short}::"));
                    // `entity::` must start a path, not end a word (`identity::`).
                    let named = code.match_indices(name).any(|(at, _)| {
                        !code[..at]
                            .chars()
                            .next_back()
                            .is_some_and(|c| c.is_alphanumeric() || c == '_')
                    });
                    if named || grouped {
                        broken.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                    }
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 40, "only {checked} files checked");
    assert!(
        broken.is_empty(),
        "imports against the layering:\n{}",
        broken.join("\n")
    );
}
