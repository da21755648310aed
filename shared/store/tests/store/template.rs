//! The SAM template's tables (`infra/template.yaml`) against the store's layout: every table of
//! [`tables::TABLES`] exists with deletion protection on, the `orgId-index` of each universal
//! table projects exactly [`tables::INDEX_ATTRIBUTES`], `runs` has the newest-first
//! [`tables::RUNS_INDEX`], and the TTL tables expire on `ttl`.
//!
//! The template uses CloudFormation tags (`!Sub`, `!GetAtt`) a plain YAML reader refuses, so this
//! reads just the lines it checks: each resource is the block under a two-space-indented name.

use std::collections::BTreeMap;

use stackdock_store::dynamodb::tables;

/// Each `AWS::DynamoDB::Table` resource of the template: logical id → its lines.
fn table_resources() -> BTreeMap<String, Vec<String>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/template.yaml");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut resources: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut in_resources = false;
    let mut current: Option<String> = None;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.trim().is_empty() && !line.starts_with('#') {
            in_resources = line.trim_end() == "Resources:";
            current = None;
            continue;
        }
        if !in_resources {
            continue;
        }
        if let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':'))
            && !name.starts_with(' ')
            && !name.starts_with('#')
        {
            current = Some(name.to_owned());
            continue;
        }
        if let Some(name) = &current {
            resources
                .entry(name.clone())
                .or_default()
                .push(line.to_owned());
        }
    }
    resources
        .into_iter()
        .filter(|(_, lines)| {
            lines
                .iter()
                .any(|l| l.trim() == "Type: AWS::DynamoDB::Table")
        })
        .collect()
}

/// The `- item` lines following the line `key:` (a block list).
fn block_list(lines: &[String], key: &str) -> Option<Vec<String>> {
    let start = lines.iter().position(|l| l.trim() == format!("{key}:"))?;
    Some(
        lines[start + 1..]
            .iter()
            .map(|l| l.trim())
            .take_while(|l| l.starts_with("- "))
            .map(|l| l.trim_start_matches("- ").to_owned())
            .collect(),
    )
}

#[test]
fn the_templates_tables_match_the_store_and_are_protected() {
    let resources = table_resources();
    assert_eq!(
        resources.len(),
        tables::TABLES.len(),
        "one table resource per store table: {:?}",
        resources.keys().collect::<Vec<_>>()
    );
    for spec in tables::TABLES {
        let name_line = format!("TableName: !Sub ${{TablePrefix}}-{}", spec.table);
        let (id, lines) = resources
            .iter()
            .find(|(_, lines)| lines.iter().any(|l| l.trim() == name_line))
            .unwrap_or_else(|| panic!("no table resource named `{name_line}`"));
        assert!(
            lines
                .iter()
                .any(|l| l.trim() == "DeletionProtectionEnabled: true"),
            "{id}: DeletionProtectionEnabled must be true"
        );
        let has_index = lines
            .iter()
            .any(|l| l.trim() == format!("- IndexName: {}", tables::ORG_INDEX));
        assert_eq!(
            has_index,
            spec.org_index,
            "{id}: the {} index",
            tables::ORG_INDEX
        );
        if spec.org_index {
            assert!(
                lines.iter().any(|l| l.trim() == "ProjectionType: INCLUDE"),
                "{id}: the index projects INCLUDE, not ALL (fullApiData is not stored twice)"
            );
            assert!(
                !lines.iter().any(|l| l.trim() == "ProjectionType: ALL"),
                "{id}"
            );
            let projected = block_list(lines, "NonKeyAttributes")
                .unwrap_or_else(|| panic!("{id}: no NonKeyAttributes"));
            assert_eq!(
                projected,
                tables::INDEX_ATTRIBUTES,
                "{id}: NonKeyAttributes must equal stackdock_store::dynamodb::tables::INDEX_ATTRIBUTES"
            );
        }
        let has_runs_index = lines
            .iter()
            .any(|l| l.trim() == format!("- IndexName: {}", tables::RUNS_INDEX));
        assert_eq!(
            has_runs_index,
            spec.runs_index,
            "{id}: the {} index",
            tables::RUNS_INDEX
        );
        if spec.runs_index {
            let at = lines
                .iter()
                .position(|l| l.trim() == format!("- IndexName: {}", tables::RUNS_INDEX))
                .unwrap_or_default();
            let index: Vec<&str> = lines[at..].iter().map(|l| l.trim()).take(6).collect();
            for expected in [
                format!("- {{ AttributeName: {}, KeyType: HASH }}", tables::ORG_ID),
                format!(
                    "- {{ AttributeName: {}, KeyType: RANGE }}",
                    tables::STARTED_KEY
                ),
                "ProjectionType: ALL".to_owned(),
            ] {
                assert!(
                    index.contains(&expected.as_str()),
                    "{id}: the {} index has `{expected}`: {index:?}",
                    tables::RUNS_INDEX
                );
            }
            assert!(
                lines.iter().any(|l| l.trim()
                    == format!(
                        "- {{ AttributeName: {}, AttributeType: S }}",
                        tables::STARTED_KEY
                    )),
                "{id}: `{}` is declared a string attribute",
                tables::STARTED_KEY
            );
        }
        let ttl = lines
            .iter()
            .position(|l| l.trim() == "TimeToLiveSpecification:")
            .map(|at| {
                (
                    lines.get(at + 1).map(|l| l.trim().to_owned()),
                    lines.get(at + 2).map(|l| l.trim().to_owned()),
                )
            });
        if spec.ttl {
            assert_eq!(
                ttl,
                Some((
                    Some(format!("AttributeName: {}", tables::TTL)),
                    Some("Enabled: true".to_owned())
                )),
                "{id}: TTL on `{}`",
                tables::TTL
            );
        } else {
            assert_eq!(ttl, None, "{id}: no TTL");
        }
    }
    eprintln!(
        "RELIABILITY security the tables have deletion protection and the index projects no fullApiData (item 9) -> held (store::template::the_templates_tables_match_the_store_and_are_protected)"
    );
}
