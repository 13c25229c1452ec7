//! Playbooks: what to look at and what to do for a known kind of trouble.
//! A playbook matches on alert names and on what the evidence shows
//! ([`Signal`]s), holds a checklist in plain words, and names the actions it
//! suggests; the parameters of those actions (which workload, which revision,
//! which node, how many replicas) are derived from the evidence here, so the
//! room can offer "Roll back shop/checkout from revision 3 to 2" as one click.

use crate::action::{ActionForm, WorkloadKind};
use crate::evidence::{Evidence, Finding, Signal, WorkloadEvidence, findings, template_changes};
use crate::incident::FieldError;
use serde::{Deserialize, Serialize};

/// Longest checklist, and longest step, in characters.
pub const MAX_STEPS: usize = 30;
pub const MAX_STEP_CHARS: usize = 500;

/// An action a playbook may suggest; its parameters come from the evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Suggest {
    /// Back to the previous revision, when the pod template changed recently.
    Rollback,
    /// Replace the workload's pods.
    Restart,
    /// One more replica, to spread load while the cause is fixed.
    ScaleUp,
    /// Stop new pods landing on the node.
    Cordon,
    /// Move the node's pods elsewhere.
    Drain,
    /// Make cordoned nodes schedulable again (room for pending pods).
    Uncordon,
}

/// What a playbook matches on: any alert name or any signal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    #[serde(default)]
    pub alertnames: Vec<String>,
    #[serde(default)]
    pub signals: Vec<Signal>,
}

/// A playbook as admins write it (YAML) and as it is stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    /// A short slug: `crash-loop`.
    pub id: String,
    pub title: String,
    /// What this is, for the person reading it at 3 a.m.
    #[serde(default)]
    pub summary: String,
    pub when: When,
    /// The checklist: what to look at, what to decide.
    pub steps: Vec<String>,
    /// Suggested actions, best first.
    #[serde(default)]
    pub suggest: Vec<Suggest>,
    /// A disabled playbook is kept but never matches.
    #[serde(default = "enabled")]
    pub enabled: bool,
}

fn enabled() -> bool {
    true
}

impl Playbook {
    /// Checks what serde cannot: the id's form, a title, some steps, something to match on.
    pub fn check(&self) -> Result<(), FieldError> {
        let bad = |message: String| Err(FieldError::new("source", message));
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 63
            && self.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && self.id.starts_with(|c: char| c.is_ascii_lowercase());
        if !id_ok {
            return bad(format!(
                "id: '{}' is not a valid playbook id (lower-case letters, digits and '-', starting with a letter, at most 63).",
                self.id.chars().take(80).collect::<String>()
            ));
        }
        if self.title.trim().is_empty() || self.title.chars().count() > 200 {
            return bad("title: give the playbook a title of at most 200 characters.".to_owned());
        }
        if self.when.alertnames.is_empty() && self.when.signals.is_empty() {
            return bad("when: name at least one alertname or signal to match on.".to_owned());
        }
        if self.steps.is_empty() || self.steps.len() > MAX_STEPS {
            return bad(format!("steps: write between 1 and {MAX_STEPS} steps."));
        }
        if let Some(n) =
            self.steps.iter().position(|s| s.trim().is_empty() || s.chars().count() > MAX_STEP_CHARS)
        {
            return bad(format!("steps[{n}]: a step is between 1 and {MAX_STEP_CHARS} characters."));
        }
        Ok(())
    }

    /// Why it matches, if it does: the alert names and findings it matched on.
    pub fn matched_by(&self, alertnames: &[String], found: &[Finding]) -> Vec<String> {
        if !self.enabled {
            return Vec::new();
        }
        let mut why: Vec<String> = alertnames
            .iter()
            .filter(|name| self.when.alertnames.iter().any(|n| n.eq_ignore_ascii_case(name)))
            .map(|name| format!("alert {name}"))
            .collect();
        for finding in found.iter().filter(|f| self.when.signals.contains(&f.signal)) {
            why.push(format!("{}: {}", finding.subject, finding.detail));
        }
        why.dedup();
        why
    }
}

