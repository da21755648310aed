//! The fleet report: one self-contained HTML page (no external asset, font or request) showing
//! every dock's resources — counts per provider × kind, a sortable, filterable table per kind with
//! status colours, drift and unmanaged resources marked, and each dock's last sync.
//!
//! The rows are rendered here, so the page reads without JavaScript; the inline script only sorts
//! (a click on a column) and filters (the search box of each table). Every value is escaped.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::record::{Attrs, DockStatus, Record};
use crate::schema::kind_keys;
use crate::{Kind, ProviderKind};

/// What the report shows beside the records.
#[derive(Debug, Clone)]
pub struct ReportInput<'a> {
    pub org: &'a str,
    /// When the report was made (the caller's clock; the core reads none).
    pub generated_at: &'a str,
    /// Every dock of the config: name and provider.
    pub docks: Vec<(&'a str, ProviderKind)>,
    pub statuses: &'a [DockStatus],
    pub records: &'a [Record],
    /// Rows per kind table at most (`None`: all); the page says how many it left out.
    pub max_rows: Option<usize>,
}

impl<'a> ReportInput<'a> {
    /// The report of `config`'s docks over `records`, every row shown.
    pub fn new(
        config: &'a crate::config::Config,
        generated_at: &'a str,
        statuses: &'a [DockStatus],
        records: &'a [Record],
    ) -> Self {
        ReportInput {
            org: &config.settings.org,
            generated_at,
            docks: config
                .docks
                .iter()
                .map(|(name, d)| (name.as_str(), d.provider))
                .collect(),
            statuses,
            records,
            max_rows: None,
        }
    }
}

/// The report page.
pub fn report(input: &ReportInput<'_>) -> String {
    let mut out = String::with_capacity(4096 + input.records.len() * 400);
    let title = format!("StackDock fleet — {}", input.org);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n<p class=\"meta\">Generated {} from the stored inventory: {} resource{} on {} dock{}.</p>\n",
        esc(&title),
        esc(&title),
        esc(input.generated_at),
        input.records.len(),
        plural(input.records.len()),
        input.docks.len(),
        plural(input.docks.len()),
    );
    // Dock ids are `org/dock`: the report shows the dock's name.
    let dock_name = |dock_id: &str| -> String {
        dock_id
            .split_once('/')
            .map_or(dock_id, |(_, name)| name)
            .to_owned()
    };
    docks_table(&mut out, input, &dock_name);
    counts_table(&mut out, input);
    for kind in Kind::ALL {
        let rows: Vec<&Record> = input.records.iter().filter(|r| r.kind() == kind).collect();
        if !rows.is_empty() {
            kind_table(&mut out, kind, &rows, input.max_rows, &dock_name);
        }
    }
    let _ = write!(out, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    out
}

