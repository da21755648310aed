//! plan-scaling: the pure plan at 10,000 and 100,000 desired + actual resources, each size in its
//! own child process so its peak memory is its own; the bound on time(100k) / time(10k) is 10.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::json;
use stackdock_core::config::DesiredResource;
use stackdock_core::plan::{DockState, plan};
use stackdock_core::record::{Attrs, ProvisioningSource, ServerAttrs, dock_id};
use stackdock_core::{CompactString, FieldValue, Kind, ProviderKind, Record, VecMap};

use crate::fleet::{self, ORG};
use crate::report::Row;

/// What the child reports.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct PlanFigures {
    pub resources: usize,
    /// Plans timed; `millis` is the fastest.
    pub runs: usize,
    pub millis: f64,
    pub peak_mib: f64,
    /// Peak RSS once the inputs (config and inventory) are built, before any plan: what of
    /// `peak_mib` the planner itself adds is the difference.
    #[serde(default)]
    pub inputs_mib: f64,
    pub actions: usize,
}

impl PlanFigures {
    /// The faster of two measurements of one size, with the larger peak memory of the two.
    #[must_use]
    pub fn faster(self, other: PlanFigures) -> PlanFigures {
        let peak_mib = self.peak_mib.max(other.peak_mib);
        let best = if other.millis < self.millis {
            other
        } else {
            self
        };
        PlanFigures { peak_mib, ..best }
    }
}

fn slugs(p: ProviderKind) -> (&'static str, &'static str, &'static str) {
    match p {
        ProviderKind::Vultr => ("ewr", "vc2-1c-1gb", "os:2284"),
        ProviderKind::DigitalOcean => ("nyc3", "s-1vcpu-1gb", "ubuntu-24-04-x64"),
        ProviderKind::Linode => ("us-east", "g6-nanode-1", "linode/ubuntu24.04"),
        ProviderKind::Vercel | ProviderKind::Cloudflare => {
            unreachable!("servers are planned on the server providers only")
        }
    }
}

/// `n` desired servers over three docks and their actual records: 90% managed and matching, 5%
/// managed with a changed plan (update), 5% unmanaged with the same name (adopt).
pub fn inputs(n: usize) -> (stackdock_core::config::Config, Vec<Record>) {
    let mut resources = Vec::with_capacity(n);
    let mut inventory = Vec::with_capacity(n);
    for i in 0..n {
        let provider = ProviderKind::ALL[i % 3];
        let (region, plan_slug, image) = slugs(provider);
        let name = format!("srv-{i:07}");
        let fields: VecMap<CompactString, FieldValue> = [
            ("region", FieldValue::from(region)),
            ("plan", plan_slug.into()),
            ("image", image.into()),
            ("tags", FieldValue::set(["bench"])),
        ]
        .into_iter()
        .map(|(k, v)| (k.into(), v))
        .collect();
        let desired = DesiredResource {
            kind: Kind::Servers,
            name: name.as_str().into(),
            dock: fleet::dock_name(provider).into(),
            protect: false,
            id: None,
            ignore_changes: BTreeSet::new(),
            allow_replace: false,
            fields,
        };
        let mut r = Record::new(
            ORG,
            dock_id(ORG, fleet::dock_name(provider)),
            provider,
            Kind::Servers,
            format!("id-{i}"),
            &name,
        );
        r.region = Some(region.into());
        r.status = "running".into();
        let actual_plan = if i % 20 == 1 { "bigger" } else { plan_slug };
        r.attrs = Attrs::Servers(ServerAttrs {
            instance_type: Some(actual_plan.into()),
            image: Some(image.into()),
            tags: ["bench".to_owned()].into(),
            ..ServerAttrs::default()
        });
        if i % 20 != 2 {
            r.managed_by = Some(desired.address().into());
            r.provisioning_source = ProvisioningSource::Api;
            r.applied = [("plan".into(), FieldValue::from(plan_slug))].into();
        }
        inventory.push(r.with_hash());
        resources.push(desired);
    }
    resources.sort_by(|a, b| a.name.cmp(&b.name));
    (fleet::config("http://127.0.0.1:1", resources), inventory)
}

/// Plans timed per size: at least this many, and at least [`MIN_TIMED`] of planning.
const MIN_RUNS: usize = 5;
const MIN_TIMED: Duration = Duration::from_secs(1);

/// In the child: builds the inputs, times the plan and reads the peak memory. The time is the
/// best of at least five plans and at least a second of planning: the minimum filters out the
/// noise of a shared machine, and five 25 ms plans at 10,000 resources all fell into one noisy
/// moment often enough to move the ratio by a third.
pub fn measure(n: usize) -> PlanFigures {
    let (config, inventory) = inputs(n);
    let inputs_mib = crate::memory::peak_rss_mib().unwrap_or(f64::NAN);
    let states: BTreeMap<String, DockState> = config
        .docks
        .keys()
        .map(|d| (d.clone(), DockState::Fresh))
        .collect();
    let mut best = Duration::MAX;
    let mut actions = 0;
    let mut runs = 0;
    let began = Instant::now();
    while runs < MIN_RUNS || began.elapsed() < MIN_TIMED {
        let started = Instant::now();
        let p = plan(&config, &inventory, &states);
        best = best.min(started.elapsed());
        actions = p.actions.len();
        runs += 1;
    }
    PlanFigures {
        resources: n,
        runs,
        millis: best.as_secs_f64() * 1000.0,
        peak_mib: crate::memory::peak_rss_mib().unwrap_or(f64::NAN),
        inputs_mib,
        actions,
    }
}

pub fn rows(small: &PlanFigures, large: &PlanFigures) -> Vec<Row> {
    let per = |f: &PlanFigures| {
        Row::new(
            format!("plan-scaling/{}", f.resources),
            f.millis,
            f.millis,
            "ms",
        )
        .note(format!(
            "desired + actual {} each; best of {} plans; peak RSS {:.1} MiB ({:.1} MiB with the inputs built, before planning)",
            f.resources, f.runs, f.peak_mib, f.inputs_mib
        ))
        .counts(json!({
            "actions": f.actions,
            "peak_mib": f.peak_mib,
            "inputs_mib": f.inputs_mib,
            "millis": f.millis,
            "runs": f.runs,
        }))
    };
    let growth = large.millis / small.millis;
    let size = large.resources as f64 / small.resources as f64;
    vec![
        per(small),
        per(large),
        Row::new(
            format!(
                "plan-scaling/time-ratio/{}-{}",
                large.resources, small.resources
            ),
            growth,
            size,
            "x",
        )
        .ratio_at_most(1.2)
        .note("time(large)/time(small) vs linear (bound 10); target ≤ 12")
        .counts(json!({ "small_ms": small.millis, "large_ms": large.millis })),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(millis: f64, peak_mib: f64) -> PlanFigures {
        PlanFigures {
            resources: 10_000,
            runs: 5,
            millis,
            peak_mib,
            inputs_mib: peak_mib / 2.0,
            actions: 1_500,
        }
    }

    #[test]
    fn the_faster_round_wins_and_the_peak_is_the_largest_seen() {
        let slow_small_peak = figures(40.0, 70.0);
        let fast_large_peak = figures(25.0, 80.0);
        let best = slow_small_peak.faster(fast_large_peak);
        assert_eq!((best.millis, best.peak_mib), (25.0, 80.0));
        let best = figures(25.0, 70.0).faster(figures(40.0, 90.0));
        assert_eq!((best.millis, best.peak_mib), (25.0, 90.0));
    }
}
