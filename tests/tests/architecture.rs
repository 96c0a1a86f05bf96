//! The README's Architecture section is a promise about the tree: the path of a lookup names
//! files that exist and says how many they are, and the "one idea, one place" table names, for
//! each fact, the file that defines it, where no other source file of the workspace defines the
//! same thing again.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the e2e crate sits in the workspace")
        .to_path_buf()
}

/// The README's text from `## Architecture` to the next `## ` heading.
fn architecture_section() -> String {
    let readme = fs::read_to_string(workspace().join("README.md")).expect("README.md");
    let start = readme
        .find("\n## Architecture\n")
        .expect("the README has an Architecture section");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |end| end + 3);
    rest[..end].to_owned()
}

/// The crate's directory for a crate's name as the README writes it.
fn crate_dir(name: &str) -> PathBuf {
    workspace().join("crates").join(name)
}

/// The files of the walk: `(crate, path under the crate)`, in order, each once.
fn walk(section: &str) -> Vec<(String, String)> {
    let block = section
        .split("```text\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the walk is a text block");
    let mut crate_name = None;
    let mut files = Vec::new();
    for line in block.lines() {
        if line.starts_with("idenfy-") {
            crate_name = line.split_whitespace().next().map(str::to_owned);
        }
        let Some(file) = line
            .split_whitespace()
            .find(|word| word.starts_with("src/") && word.ends_with(".rs"))
        else {
            continue;
        };
        // A reference in parentheses names another crate's file; only the first word of an
        // entry is a step of the walk.
        let entry = line
            .strip_prefix(crate_name.as_deref().unwrap_or_default())
            .unwrap_or(line);
        if entry.trim_start().starts_with(file) {
            let crate_name = crate_name.clone().expect("a crate before its files");
            files.push((crate_name, file.to_owned()));
        }
    }
    files
}

#[test]
fn every_file_of_the_walk_exists_and_the_count_is_the_one_the_readme_gives() {
    let section = architecture_section();
    let files = walk(&section);
    assert!(!files.is_empty());
    for (crate_name, file) in &files {
        let path = crate_dir(crate_name).join(file);
        assert!(path.is_file(), "the walk names {}", path.display());
    }
    let distinct: BTreeSet<_> = files.iter().collect();
    assert_eq!(distinct.len(), files.len(), "a file is on the walk twice");
    let stated = section
        .split("helpers included (")
        .nth(1)
        .and_then(|rest| rest.split(" files").next())
        .and_then(|count| count.parse::<usize>().ok())
        .expect("the README says how many files the walk has: `(N files`");
    assert_eq!(stated, files.len(), "the README's count of the walk");
}

/// The hand-written files of the models that the generated code calls on when it decodes: a
/// module it names (`crate::as_sent::...`) or the file that defines a type it names
/// (`crate::ClientId`). Code behind a feature (`crate::redact`, the redacted `Debug`) does not
/// decode anything.
fn helpers_of_the_generated_models() -> BTreeSet<String> {
    let src = crate_dir("idenfy-models").join("src");
    let generated = fs::read_to_string(src.join("generated.rs")).expect("generated.rs");
    let hand_written: Vec<(String, String)> = fs::read_dir(&src)
        .expect("the models' sources")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| !path.ends_with("generated.rs") && !path.ends_with("lib.rs"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read_to_string(&path).expect("a source file"))
        })
        .collect();
    let mut helpers = BTreeSet::new();
    for reference in generated.split("crate::").skip(1) {
        let name: String = reference
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name == "redact" {
            continue;
        }
        let file = hand_written
            .iter()
            .find(|(file, source)| *file == format!("{name}.rs") || defines(source, &name))
            .map(|(file, _)| file.clone())
            .unwrap_or_else(|| panic!("the generated code names `crate::{name}`, defined nowhere"));
        helpers.insert(format!("src/{file}"));
    }
    helpers
}

#[test]
fn every_helper_the_generated_models_decode_with_is_on_the_walk() {
    let walk = walk(&architecture_section());
    let helpers = helpers_of_the_generated_models();
    assert!(!helpers.is_empty());
    for helper in helpers {
        assert!(
            walk.contains(&("idenfy-models".to_owned(), helper.clone())),
            "the generated models decode with {helper}, which the walk leaves out"
        );
    }
}

#[test]
fn every_other_file_the_section_names_exists() {
    let section = architecture_section();
    let mut crate_name: Option<String> = None;
    let mut checked = 0;
    for word in section.split('`') {
        if word.starts_with("idenfy-") && !word.contains(' ') {
            crate_name = Some(word.to_owned());
            continue;
        }
        let file = word.strip_prefix("src/").unwrap_or(word);
        if !file.ends_with(".rs") || file.contains(' ') {
            continue;
        }
        let crate_name = crate_name.as_deref().expect("a crate before its files");
        let path = crate_dir(crate_name).join("src").join(file);
        assert!(path.is_file(), "the README names {}", path.display());
        checked += 1;
    }
    assert!(checked > 20, "only {checked} files named");
}

/// One row of the table: the crate and file a fact is defined in, and the names it says the
/// file defines.
#[derive(Debug)]
struct Definition {
    crate_name: String,
    file: String,
    names: Vec<String>,
}

