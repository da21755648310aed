//! One result row per scenario and size: printed as a table, as JSON lines, or as Markdown.

use serde::Serialize;
use serde_json::Value;

/// A measured figure beside its lower bound.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Scenario name, with the size: `sync-requests/10000`.
    pub name: String,
    pub measured: f64,
    pub lower_bound: f64,
    /// measured / lower_bound (1.0 when both are 0).
    pub ratio: f64,
    /// The unit of `measured` and `lower_bound` (`requests`, `ms`, `writes`, `MB`, …).
    pub unit: String,
    /// The target the issue sets for the ratio (or the absolute figure), if any.
    pub target: Option<String>,
    /// Whether the target holds (`None` without a target).
    pub ok: Option<bool>,
    /// What bounds the figure, and anything worth knowing about it.
    pub note: String,
    /// Raw counts behind the figure.
    pub counts: Value,
}

impl Row {
    pub fn new(name: impl Into<String>, measured: f64, lower_bound: f64, unit: &str) -> Row {
        let ratio = if lower_bound == 0.0 {
            if measured == 0.0 { 1.0 } else { f64::INFINITY }
        } else {
            measured / lower_bound
        };
        Row {
            name: name.into(),
            measured,
            lower_bound,
            ratio,
            unit: unit.to_owned(),
            target: None,
            ok: None,
            note: String::new(),
            counts: Value::Null,
        }
    }

    /// Target on the ratio: at most `max`.
    pub fn ratio_at_most(mut self, max: f64) -> Row {
        self.target = Some(format!("ratio ≤ {max}"));
        self.ok = Some(self.ratio <= max + 1e-9);
        self
    }

    /// Target on the measured figure: at most `max` (in the row's unit).
    pub fn measured_at_most(mut self, max: f64) -> Row {
        self.target = Some(format!("≤ {max} {}", self.unit));
        self.ok = Some(self.measured <= max);
        self
    }

    /// Target: exactly the bound.
    pub fn exact(mut self) -> Row {
        self.target = Some("= bound".into());
        self.ok = Some((self.measured - self.lower_bound).abs() < 1e-9);
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Row {
        self.note = note.into();
        self
    }

    pub fn counts(mut self, counts: Value) -> Row {
        self.counts = counts;
        self
    }
}

fn num(x: f64) -> String {
    if x.is_infinite() {
        "∞".into()
    } else if x.fract() == 0.0 && x.abs() < 1e12 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

fn verdict(r: &Row) -> &'static str {
    match r.ok {
        Some(true) => "ok",
        Some(false) => "MISSED",
        None => "-",
    }
}

/// A plain table for a terminal.
pub fn table(rows: &[Row]) -> String {
    let mut out = format!(
        "{:<34} {:>12} {:>12} {:>7} {:<9} {:<14} {:<7} {}\n",
        "scenario", "measured", "bound", "ratio", "unit", "target", "result", "note"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<34} {:>12} {:>12} {:>7.3} {:<9} {:<14} {:<7} {}\n",
            r.name,
            num(r.measured),
            num(r.lower_bound),
            r.ratio,
            r.unit,
            r.target.clone().unwrap_or_else(|| "-".into()),
            verdict(r),
            r.note
        ));
    }
    out
}

/// One JSON object per row.
pub fn json_lines(rows: &[Row]) -> String {
    rows.iter()
        .filter_map(|r| serde_json::to_string(r).ok())
        .map(|l| l + "\n")
        .collect()
}

/// A Markdown table (BENCHMARKS.md).
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | measured | lower bound | ratio | unit | target | result | note |\n|---|---:|---:|---:|---|---|---|---|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| `{}` | {} | {} | {:.3} | {} | {} | {} | {} |\n",
            r.name,
            num(r.measured),
            num(r.lower_bound),
            r.ratio,
            r.unit,
            r.target.clone().unwrap_or_else(|| "-".into()),
            verdict(r),
            r.note.replace('|', "\\|")
        ));
    }
    out
}
