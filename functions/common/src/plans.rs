//! The few plans this process served most recently, by digest: when an apply names a digest
//! that is no longer current, the plan it came from (if this warm instance served it) says what
//! changed since. Only an aid for the message: a miss still refuses the apply, with a general
//! reason.

use std::collections::VecDeque;
use std::sync::Mutex;

use stackdock_core::plan::{Plan, StaleReason, compare};

/// How many plans are kept: enough for a reviewer's few requests, small enough that a large
/// fleet's plans do not pile up in a warm function's memory.
const KEEP: usize = 4;

#[derive(Debug, Default)]
pub(crate) struct RecentPlans {
    plans: Mutex<VecDeque<Plan>>,
}

impl RecentPlans {
    pub(crate) fn remember(&self, plan: &Plan) {
        // A poisoned lock only means a panic elsewhere while pushing; the queue is still valid.
        let mut plans = self
            .plans
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        plans.retain(|p| p.digest != plan.digest);
        plans.push_front(plan.clone());
        plans.truncate(KEEP);
    }

    /// Why the plan with digest `given` is not `current`, as sentences.
    pub(crate) fn reasons(&self, given: &str, current: &Plan) -> Vec<String> {
        let plans = self
            .plans
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match plans.iter().find(|p| p.digest == given) {
            Some(saved) => compare(saved, current)
                .iter()
                .map(StaleReason::to_string)
                .collect(),
            None => vec![format!(
                "plan {given} is not the current plan {}: stackdock.toml or the inventory changed since it was made",
                current.digest
            )],
        }
    }
}