/// An action offered with its parameters filled in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    /// "Roll back shop/checkout from revision 3 to 2 (image checkout:1.4 → checkout:1.3)".
    pub title: String,
    /// The planning form it submits.
    pub form: ActionForm,
}

/// A matched playbook with its suggestions, for the room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guidance {
    pub playbook: Playbook,
    /// What it matched on, in words.
    pub matched_by: Vec<String>,
    pub suggestions: Vec<Suggestion>,
}

/// Every enabled playbook that matches the incident's alerts or what the
/// captures show, best first (the one matching the most telling finding),
/// with its suggestions. `captures` are the latest capture per subject.
pub fn guide(
    playbooks: &[Playbook],
    alertnames: &[String],
    captures: &[Evidence],
    now: i64,
) -> Vec<Guidance> {
    let found: Vec<Finding> = captures.iter().flat_map(findings).collect();
    let mut matched: Vec<(usize, Guidance)> = playbooks
        .iter()
        .filter_map(|playbook| {
            let matched_by = playbook.matched_by(alertnames, &found);
            if matched_by.is_empty() {
                return None;
            }
            let rank =
                found.iter().position(|f| playbook.when.signals.contains(&f.signal)).unwrap_or(found.len());
            let suggestions = suggestions(playbook, captures, now);
            Some((rank, Guidance { playbook: playbook.clone(), matched_by, suggestions }))
        })
        .collect();
    matched.sort_by_key(|(rank, _)| *rank);
    matched.into_iter().map(|(_, g)| g).collect()
}

/// The playbook's suggested actions with parameters from the captures, in
/// the playbook's order; one that the evidence gives no target for is left out.
pub fn suggestions(playbook: &Playbook, captures: &[Evidence], now: i64) -> Vec<Suggestion> {
    let mut out: Vec<Suggestion> = Vec::new();
    let workloads: Vec<&WorkloadEvidence> = captures.iter().filter_map(|c| c.workload.as_ref()).collect();
    let nodes: Vec<&crate::evidence::NodeEvidence> =
        captures.iter().filter_map(|c| c.node.as_ref()).collect();
    for kind in &playbook.suggest {
        match kind {
            Suggest::Rollback => {
                for workload in workloads.iter().filter(|w| w.kind == WorkloadKind::Deployment) {
                    if let Some(s) = rollback(workload, now) {
                        out.push(s);
                    }
                }
            }
            Suggest::Restart => {
                for workload in &workloads {
                    out.push(Suggestion {
                        title: format!(
                            "Restart {} {}/{} (replaces its {} pod(s))",
                            workload.kind.as_str(),
                            workload.namespace,
                            workload.name,
                            workload.desired
                        ),
                        form: workload_form("restart", workload, ""),
                    });
                }
            }
            Suggest::ScaleUp => {
                for workload in workloads.iter().filter(|w| w.kind != WorkloadKind::DaemonSet) {
                    let to = workload.desired + 1;
                    out.push(Suggestion {
                        title: format!(
                            "Scale {} {}/{} from {} to {to}",
                            workload.kind.as_str(),
                            workload.namespace,
                            workload.name,
                            workload.desired
                        ),
                        form: workload_form("scale", workload, &to.to_string()),
                    });
                }
            }
            Suggest::Cordon => {
                for node in nodes.iter().filter(|n| !n.unschedulable) {
                    out.push(Suggestion {
                        title: format!("Cordon {} (no new pods land on it)", node.name),
                        form: node_form("cordon", &node.name),
                    });
                }
            }
            Suggest::Drain => {
                for node in &nodes {
                    out.push(Suggestion {
                        title: format!(
                            "Drain {} (moves its {} pod(s) elsewhere)",
                            node.name,
                            node.pods.len()
                        ),
                        form: node_form("drain", &node.name),
                    });
                }
            }
            Suggest::Uncordon => {
                for node in nodes.iter().filter(|n| n.unschedulable) {
                    out.push(Suggestion {
                        title: format!("Uncordon {} (room for pending pods)", node.name),
                        form: node_form("uncordon", &node.name),
                    });
                }
            }
        }
    }
    out.dedup_by(|a, b| a.form == b.form);
    out
}

