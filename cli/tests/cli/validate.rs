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
    assert!(text(&out.stdout).contains("stackdock.toml is valid: org `acme`, 5 docks"));
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

#[test]
fn the_lambda_target_refuses_each_lambda_fixture_with_its_expected_diagnostics() {
    let dir = repo().join("fixtures/config/invalid/lambda");
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    entries.sort();
    for path in &entries {
        let name = path.file_name().and_then(|n| n.to_str()).expect("name");
        let relative = format!("fixtures/config/invalid/lambda/{name}");
        // Valid on a laptop ...
        let plain = stackdock(&repo(), &[], &["--config", &relative, "validate"]);
        assert_eq!(
            plain.status.code(),
            Some(0),
            "{name}: {}",
            text(&plain.stderr)
        );
        // ... refused for the deployed functions.
        let out = stackdock(
            &repo(),
            &[],
            &["--config", &relative, "validate", "--target", "lambda"],
        );
        assert_eq!(out.status.code(), Some(1), "{name}: {}", text(&out.stderr));
        let expected =
            std::fs::read_to_string(path.with_extension("expected")).expect("expected file");
        assert_eq!(text(&out.stderr), expected, "{name}");
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} Lambda fixtures");

    // The example fleet's `env` credentials are refused in Lambda.
    let out = stackdock(&repo(), &[], &["validate", "--target", "lambda"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("refused in Lambda"),
        "{}",
        text(&out.stderr)
    );

    // The deployment's own prefix and allowed origins are honoured.
    let dir = tempdir();
    let config = dir.join("stackdock.toml");
    std::fs::write(
        &config,
        "[stackdock]\norg = \"acme\"\n\n[docks.vultr-main]\nprovider = \"vultr\"\ncredentials = { secret = \"team/vultr\" }\nendpoint = \"http://127.0.0.1:8787/vultr/v2\"\n",
    )
    .expect("write");
    let config = config.display().to_string();
    let args = [
        "--config",
        config.as_str(),
        "validate",
        "--target",
        "lambda",
        "--secret-prefix",
        "team/",
        "--allow-endpoint",
        "http://127.0.0.1:8787",
    ];
    let out = stackdock(&repo(), &[], &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("valid for the Lambda target"));
    let out = stackdock(&repo(), &[], &args[..7]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the local origin is not allowed"
    );
    let out = stackdock(
        &repo(),
        &[],
        &[
            "validate",
            "--target",
            "lambda",
            "--allow-endpoint",
            "https://x.example/v2",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not an origin"),
        "{}",
        text(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("stackdock-validate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}
