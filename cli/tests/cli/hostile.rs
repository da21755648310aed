//! Hostile config files through the real binary: `stackdock validate` must end with a clear
//! message and exit code 1 (or 0 for a valid file), never a panic, an abort or a hang. Each run has
//! a deadline enforced from a watcher thread, so a hang fails the test instead of blocking CI.
//! Prints `RELIABILITY input <name> -> <outcome>` for the reliability report.

use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::support::text;

const DEADLINE: Duration = Duration::from_secs(120);

/// Writes `bytes` as `stackdock.toml` in a fresh directory and runs `stackdock validate` there.
fn validate(name: &str, bytes: &[u8]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("stackdock.toml"), bytes).expect("write config");
    let child = Command::new(env!("CARGO_BIN_EXE_stackdock"))
        .arg("validate")
        .current_dir(dir.path())
        .env_remove("STACKDOCK_CONFIG")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the stackdock binary runs");
    let id = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(DEADLINE) {
        Ok(out) => out.expect("output"),
        Err(_) => {
            // Only the child this test started, by its id.
            let _ = Command::new("kill").args(["-9", &id.to_string()]).status();
            panic!("{name}: `stackdock validate` did not finish within {DEADLINE:?}");
        }
    };
    let stderr = text(&out.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("overflow"),
        "{name}: {stderr}"
    );
    (out.status.code(), text(&out.stdout), stderr)
}

const HEADER: &str = "[stackdock]\norg = \"acme\"\n\n[docks.vultr-main]\nprovider = \"vultr\"\ncredentials = { env = \"VULTR_API_KEY\" }\n";

#[test]
fn invalid_utf8_is_a_clear_error() {
    let mut bytes = HEADER.as_bytes().to_vec();
    bytes.extend_from_slice(b"# caf\xe9\n");
    let (code, _, err) = validate("invalid-utf8", &bytes);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("is not valid UTF-8") && err.contains("save it as UTF-8"),
        "{err}"
    );
    eprintln!("RELIABILITY input cli-invalid-utf8 -> exit 1: not valid UTF-8 (with the offset)");
}

#[test]
fn a_nul_byte_is_a_clear_error() {
    let mut bytes = HEADER.as_bytes().to_vec();
    bytes.extend_from_slice(b"\n[servers.web-1]\ndock = \"vultr\0main\"\n");
    let (code, _, err) = validate("nul", &bytes);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("invalid TOML"), "{err}");
    eprintln!("RELIABILITY input cli-nul-byte -> exit 1: invalid TOML");
}

#[test]
fn ten_thousand_nested_arrays_are_a_clear_error() {
    let mut s = HEADER.to_owned();
    s.push_str("\n[servers.web-1]\ndock = \"vultr-main\"\ntags = ");
    s.push_str(&"[".repeat(10_000));
    s.push_str(&"]".repeat(10_000));
    let (code, _, err) = validate("nested", s.as_bytes());
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("max recursion depth"), "{err}");
    eprintln!(
        "RELIABILITY input cli-nested-arrays-10000 -> exit 1: invalid TOML, max recursion depth"
    );
}

#[test]
fn ten_megabytes_of_resources_validate() {
    let mut s = HEADER.to_owned();
    for i in 0..96_000 {
        s.push_str(&format!(
            "\n[servers.web-{i:06}]\ndock = \"vultr-main\"\nregion = \"ewr\"\nplan = \"vc2-1c-1gb\"\nimage = \"os:2284\"\ntags = [\"web\"]\n"
        ));
    }
    assert!(s.len() > 10 * 1024 * 1024);
    let (code, out, err) = validate("10mb", s.as_bytes());
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("is valid"), "{out}");
    eprintln!("RELIABILITY input cli-10mb-valid -> exit 0: valid");
}

#[test]
fn a_ten_thousand_character_name_is_a_label_error() {
    let mut s = HEADER.to_owned();
    s.push_str(&format!(
        "\n[servers.{}]\ndock = \"vultr-main\"\nregion = \"ewr\"\nplan = \"vc2-1c-1gb\"\nimage = \"os:2284\"\n",
        "web-".repeat(2_500)
    ));
    let (code, _, err) = validate("long-name", s.as_bytes());
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("1 to 255 characters"), "{err}");
    eprintln!("RELIABILITY input cli-name-10000-chars -> exit 1: label error");
}

#[test]
fn user_data_outside_the_directory_is_refused() {
    let mut s = HEADER.to_owned();
    s.push_str("\n[servers.web-1]\ndock = \"vultr-main\"\nregion = \"ewr\"\nplan = \"vc2-1c-1gb\"\nimage = \"os:2284\"\nuser_data_file = \"../../etc/passwd\"\n");
    let (code, _, err) = validate("user-data", s.as_bytes());
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("must stay inside the config's directory"),
        "{err}"
    );
    eprintln!("RELIABILITY input cli-user-data-outside-dir -> exit 1: refused");
}