/// "Roll back shop/checkout from revision 3 to 2 (image checkout:1.4 →
/// checkout:1.3)", when the template changed within [`RECENT_CHANGE_MS`].
fn rollback(workload: &WorkloadEvidence, now: i64) -> Option<Suggestion> {
    let (current, previous) = workload.last_change()?;
    let recent = current.created_at.is_none_or(|at| now - at <= crate::evidence::RECENT_CHANGE_MS);
    if !recent {
        return None;
    }
    let changes = template_changes(&current.containers, &previous.containers);
    let what = if changes.is_empty() {
        String::new()
    } else {
        format!(" ({})", changes.iter().take(3).map(|c| strip_container(c)).collect::<Vec<_>>().join("; "))
    };
    Some(Suggestion {
        title: format!(
            "Roll back {}/{} from revision {} to {}{what}",
            workload.namespace, workload.name, current.number, previous.number
        ),
        form: workload_form("rollback", workload, ""),
    })
}

/// `checkout: image a → b` reads as `image a → b` in a one-container title.
fn strip_container(change: &str) -> &str {
    change.split_once(": ").map_or(change, |(_, rest)| rest)
}

fn workload_form(action: &str, workload: &WorkloadEvidence, replicas: &str) -> ActionForm {
    ActionForm {
        action: action.to_owned(),
        workload: format!("{}/{}/{}", workload.kind.as_str(), workload.namespace, workload.name),
        replicas: replicas.to_owned(),
        ..ActionForm::default()
    }
}

fn node_form(action: &str, node: &str) -> ActionForm {
    ActionForm { action: action.to_owned(), node: node.to_owned(), ..ActionForm::default() }
}

