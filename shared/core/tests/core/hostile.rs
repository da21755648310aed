//! Hostile and broken `stackdock.toml` input: huge files, deep nesting, NUL bytes, absurd names,
//! paths leaving the config's directory, thousands of resources. Each must end in a clear error or
//! a correct result — never a panic, a stack overflow or a hang.
//!
//! Every case runs on its own thread with a generous deadline (and a large stack only where the
//! input is large, never to hide recursion), so a hang fails the test instead of blocking CI. Each
//! prints `RELIABILITY input <name> -> <outcome>` for the reliability report.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use stackdock_core::config::{self, Config, Diagnostics};
use stackdock_core::plan::{ActionKind, DockState, plan};

/// Generous: a debug build on a shared 2-core machine parses 10 MB in a few seconds.
const DEADLINE: Duration = Duration::from_secs(120);

/// Runs `f` on a thread with the default 2 MiB stack (so a recursion bug still overflows, as it
/// would on a Lambda or CLI main thread), failing the test if it panics or outlives `DEADLINE`.
fn within<T: Send + 'static>(name: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    let handle = thread::Builder::new()
        .name(name.to_owned())
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            // A send error only means the test already gave up waiting.
            let _ = tx.send(f());
        })
        .expect("spawn the case's thread");
    match rx.recv_timeout(DEADLINE) {
        Ok(v) => {
            handle.join().expect("the case's thread finishes");
            eprintln!("  ({name}: {:?})", started.elapsed());
            v
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{name}: no answer within {DEADLINE:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{name}: the parser panicked"),
    }
}

fn parse(name: &str, source: String) -> Result<Config, Diagnostics> {
    within(name, move || config::parse("stackdock.toml", &source))
}

fn report(name: &str, outcome: &str) {
    eprintln!("RELIABILITY input {name} -> {outcome}");
}

const HEADER: &str = r#"[stackdock]
org = "acme"

[docks.vultr-main]
provider = "vultr"
credentials = { env = "VULTR_API_KEY" }
"#;

fn server_entry(out: &mut String, name: &str) {
    let _ = write!(
        out,
        "\n[servers.{name}]\ndock = \"vultr-main\"\nregion = \"ewr\"\nplan = \"vc2-1c-1gb\"\nimage = \"os:2284\"\ntags = [\"web\"]\n"
    );
}

fn fleet(n: usize) -> String {
    let mut s = HEADER.to_owned();
    for i in 0..n {
        server_entry(&mut s, &format!("web-{i:06}"));
    }
    s
}

fn messages(d: &Diagnostics) -> String {
    d.iter()
        .map(|d| d.message.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn ten_megabytes_of_valid_resources_parse() {
    // ~110 bytes an entry: 96,000 entries is a little over 10 MB.
    let source = fleet(96_000);
    assert!(source.len() > 10 * 1024 * 1024, "{} bytes", source.len());
    let config = parse("ten_megabytes_of_resources", source).expect("a valid 10 MB file parses");
    assert_eq!(config.resources.len(), 96_000);
    report("10mb-valid-resources", "parsed, 96000 resources");
}

#[test]
fn a_ten_megabyte_string_is_a_label_error_not_a_crash() {
    let mut source = HEADER.to_owned();
    source.push_str("\n[servers.web-1]\ndock = \"vultr-main\"\nregion = \"ewr\"\nplan = \"");
    source.push_str(&"x".repeat(10 * 1024 * 1024));
    source.push_str("\"\nimage = \"os:2284\"\n");
    // A 10 MB plan slug is syntactically a string; the file is valid TOML and the validator has no
    // length rule for plans (the provider's catalog check refuses it), so this parses.
    let result = parse("ten_megabyte_string", source);
    match &result {
        Ok(c) => assert_eq!(c.resources.len(), 1),
        Err(d) => assert!(!d.is_empty()),
    }
    report(
        "10mb-string",
        if result.is_ok() {
            "parsed (the catalog check refuses the plan)"
        } else {
            "error"
        },
    );
}

#[test]
fn ten_thousand_nested_arrays_are_refused_without_overflowing_the_stack() {
    let mut source = HEADER.to_owned();
    source.push_str("\n[servers.web-1]\ndock = \"vultr-main\"\ntags = ");
    source.push_str(&"[".repeat(10_000));
    source.push_str(&"]".repeat(10_000));
    source.push('\n');
    // The toml crate stops at its recursion limit; the file gets one syntax diagnostic.
    let err = parse("nested_arrays", source).expect_err("10,000 nested arrays are refused");
    let text = messages(&err);
    assert!(text.contains("max recursion depth"), "{text}");
    report(
        "nested-arrays-10000",
        "error: invalid TOML, max recursion depth met",
    );
}

#[test]
fn ten_thousand_nested_inline_tables_are_refused_without_overflowing_the_stack() {
    let mut source = HEADER.to_owned();
    source.push_str("\n[servers.web-1]\ndock = \"vultr-main\"\nx = ");
    source.push_str(&"{ a = ".repeat(10_000));
    source.push('1');
    source.push_str(&" }".repeat(10_000));
    source.push('\n');
    let err = parse("nested_tables", source).expect_err("10,000 nested tables are refused");
    let text = messages(&err);
    assert!(text.contains("max recursion depth"), "{text}");
    report(
        "nested-inline-tables-10000",
        "error: invalid TOML, max recursion depth met",
    );
}

#[test]
fn a_deep_dotted_table_header_is_an_error_not_a_crash() {
    // `[a.a.a…]` nests tables through the header, not brackets.
    let mut source = HEADER.to_owned();
    source.push('[');
    source.push_str(&vec!["a"; 10_000].join("."));
    source.push_str("]\nx = 1\n");
    let err = parse("dotted_header", source).expect_err("an unknown deep table is refused");
    assert!(!err.is_empty());
    report("dotted-header-10000", "error");
}

#[test]
fn a_nul_byte_is_a_syntax_error() {
    let mut source = fleet(1);
    source.push_str("\n# a comment with a NUL \0 byte\n");
    let err = parse("nul_in_comment", source).expect_err("NUL is not allowed in TOML");
    assert!(
        messages(&err).contains("invalid TOML"),
        "{}",
        messages(&err)
    );
    let mut source = HEADER.to_owned();
    source.push_str("\n[servers.web-1]\ndock = \"vultr\0main\"\n");
    let err = parse("nul_in_string", source).expect_err("NUL in a string is refused");
    assert!(!err.is_empty());
    report("nul-byte", "error: invalid TOML");
}

#[test]
fn a_ten_thousand_character_name_is_a_label_error() {
    // Not `aaaa…`: 10,000 hex digits look like a secret and are reported (masked) as one.
    let name = "web-".repeat(2_500);
    let mut source = HEADER.to_owned();
    server_entry(&mut source, &name);
    let err = parse("long_name", source).expect_err("a 10,000-character label is refused");
    let label = err
        .iter()
        .find(|d| {
            d.message.contains("label") || d.help.as_deref().unwrap_or("").contains("1 to 255")
        })
        .unwrap_or_else(|| panic!("no label error in: {}", messages(&err)));
    // Decision: the shown source line stays verbatim (the header is the offending line and a
    // reviewer needs to see it); the caret covers the name. What matters is that the error names
    // the rule (1 to 255 characters), so the long line is a fact of the input, not of StackDock.
    let shown = format!("{label}");
    assert!(shown.contains("1 to 255 characters"), "{shown}");
    eprintln!(
        "  long-name diagnostic: {} bytes, {} lines",
        shown.len(),
        shown.lines().count()
    );
    assert!(shown.len() < 4 * name.len(), "{} bytes", shown.len());
    report(
        "name-10000-chars",
        "error: Vultr labels are 1 to 255 characters",
    );
}

#[test]
fn a_ten_thousand_digit_hex_name_is_reported_as_an_inline_credential_and_masked() {
    let name = "a".repeat(10_000);
    let mut source = HEADER.to_owned();
    server_entry(&mut source, &name);
    let err = parse("hex_name", source).expect_err("refused");
    assert!(messages(&err).contains("credential"), "{}", messages(&err));
    assert!(
        err.iter().all(|d| !format!("{d}").contains(&name)),
        "the value is masked"
    );
    report(
        "hex-name-10000-chars",
        "error: looks like an inline credential (masked)",
    );
}

#[test]
fn user_data_file_outside_the_config_directory_is_refused() {
    for (path, why) in [
        ("../secrets/cloud-init.yaml", "`..`"),
        ("/etc/passwd", "absolute"),
        ("cloud-init/../../x.yaml", "`..`"),
        ("~/x.yaml", "absolute"),
        ("C:\\\\x.yaml", "absolute"),
    ] {
        let mut source = fleet(1);
        let _ = writeln!(source, "user_data_file = \"{path}\"");
        let err = parse("user_data_outside", source)
            .err()
            .unwrap_or_else(|| panic!("{path} is accepted"));
        let text = messages(&err);
        assert!(
            text.contains("must stay inside the config's directory") && text.contains(why),
            "{path}: {text}"
        );
    }
    let mut source = fleet(1);
    source.push_str("user_data_file = \"cloud-init/./worker.yaml\"\n");
    parse("user_data_inside", source).expect("a path inside the directory is fine");
    report(
        "user-data-outside-dir",
        "error: must stay inside the config's directory",
    );
}

#[test]
fn five_thousand_resources_parse_and_plan_correctly() {
    let config = parse("five_thousand", fleet(5_000)).expect("5,000 resources parse");
    assert_eq!(config.resources.len(), 5_000);
    let p = within("five_thousand_plan", move || {
        let docks = BTreeMap::from([("vultr-main".to_owned(), DockState::Fresh)]);
        plan(&config, &[], &docks)
    });
    assert_eq!(p.summary.create, 5_000);
    assert_eq!(p.actions.len(), 5_000);
    assert!(p.actions.iter().all(|a| a.action == ActionKind::Create));
    report("5000-resources", "parsed and planned: 5000 creates");
}

#[test]
fn five_thousand_broken_resources_report_every_error_in_bounded_time() {
    // Every entry names a missing dock: one diagnostic each. Rendering them must not be quadratic
    // in the file size.
    let mut source = HEADER.to_owned();
    for i in 0..5_000 {
        let _ = write!(
            source,
            "\n[servers.web-{i}]\ndock = \"nope\"\nregion = \"ewr\"\nplan = \"p\"\nimage = \"os:1\"\n"
        );
    }
    let err = parse("five_thousand_broken", source).expect_err("unknown docks are refused");
    assert!(err.len() >= 5_000, "{} diagnostics", err.len());
    report("5000-broken-resources", "error: one diagnostic per entry");
}

/// The seed corpus of the `config_parse` fuzz target (`fuzz/corpus/config_parse/`, plus whatever
/// crashes a fuzzing run saved there) replayed in the workspace's own tests, so CI runs it on
/// stable even though the fuzz crate itself is not a workspace member.
#[test]
fn the_config_parse_fuzz_corpus_parses_without_panicking() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/config_parse");
    let mut seeds: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty());
    let count = seeds.len();
    within("fuzz_corpus", move || {
        for seed in seeds {
            let data = std::fs::read(&seed).expect("seed");
            if let Ok(source) = std::str::from_utf8(&data) {
                let _ = config::parse("fuzz.toml", source);
            }
        }
    });
    report(
        "fuzz-corpus-config_parse",
        &format!("{count} seeds, no panic"),
    );
}
