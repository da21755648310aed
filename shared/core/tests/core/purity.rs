//! stackdock-core must stay pure: no async runtime, HTTP client or AWS SDK among its dependencies.

use std::process::Command;

#[test]
fn core_has_no_tokio_reqwest_or_aws_dependency() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "-p",
            "stackdock-core",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(
        tree.contains("stackdock-core"),
        "unexpected cargo tree output: {tree}"
    );
    for line in tree.lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        assert!(
            !(name == "tokio"
                || name == "reqwest"
                || name.starts_with("aws-")
                || name.starts_with("aws_")),
            "stackdock-core depends on {name}; keep I/O out of the pure core"
        );
    }
}