/// Steps ticked so far: `(playbook id, step index)` → done, the last tick winning.
pub fn ticked(ticks: &[(String, usize, bool)], playbook: &str, step: usize) -> bool {
    ticks.iter().rev().find(|(p, s, _)| p == playbook && *s == step).is_some_and(|(_, _, done)| *done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{
        ContainerSpec, ContainerState, Evidence, NodeEvidence, PodEvidence, Revision, Subject, Termination,
    };
    use crate::object_name::ObjectName;

    const NOW: i64 = 1_800_000_000_000;

    fn playbook(id: &str, signals: Vec<Signal>, alertnames: &[&str], suggest: Vec<Suggest>) -> Playbook {
        Playbook {
            id: id.to_owned(),
            title: id.to_owned(),
            summary: String::new(),
            when: When { alertnames: alertnames.iter().map(|a| (*a).to_owned()).collect(), signals },
            steps: vec!["Look at it.".to_owned()],
            suggest,
            enabled: true,
        }
    }

    fn container(image: &str) -> ContainerSpec {
        ContainerSpec { name: "checkout".into(), image: image.into(), ..ContainerSpec::default() }
    }

    /// shop/checkout at revision 3 (checkout:1.4, made `age` ms ago), revision 2 before it.
    fn checkout(age: i64, waiting: &str) -> Evidence {
        let name = |n: &str| ObjectName::parse(n).unwrap();
        let mut evidence = Evidence::new(
            Subject::Workload {
                workload: WorkloadKind::Deployment,
                namespace: name("shop"),
                name: name("checkout"),
            },
            NOW,
        );
        evidence.workload = Some(WorkloadEvidence {
            kind: WorkloadKind::Deployment,
            namespace: "shop".into(),
            name: "checkout".into(),
            desired: 3,
            ready: 2,
            selector: [("app".to_owned(), "checkout".to_owned())].into(),
            template_labels: [("app".to_owned(), "checkout".to_owned())].into(),
            containers: vec![container("checkout:1.4")],
            current_revision: Some(3),
            revisions: vec![
                Revision {
                    number: 3,
                    created_at: Some(NOW - age),
                    change_cause: Some("kubectl set image".into()),
                    containers: vec![container("checkout:1.4")],
                    replicas: 1,
                },
                Revision {
                    number: 2,
                    created_at: Some(NOW - age - 86_400_000),
                    change_cause: None,
                    containers: vec![container("checkout:1.3")],
                    replicas: 2,
                },
                Revision {
                    number: 1,
                    created_at: None,
                    change_cause: None,
                    containers: vec![container("checkout:1.2")],
                    replicas: 0,
                },
            ],
        });
        evidence.pods.push(PodEvidence {
            namespace: "shop".into(),
            name: "checkout-abc".into(),
            phase: "Running".into(),
            containers: vec![ContainerState {
                name: "checkout".into(),
                image: "checkout:1.4".into(),
                restarts: 4,
                waiting: Some(waiting.into()),
                ..ContainerState::default()
            }],
            ..PodEvidence::default()
        });
        evidence
    }

    #[test]
    fn a_crash_loop_after_a_recent_release_suggests_rolling_back_to_the_previous_revision_first() {
        let crash = playbook(
            "crash-loop",
            vec![Signal::CrashLoopBackOff],
            &[],
            vec![Suggest::Rollback, Suggest::Restart],
        );
        let other = playbook("image-pull", vec![Signal::ImagePullFailure], &[], vec![Suggest::Rollback]);
        let guidance = guide(&[other, crash], &[], &[checkout(10 * 60_000, "CrashLoopBackOff")], NOW);
        assert_eq!(guidance.len(), 1);
        assert_eq!(guidance[0].playbook.id, "crash-loop");
        assert!(guidance[0].matched_by[0].contains("pod shop/checkout-abc"), "{:?}", guidance[0].matched_by);
        let top = &guidance[0].suggestions[0];
        assert_eq!(
            top.title,
            "Roll back shop/checkout from revision 3 to 2 (image checkout:1.4 → checkout:1.3)"
        );
        assert_eq!(top.form.action, "rollback");
        assert_eq!(top.form.workload, "deployment/shop/checkout");
        assert_eq!(
            guidance[0].suggestions[1].title,
            "Restart deployment shop/checkout (replaces its 3 pod(s))"
        );
    }

    #[test]
    fn an_old_template_change_is_not_blamed() {
        let crash = playbook(
            "crash-loop",
            vec![Signal::CrashLoopBackOff],
            &[],
            vec![Suggest::Rollback, Suggest::Restart],
        );
        let old = checkout(3 * 86_400_000, "CrashLoopBackOff");
        let suggestions = suggestions(&crash, &[old], NOW);
        assert_eq!(suggestions.len(), 1);
        assert_eq!(suggestions[0].form.action, "restart");
    }

    #[test]
    fn a_playbook_matches_on_an_alert_name_alone_and_a_disabled_one_never() {
        let mut node = playbook("node-not-ready", vec![Signal::NodeNotReady], &["KubeNodeNotReady"], vec![]);
        assert_eq!(node.matched_by(&["kubenodenotready".to_owned()], &[]), vec!["alert kubenodenotready"]);
        assert!(node.matched_by(&["Watchdog".to_owned()], &[]).is_empty());
        node.enabled = false;
        assert!(node.matched_by(&["KubeNodeNotReady".to_owned()], &[]).is_empty());
    }

    #[test]
    fn a_node_not_ready_suggests_cordon_then_drain_with_its_pod_count() {
        let name = ObjectName::parse("worker-2").unwrap();
        let mut evidence = Evidence::new(Subject::Node { name }, NOW);
        evidence.node = Some(NodeEvidence {
            name: "worker-2".into(),
            conditions: vec![crate::evidence::Condition {
                kind: "Ready".into(),
                status: "Unknown".into(),
                reason: Some("NodeStatusUnknown".into()),
                message: None,
            }],
            pods: vec!["shop/a".into(), "shop/b".into()],
            ..NodeEvidence::default()
        });
        let book = playbook(
            "node-not-ready",
            vec![Signal::NodeNotReady],
            &[],
            vec![Suggest::Cordon, Suggest::Drain],
        );
        let guidance = guide(&[book], &[], &[evidence.clone()], NOW);
        let titles: Vec<&str> = guidance[0].suggestions.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(
            titles,
            ["Cordon worker-2 (no new pods land on it)", "Drain worker-2 (moves its 2 pod(s) elsewhere)"]
        );
        assert_eq!(guidance[0].suggestions[1].form.node, "worker-2");
        // Once cordoned, cordoning is no longer offered.
        evidence.node.as_mut().unwrap().unschedulable = true;
        let book = playbook(
            "node-not-ready",
            vec![Signal::NodeNotReady],
            &[],
            vec![Suggest::Cordon, Suggest::Drain],
        );
        assert_eq!(suggestions(&book, &[evidence], NOW).len(), 1);
    }

    #[test]
    fn out_of_memory_names_the_limit_and_offers_a_replica_more() {
        let mut evidence = checkout(10 * 60_000, "CrashLoopBackOff");
        let container = &mut evidence.pods[0].containers[0];
        container.waiting = None;
        container.memory_limit = Some("512Mi".into());
        container.last_termination =
            Some(Termination { reason: "OOMKilled".into(), exit_code: 137, finished_at: None });
        let found = findings(&evidence);
        assert_eq!(found[0].signal, Signal::OomKilled);
        assert_eq!(
            found[0].detail,
            "checkout was killed for exceeding its memory limit (512Mi; exit code 137)"
        );
        let book = playbook("oom", vec![Signal::OomKilled], &[], vec![Suggest::ScaleUp, Suggest::Restart]);
        let suggested = suggestions(&book, &[evidence], NOW);
        assert_eq!(suggested[0].title, "Scale deployment shop/checkout from 3 to 4");
        assert_eq!(suggested[0].form.replicas, "4");
    }

    #[test]
    fn a_crash_loop_caused_by_oom_kills_leads_with_the_oom_playbook() {
        let mut evidence = checkout(10 * 60_000, "CrashLoopBackOff");
        evidence.pods[0].containers[0].last_termination =
            Some(Termination { reason: "OOMKilled".into(), exit_code: 137, finished_at: None });
        let books = [
            playbook("crash-loop", vec![Signal::CrashLoopBackOff], &[], vec![Suggest::Rollback]),
            playbook("oom", vec![Signal::OomKilled], &[], vec![Suggest::ScaleUp]),
        ];
        let ids: Vec<String> =
            guide(&books, &[], &[evidence], NOW).into_iter().map(|g| g.playbook.id).collect();
        assert_eq!(ids, ["oom", "crash-loop"]);
    }

    #[test]
    fn playbooks_are_checked_for_what_serde_cannot_see() {
        let mut book = playbook("Crash Loop", vec![Signal::CrashLoopBackOff], &[], vec![]);
        assert!(book.check().unwrap_err().message.starts_with("id:"));
        book.id = "crash-loop".into();
        assert!(book.check().is_ok());
        book.when = When::default();
        assert!(book.check().unwrap_err().message.starts_with("when:"));
        book.when.signals.push(Signal::EventStorm);
        book.steps.clear();
        assert!(book.check().unwrap_err().message.starts_with("steps:"));
    }

    #[test]
    fn the_last_tick_of_a_step_wins() {
        let ticks = vec![
            ("crash-loop".to_owned(), 0, true),
            ("crash-loop".to_owned(), 0, false),
            ("crash-loop".to_owned(), 1, true),
        ];
        assert!(!ticked(&ticks, "crash-loop", 0));
        assert!(ticked(&ticks, "crash-loop", 1));
        assert!(!ticked(&ticks, "other", 1));
    }
}
