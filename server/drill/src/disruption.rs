//! PodDisruptionBudgets: how many of the pods a budget covers may be disrupted
//! now. Used by evictions (429 when none may) and by the budget's status.

use super::resources::{PDBS, PODS};
use super::selector::from_json;
use super::store::{Filter, Store, labels_of, name_of, namespace_of};
use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    pub name: String,
    pub expected: i64,
    pub current_healthy: i64,
    pub desired_healthy: i64,
}

impl Budget {
    pub fn disruptions_allowed(&self) -> i64 {
        (self.current_healthy - self.desired_healthy).max(0)
    }
}

/// Whether a pod counts as healthy: Ready and not being deleted.
pub fn is_healthy(pod: &Value) -> bool {
    let ready = pod
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| cs.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"));
    ready && pod.pointer("/metadata/deletionTimestamp").is_none_or(Value::is_null)
}

/// `minAvailable`/`maxUnavailable` as a count of `expected`: an integer, or a
/// percentage rounded up as the disruption controller does.
fn resolve(value: &Value, expected: i64) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => match s.strip_suffix('%') {
            Some(p) => p.trim().parse::<i64>().ok().map(|p| (p * expected + 99) / 100),
            None => s.parse().ok(),
        },
        _ => None,
    }
}

pub fn evaluate(store: &Store, pdb: &Value) -> Budget {
    let selector = from_json(pdb.pointer("/spec/selector").unwrap_or(&Value::Null));
    let filter =
        Filter { namespace: Some(namespace_of(pdb).to_owned()), labels: selector, ..Filter::default() };
    let pods = store.list(PODS, &filter, None, None).map(|p| p.items).unwrap_or_default();
    let expected = pods.len() as i64;
    let current_healthy = pods.iter().filter(|p| is_healthy(p)).count() as i64;
    let spec = &pdb["spec"];
    let desired_healthy = if let Some(min) = spec.get("minAvailable").and_then(|v| resolve(v, expected)) {
        min
    } else if let Some(max) = spec.get("maxUnavailable").and_then(|v| resolve(v, expected)) {
        (expected - max).max(0)
    } else {
        expected
    };
    Budget { name: name_of(pdb).to_owned(), expected, current_healthy, desired_healthy }
}

/// The first budget covering `pod` that allows no disruption now, if any. An
/// unhealthy pod may always go while its budget is met (`IfHealthyBudget`).
pub fn blocking_budget(store: &Store, pod: &Value) -> Option<Budget> {
    let filter = Filter { namespace: Some(namespace_of(pod).to_owned()), ..Filter::default() };
    let budgets = store.list(PDBS, &filter, None, None).map(|p| p.items).unwrap_or_default();
    let labels = labels_of(pod);
    budgets
        .iter()
        .filter(|pdb| from_json(pdb.pointer("/spec/selector").unwrap_or(&Value::Null)).matches(&labels))
        .map(|pdb| evaluate(store, pdb))
        .find(|budget| {
            if is_healthy(pod) {
                budget.disruptions_allowed() == 0
            } else {
                budget.current_healthy < budget.desired_healthy
            }
        })
}