/// The table's rows, read from their second column: `` `crate` `file.rs` (`Name`, `Type::item`) ``
/// as many times as the row names files.
fn definitions(section: &str) -> Vec<Definition> {
    let mut definitions = Vec::new();
    for row in section.lines().filter(|line| line.starts_with("| ")) {
        let Some(defined_in) = row.split(" | ").nth(1) else {
            continue;
        };
        let mut crate_name: Option<String> = None;
        let mut current: Option<Definition> = None;
        // Backticked words, and whether each sits inside parentheses.
        let mut depth = 0usize;
        for (index, piece) in defined_in.split('`').enumerate() {
            let quoted = index % 2 == 1;
            if !quoted {
                depth += piece.matches('(').count();
                depth = depth.saturating_sub(piece.matches(')').count());
                // "read by", "used by", "the command:" introduce users, not definitions.
                if piece.contains(" by ") || piece.contains("command:") {
                    definitions.extend(current.take());
                    crate_name = None;
                }
                continue;
            }
            if piece.starts_with("idenfy-") {
                definitions.extend(current.take());
                crate_name = Some(piece.to_owned());
            } else if piece.ends_with(".rs") && depth == 0 {
                definitions.extend(current.take());
                if let Some(crate_name) = &crate_name {
                    current = Some(Definition {
                        crate_name: crate_name.clone(),
                        file: piece.to_owned(),
                        names: Vec::new(),
                    });
                }
            } else if depth > 0
                && let Some(current) = &mut current
                && piece
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == ':')
            {
                current.names.push(piece.to_owned());
            }
        }
        definitions.extend(current.take());
    }
    definitions
}

/// Whether `source` defines `name` as an item (or, for `Type::item`, an item or variant of
/// `Type` that it defines). An associated type of a trait's impl (`type Target = ...` of a
/// `Deref`) is not an item of its own.
fn defines(source: &str, name: &str) -> bool {
    let item = |name: &str| {
        source.lines().any(|line| {
            let indented = line.starts_with(' ');
            let words: Vec<&str> = line.split_whitespace().collect();
            let public = words.first().is_some_and(|word| word.starts_with("pub"));
            let mut words = &words[usize::from(public)..];
            // Qualifiers before the kind: `async fn`, `const fn`, `unsafe fn`.
            while words.len() > 2 && ["async", "unsafe"].contains(&words[0])
                || words.len() > 2 && words[0] == "const" && words[1] == "fn"
            {
                words = &words[1..];
            }
            let [kind, defined, ..] = words else {
                return false;
            };
            let kind = *kind;
            let defined = defined
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .unwrap_or_default();
            defined == name
                && match kind {
                    "fn" | "struct" | "enum" | "trait" | "const" | "static" | "mod" => true,
                    "type" => public || !indented,
                    _ => false,
                }
        })
    };
    // An item a macro of the file makes: `lenient!(LenientDate, ...)`.
    let made_by_a_macro = |name: &str| {
        source.contains("macro_rules!")
            && source.match_indices("!(").any(|(at, _)| {
                let rest = source[at + 2..].trim_start();
                rest.strip_prefix(name)
                    .is_some_and(|after| after.starts_with([',', ')']))
            })
    };
    match name.rsplit_once("::") {
        None => item(name) || made_by_a_macro(name),
        Some((owner, member)) => {
            let owner_here = item(owner)
                || source.contains(&format!("impl {owner} "))
                || source.contains(&format!("for {owner} "));
            owner_here
                && (item(member)
                    || source.contains(&format!("    {member},"))
                    || source.contains(&format!("    {member} {{"))
                    || source.contains(&format!("    {member}(")))
        }
    }
}

/// Every hand-written Rust source file of the crates, with its text.
fn sources() -> Vec<(PathBuf, String)> {
    fn visit(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for entry in fs::read_dir(dir).expect("a source directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                visit(&path, out);
            } else if path.extension().is_some_and(|ext| ext == "rs")
                && !path.ends_with("generated.rs")
            {
                let text = fs::read_to_string(&path).expect("a source file");
                out.push((path, text));
            }
        }
    }
    let mut out = Vec::new();
    for entry in fs::read_dir(workspace().join("crates")).expect("crates/") {
        let src = entry.expect("a crate").path().join("src");
        if src.is_dir() {
            visit(&src, &mut out);
        }
    }
    out
}

#[test]
fn every_fact_of_the_table_is_defined_where_it_says_and_nowhere_else() {
    let section = architecture_section();
    let definitions = definitions(&section);
    assert!(
        definitions.len() > 20,
        "only {} definitions read: {definitions:?}",
        definitions.len()
    );
    let sources = sources();
    let mut names_checked = 0;
    for definition in &definitions {
        let path = crate_dir(&definition.crate_name)
            .join("src")
            .join(&definition.file);
        let source = fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("the table names {}: {err}", path.display()));
        for name in &definition.names {
            assert!(
                defines(&source, name),
                "the table says {} defines `{name}`",
                path.display()
            );
            names_checked += 1;
            // Methods and variants are defined on their type, which is defined once; a free
            // item must not be defined by a second file. A one-word function (`check`, `sign`)
            // is called by its module's name (`trusted_file::check`), which is what the table
            // names, so another module's function of that word is another fact.
            if name.contains("::") || name.chars().all(|c| c.is_ascii_lowercase()) {
                continue;
            }
            let elsewhere: Vec<_> = sources
                .iter()
                .filter(|(other, text)| *other != path && defines(text, name))
                .map(|(other, _)| other.display().to_string())
                .collect();
            assert!(
                elsewhere.is_empty(),
                "`{name}` is defined in {} and again in {elsewhere:?}",
                path.display()
            );
        }
    }
    assert!(names_checked > 20, "only {names_checked} names checked");
}

#[test]
fn the_reader_of_definitions_finds_a_name_and_refuses_a_prefix() {
    let source =
        "pub fn sign_all() {}\npub struct Target;\nimpl Target {\n    pub fn name() {}\n}\n";
    assert!(defines(source, "Target"));
    assert!(defines(source, "Target::name"));
    assert!(!defines(source, "sign"));
    assert!(!defines(source, "Target::path"));
}