fn docks_table(out: &mut String, input: &ReportInput<'_>, dock_name: &dyn Fn(&str) -> String) {
    out.push_str("<h2>Docks</h2>\n<table id=\"docks\">\n<thead><tr><th>dock</th><th>provider</th><th>last complete sync</th><th>last attempt</th><th>outcome</th><th>resources</th></tr></thead>\n<tbody>\n");
    for (name, provider) in &input.docks {
        let status = input
            .statuses
            .iter()
            .find(|s| dock_name(&s.dock_id) == *name);
        let count = input
            .records
            .iter()
            .filter(|r| dock_name(&r.dock_id) == *name)
            .count();
        let (outcome, class) = match status {
            None => ("never synced".to_owned(), "pending"),
            Some(s) => match &s.last_error {
                Some(e) => (format!("failed: {e}"), "bad"),
                None if s.last_sync_at.is_some() => ("ok".to_owned(), "ok"),
                None => ("incomplete".to_owned(), "pending"),
            },
        };
        let at = |t: Option<jiff::Timestamp>| t.map_or_else(|| "—".to_owned(), |t| t.to_string());
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{class}\">{}</td><td>{count}</td></tr>",
            esc(name),
            provider,
            esc(&at(status.and_then(|s| s.last_sync_at))),
            esc(&at(status.and_then(|s| s.last_attempt_at))),
            esc(&outcome),
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

fn counts_table(out: &mut String, input: &ReportInput<'_>) {
    let mut counts: BTreeMap<(ProviderKind, Kind), usize> = BTreeMap::new();
    for r in input.records {
        *counts.entry((r.provider, r.kind())).or_default() += 1;
    }
    let kinds: Vec<Kind> = Kind::ALL
        .into_iter()
        .filter(|k| counts.keys().any(|(_, c)| c == k))
        .collect();
    out.push_str("<h2>Resources per provider and kind</h2>\n<table id=\"counts\">\n<thead><tr><th>provider</th>");
    for k in &kinds {
        let _ = write!(out, "<th>{}</th>", k.config_key());
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for provider in ProviderKind::ALL {
        if !counts.keys().any(|(p, _)| *p == provider) {
            continue;
        }
        let _ = write!(out, "<tr><td>{provider}</td>");
        for k in &kinds {
            let n = counts.get(&(provider, *k)).copied().unwrap_or(0);
            let _ = write!(
                out,
                "<td data-count=\"{provider}/{}\">{n}</td>",
                k.config_key()
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

/// The columns of a kind's table beyond the common ones: its documented keys the records carry.
fn extra_columns(kind: Kind) -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = kind_keys(kind)
        .iter()
        .map(|k| k.key)
        .filter(|k| !matches!(*k, "region" | "ssh_keys" | "user_data_file"))
        .collect();
    if kind == Kind::Servers {
        keys.push("ip");
    }
    keys
}

fn cell(record: &Record, key: &str) -> String {
    if key == "ip" {
        return match &record.attrs {
            Attrs::Servers(s) => s.ip_address.clone().unwrap_or_default(),
            _ => String::new(),
        };
    }
    record.field(key).map(|v| v.to_string()).unwrap_or_default()
}

fn kind_table(
    out: &mut String,
    kind: Kind,
    rows: &[&Record],
    max_rows: Option<usize>,
    dock_name: &dyn Fn(&str) -> String,
) {
    let key = kind.config_key();
    let extra = extra_columns(kind);
    let shown = max_rows.map_or(rows.len(), |m| m.min(rows.len()));
    let _ = write!(
        out,
        "<section class=\"kind\" id=\"kind-{key}\">\n<h2>{key} <span class=\"count\">({})</span></h2>\n<p><input type=\"search\" class=\"filter\" data-table=\"table-{key}\" placeholder=\"filter {key}…\" aria-label=\"filter {key}\"> <span class=\"shown\" id=\"shown-{key}\">{shown} of {shown} shown</span></p>\n",
        rows.len()
    );
    if shown < rows.len() {
        let _ = writeln!(
            out,
            "<p class=\"note\">The first {shown} of {} {key} are listed here; `stackdock report` writes them all.</p>",
            rows.len()
        );
    }
    let _ = write!(
        out,
        "<table id=\"table-{key}\" class=\"sortable\">\n<thead><tr><th>dock</th><th>name</th><th>status</th><th>region</th><th>id</th><th>managed by</th><th>drift</th>"
    );
    for c in &extra {
        let _ = write!(out, "<th>{}</th>", esc(c));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for r in rows.iter().take(shown) {
        let mut classes = Vec::new();
        if r.managed_by.is_none() {
            classes.push("unmanaged");
        }
        if !r.drift.is_empty() {
            classes.push("drift");
        }
        if r.missing_since.is_some() {
            classes.push("missing");
        }
        // A failed create says so, with the provider's error, whether or not anything exists.
        let failed = r.provisioning_state == Some(crate::record::ProvisioningState::Failed);
        if failed {
            classes.push("failed");
        }
        let status = if failed {
            "failed".to_owned()
        } else if r.missing_since.is_some() {
            "missing".to_owned()
        } else {
            r.status.to_string()
        };
        let error = match (&r.provisioning_error, failed) {
            (Some(e), true) => format!("<br><small class=\"error\">{}</small>", esc(e)),
            _ => String::new(),
        };
        let drift = r
            .drift
            .iter()
            .map(|d| d.field.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let _ = write!(
            out,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td class=\"status {}\">{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
            classes.join(" "),
            esc(&dock_name(&r.dock_id)),
            esc(&r.name),
            status_class(&status),
            esc(&status),
            error,
            esc(r.region.as_deref().unwrap_or("")),
            esc(&r.provider_resource_id),
            esc(r.managed_by.as_deref().unwrap_or("unmanaged")),
            esc(&drift),
        );
        for c in &extra {
            let _ = write!(out, "<td>{}</td>", esc(&cell(r, c)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

/// The colour family of a provider status in the universal vocabulary.
fn status_class(status: &str) -> &'static str {
    match status {
        "running" | "active" | "available" | "ok" | "ready" => "ok",
        "pending" | "provisioning" | "creating" | "starting" | "migrating" | "resizing"
        | "rebooting" | "booting" => "pending",
        "stopped" | "off" | "offline" | "suspended" => "off",
        "missing" | "failed" | "error" | "deleting" => "bad",
        _ => "other",
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Escapes text for HTML content and double-quoted attributes.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1b1f24}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem}
.meta,.note{color:#57606a}
table{border-collapse:collapse;margin:.4rem 0;min-width:40%}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
table.sortable th{cursor:pointer;user-select:none}
th.asc::after{content:' \\25B2'}th.desc::after{content:' \\25BC'}
.ok{color:#1a7f37}.pending{color:#9a6700}.off{color:#57606a}.bad{color:#cf222e;font-weight:600}
tr.unmanaged td:nth-child(6){font-style:italic;color:#57606a}
tr.drift{background:#fff8c5}tr.missing{background:#ffebe9}tr.failed{background:#ffebe9}small.error{color:#82071e}
input.filter{padding:.2rem .4rem;min-width:16rem}
";

const SCRIPT: &str = r#"
(function () {
  function text(row, i) { return row.cells[i] ? row.cells[i].textContent.trim() : ''; }
  function compare(a, b) {
    var x = parseFloat(a), y = parseFloat(b);
    if (!isNaN(x) && !isNaN(y) && String(x) === a && String(y) === b) { return x - y; }
    return a.localeCompare(b);
  }
  document.querySelectorAll('table.sortable').forEach(function (table) {
    table.querySelectorAll('th').forEach(function (th, i) {
      th.addEventListener('click', function () {
        var body = table.tBodies[0];
        var asc = !th.classList.contains('asc');
        table.querySelectorAll('th').forEach(function (h) { h.classList.remove('asc', 'desc'); });
        th.classList.add(asc ? 'asc' : 'desc');
        Array.prototype.slice.call(body.rows)
          .sort(function (a, b) { var c = compare(text(a, i), text(b, i)); return asc ? c : -c; })
          .forEach(function (row) { body.appendChild(row); });
      });
    });
  });
  document.querySelectorAll('input.filter').forEach(function (input) {
    input.addEventListener('input', function () {
      var table = document.getElementById(input.getAttribute('data-table'));
      var needle = input.value.trim().toLowerCase();
      var shown = 0, rows = table.tBodies[0].rows;
      for (var i = 0; i < rows.length; i++) {
        var match = needle === '' || rows[i].textContent.toLowerCase().indexOf(needle) !== -1;
        rows[i].hidden = !match;
        if (match) { shown++; }
      }
      var key = table.id.replace('table-', '');
      document.getElementById('shown-' + key).textContent = shown + ' of ' + rows.length + ' shown';
    });
  });
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::dock_id;

    fn record(provider: ProviderKind, kind: Kind, id: &str, name: &str) -> Record {
        let mut r = Record::new("acme", dock_id("acme", "main"), provider, kind, id, name);
        r.status = "running".into();
        r
    }

    #[test]
    fn the_page_is_self_contained_escaped_and_counts_per_provider_and_kind() {
        let mut hostile = record(
            ProviderKind::Vultr,
            Kind::Servers,
            "1",
            "<script>alert(1)</script>",
        );
        hostile.managed_by = Some("servers.web-1".into());
        let records = [
            hostile,
            record(ProviderKind::Vultr, Kind::Servers, "2", "db \"x\""),
            record(ProviderKind::Vultr, Kind::BlockVolumes, "3", "data"),
        ];
        let page = report(&ReportInput {
            org: "acme",
            generated_at: "2026-12-07T00:00:00Z",
            docks: vec![("main", ProviderKind::Vultr)],
            statuses: &[],
            records: &records,
            max_rows: None,
        });
        assert!(!page.contains("<script>alert"), "escaped");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("db &quot;x&quot;"));
        for external in ["http://", "https://", "src=", "href="] {
            assert!(!page.contains(external), "no external asset: {external}");
        }
        assert!(page.contains("<td data-count=\"vultr/servers\">2</td>"));
        assert!(page.contains("<td data-count=\"vultr/block_volumes\">1</td>"));
        assert_eq!(page.matches("<tr class=\"unmanaged\">").count(), 2);
        assert!(page.contains("never synced"));
    }

    #[test]
    fn a_row_cap_says_what_it_left_out() {
        let records: Vec<Record> = (0..5)
            .map(|i| record(ProviderKind::Linode, Kind::Servers, &i.to_string(), "s"))
            .collect();
        let page = report(&ReportInput {
            org: "acme",
            generated_at: "now",
            docks: vec![("main", ProviderKind::Linode)],
            statuses: &[],
            records: &records,
            max_rows: Some(2),
        });
        assert_eq!(page.matches("<tr class=\"unmanaged\">").count(), 2);
        assert!(page.contains("The first 2 of 5 servers are listed here"));
    }

    #[test]
    fn a_failed_create_shows_failed_with_the_providers_error() {
        let mut failed = record(
            ProviderKind::Vultr,
            Kind::Servers,
            "failed:servers.web-1",
            "web-1",
        );
        failed.managed_by = Some("servers.web-1".into());
        failed.provisioning_state = Some(crate::record::ProvisioningState::Failed);
        failed.provisioning_error = Some("HTTP 400: Invalid plan <vc2>".into());
        failed.missing_since = Some(jiff::Timestamp::UNIX_EPOCH);
        let page = report(&ReportInput {
            org: "acme",
            generated_at: "now",
            docks: vec![("main", ProviderKind::Vultr)],
            statuses: &[],
            records: &[failed],
            max_rows: None,
        });
        assert!(
            page.contains("<td class=\"status bad\">failed<br><small class=\"error\">HTTP 400: Invalid plan &lt;vc2&gt;</small></td>"),
            "{page}"
        );
        assert!(page.contains("<tr class=\"missing failed\">"), "{page}");
    }
}
