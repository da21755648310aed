//! `stackdock validate`: exit codes and the exact diagnostics of every invalid fixture.

use crate::support::{repo, stackdock, text};

#[test]
fn every_invalid_fixture_exits_1_with_its_expected_diagnostics() {
    let dir = repo().join("fixtures/config/invalid");
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
    {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("file name");
        let relative = format!("fixtures/config/invalid/{name}");
        let out = stackdock(&repo(), &[], &["--config", &relative, "validate"]);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", text(&out.stderr));
        let expected =
            std::fs::read_to_string(path.with_extension("expected")).expect("expected file");
        assert_eq!(text(&out.stderr), expected, "{name}");
        assert!(out.stdout.is_empty(), "{name}: nothing on stdout");
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} invalid fixtures");
}

#[test]
fn the_example_fleet_is_valid() {
    let out = stackdock(&repo(), &[], &["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("stackdock.toml is valid: org `acme`, 3 docks"));
}

#[test]
fn a_missing_file_says_how_to_fix_it() {
    let out = stackdock(
        &repo(),
        &[],
        &["--config", "nope/stackdock.toml", "validate"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: cannot read nope/stackdock.toml"),
        "{err}"
    );
    assert!(err.contains("--config PATH"), "{err}");
    assert!(!err.contains("backtrace"), "{err}");
}

#[test]
fn schema_prints_the_committed_schema() {
    let out = stackdock(&repo(), &[], &["schema"]);
    assert_eq!(out.status.code(), Some(0));
    let committed =
        std::fs::read_to_string(repo().join("schema/stackdock.schema.json")).expect("schema");
    assert_eq!(text(&out.stdout), committed);
}
