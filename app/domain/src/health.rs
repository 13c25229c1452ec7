//! Health rules: from what the cluster reports about a workload or a node to a
//! component status, with the reasons (objects and conditions) behind it.
//! Statuses use Statuspage's vocabulary; thresholds live in [`THRESHOLDS`].

use serde::{Deserialize, Serialize};

/// A component's status, least severe first, so that `max` is the roll-up:
/// major outage > partial outage > degraded performance > under maintenance > operational.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    Operational,
    UnderMaintenance,
    DegradedPerformance,
    PartialOutage,
    MajorOutage,
}

impl ComponentStatus {
    /// The name in APIs and storage (`partial_outage`).
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "operational",
            ComponentStatus::UnderMaintenance => "under_maintenance",
            ComponentStatus::DegradedPerformance => "degraded_performance",
            ComponentStatus::PartialOutage => "partial_outage",
            ComponentStatus::MajorOutage => "major_outage",
        }
    }

    /// The words shown beside the colour.
    pub fn label(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "Operational",
            ComponentStatus::UnderMaintenance => "Under maintenance",
            ComponentStatus::DegradedPerformance => "Degraded performance",
            ComponentStatus::PartialOutage => "Partial outage",
            ComponentStatus::MajorOutage => "Major outage",
        }
    }
}

/// One thing that made a status: the object, and what about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// e.g. `pod shop/checkout-7d9f-x2k4q`, `node worker-2`.
    pub subject: String,
    /// e.g. `waiting: CrashLoopBackOff`.
    pub detail: String,
}

/// A status and its reasons.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    pub status: ComponentStatus,
    pub reasons: Vec<Reason>,
}

impl Assessment {
    pub fn operational() -> Assessment {
        Assessment { status: ComponentStatus::Operational, reasons: Vec::new() }
    }

    /// Raises the status to at least `status`, recording why.
    pub fn raise(&mut self, status: ComponentStatus, subject: &str, detail: String) {
        self.status = self.status.max(status);
        self.reasons.push(Reason { subject: subject.to_owned(), detail });
    }
}

/// Where a rule turns a symptom into a status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thresholds {
    /// Restarts of one pod from which its workload counts as degraded.
    pub restarts_degraded: u32,
    /// How long a pod may stay Pending before its workload counts as degraded.
    pub pending_grace_secs: u64,
}

pub const THRESHOLDS: Thresholds = Thresholds { restarts_degraded: 3, pending_grace_secs: 120 };

/// Container waiting reasons that mean the pod cannot serve.
const FAILING_WAITS: &[&str] = &[
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "CreateContainerConfigError",
    "InvalidImageName",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodPhase {
    Pending,
    Running,
    Succeeded,
    Failed,
    Unknown,
}

/// What the cluster reports about one pod, reduced to what the rules read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodObservation {
    pub name: String,
    pub phase: PodPhase,
    pub ready: bool,
    /// Restarts summed over the pod's containers.
    pub restarts: u32,
    /// The first failing reason among containers that are waiting.
    pub waiting_reason: Option<String>,
    /// Why a container last terminated (`OOMKilled`, `Error`, …).
    pub last_termination_reason: Option<String>,
    /// Seconds since the pod was created, for the Pending rule.
    pub age_secs: u64,
    /// The pod's node, when that node is NotReady: the pod is cut off even if
    /// its last reported state looks healthy.
    pub unready_node: Option<String>,
}

/// A Deployment, StatefulSet or DaemonSet and its pods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadObservation {
    /// `deployment`, `statefulset`, `daemonset`.
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub desired: u32,
    pub available: u32,
    pub pods: Vec<PodObservation>,
}

/// What the cluster reports about a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeObservation {
    pub name: String,
    /// The Ready condition: `None` when Unknown (the kubelet stopped reporting).
    pub ready: Option<bool>,
    pub memory_pressure: bool,
    pub disk_pressure: bool,
    pub pid_pressure: bool,
    /// Cordoned.
    pub unschedulable: bool,
}

/// The status of one workload.
pub fn assess_workload(workload: &WorkloadObservation, thresholds: &Thresholds) -> Assessment {
    let mut assessment = Assessment::operational();
    let subject = format!("{} {}/{}", workload.kind, workload.namespace, workload.name);
    let (desired, available) = (workload.desired, workload.available);
    if desired >= 1 && available == 0 {
        assessment.raise(
            ComponentStatus::MajorOutage,
            &subject,
            format!("0 of {desired} replicas available"),
        );
    } else if available < desired {
        assessment.raise(
            ComponentStatus::PartialOutage,
            &subject,
            format!("{available} of {desired} replicas available"),
        );
    }
    for pod in &workload.pods {
        let pod_subject = format!("pod {}/{}", workload.namespace, pod.name);
        if let Some(reason) = pod.waiting_reason.as_deref().filter(|r| FAILING_WAITS.contains(r)) {
            assessment.raise(
                ComponentStatus::DegradedPerformance,
                &pod_subject,
                format!("waiting: {reason}"),
            );
        }
        if pod.last_termination_reason.as_deref() == Some("OOMKilled") {
            assessment.raise(
                ComponentStatus::DegradedPerformance,
                &pod_subject,
                "last exit: OOMKilled".to_owned(),
            );
        }
        if pod.restarts >= thresholds.restarts_degraded {
            assessment.raise(
                ComponentStatus::DegradedPerformance,
                &pod_subject,
                format!("{} restarts", pod.restarts),
            );
        }
        if let Some(node) = &pod.unready_node {
            assessment.raise(
                ComponentStatus::DegradedPerformance,
                &pod_subject,
                format!("on node {node}, which is NotReady"),
            );
        }
        if pod.phase == PodPhase::Pending && pod.age_secs > thresholds.pending_grace_secs {
            assessment.raise(
                ComponentStatus::DegradedPerformance,
                &pod_subject,
                format!("Pending for {} s", pod.age_secs),
            );
        }
    }
    assessment
}

/// The status of one node's component.
pub fn assess_node(node: &NodeObservation) -> Assessment {
    let mut assessment = Assessment::operational();
    let subject = format!("node {}", node.name);
    match node.ready {
        Some(true) => {}
        Some(false) => assessment.raise(ComponentStatus::MajorOutage, &subject, "NotReady".to_owned()),
        None => assessment.raise(
            ComponentStatus::MajorOutage,
            &subject,
            "NotReady: kubelet stopped reporting".to_owned(),
        ),
    }
    for (under, name) in [
        (node.memory_pressure, "MemoryPressure"),
        (node.disk_pressure, "DiskPressure"),
        (node.pid_pressure, "PIDPressure"),
    ] {
        if under {
            assessment.raise(ComponentStatus::DegradedPerformance, &subject, name.to_owned());
        }
    }
    if node.unschedulable {
        assessment.raise(
            ComponentStatus::UnderMaintenance,
            &subject,
            "cordoned: no new pods are scheduled".to_owned(),
        );
    }
    assessment
}

/// Rolls several assessments (a component's workloads) into one: the worst
/// status, and every reason.
pub fn roll_up(assessments: impl IntoIterator<Item = Assessment>) -> Assessment {
    assessments.into_iter().fold(Assessment::operational(), |mut all, one| {
        all.status = all.status.max(one.status);
        all.reasons.extend(one.reasons);
        all
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str) -> PodObservation {
        PodObservation {
            name: name.into(),
            phase: PodPhase::Running,
            ready: true,
            restarts: 0,
            waiting_reason: None,
            last_termination_reason: None,
            age_secs: 600,
            unready_node: None,
        }
    }

    fn workload(desired: u32, available: u32, pods: Vec<PodObservation>) -> WorkloadObservation {
        WorkloadObservation {
            kind: "deployment".into(),
            namespace: "shop".into(),
            name: "checkout".into(),
            desired,
            available,
            pods,
        }
    }

    fn node() -> NodeObservation {
        NodeObservation {
            name: "worker-1".into(),
            ready: Some(true),
            memory_pressure: false,
            disk_pressure: false,
            pid_pressure: false,
            unschedulable: false,
        }
    }

    #[test]
    fn a_workload_with_every_replica_available_is_operational() {
        let a = assess_workload(&workload(3, 3, vec![pod("a"), pod("b"), pod("c")]), &THRESHOLDS);
        assert_eq!(a, Assessment::operational());
    }

    #[test]
    fn none_available_of_at_least_one_desired_is_a_major_outage() {
        let a = assess_workload(&workload(3, 0, vec![]), &THRESHOLDS);
        assert_eq!(a.status, ComponentStatus::MajorOutage);
        assert_eq!(a.reasons[0].subject, "deployment shop/checkout");
        assert_eq!(a.reasons[0].detail, "0 of 3 replicas available");
    }

    #[test]
    fn fewer_available_than_desired_is_a_partial_outage() {
        let a = assess_workload(&workload(3, 2, vec![pod("a"), pod("b")]), &THRESHOLDS);
        assert_eq!(a.status, ComponentStatus::PartialOutage);
        assert_eq!(a.reasons[0].detail, "2 of 3 replicas available");
    }

    #[test]
    fn a_workload_scaled_to_zero_is_operational() {
        assert_eq!(
            assess_workload(&workload(0, 0, vec![]), &THRESHOLDS).status,
            ComponentStatus::Operational
        );
    }

    #[test]
    fn a_crash_looping_pod_degrades_its_workload_and_is_named() {
        let crashing = PodObservation {
            waiting_reason: Some("CrashLoopBackOff".into()),
            ready: false,
            ..pod("checkout-x")
        };
        let a = assess_workload(&workload(3, 3, vec![crashing]), &THRESHOLDS);
        assert_eq!(a.status, ComponentStatus::DegradedPerformance);
        assert_eq!(
            a.reasons[0],
            Reason { subject: "pod shop/checkout-x".into(), detail: "waiting: CrashLoopBackOff".into() }
        );
    }

    #[test]
    fn an_image_that_cannot_be_pulled_degrades_its_workload() {
        let pulling = PodObservation {
            waiting_reason: Some("ImagePullBackOff".into()),
            phase: PodPhase::Pending,
            ..pod("p")
        };
        assert_eq!(
            assess_workload(&workload(1, 1, vec![pulling]), &THRESHOLDS).status,
            ComponentStatus::DegradedPerformance
        );
    }

    #[test]
    fn a_benign_wait_does_not_degrade() {
        let creating = PodObservation { waiting_reason: Some("ContainerCreating".into()), ..pod("p") };
        assert_eq!(
            assess_workload(&workload(1, 1, vec![creating]), &THRESHOLDS).status,
            ComponentStatus::Operational
        );
    }

    #[test]
    fn an_oom_kill_degrades_its_workload() {
        let killed =
            PodObservation { last_termination_reason: Some("OOMKilled".into()), restarts: 1, ..pod("p") };
        let a = assess_workload(&workload(1, 1, vec![killed]), &THRESHOLDS);
        assert_eq!(a.status, ComponentStatus::DegradedPerformance);
        assert_eq!(a.reasons[0].detail, "last exit: OOMKilled");
    }

    #[test]
    fn restarts_degrade_from_the_threshold_on() {
        let below = PodObservation { restarts: THRESHOLDS.restarts_degraded - 1, ..pod("p") };
        let at = PodObservation { restarts: THRESHOLDS.restarts_degraded, ..pod("p") };
        assert_eq!(
            assess_workload(&workload(1, 1, vec![below]), &THRESHOLDS).status,
            ComponentStatus::Operational
        );
        assert_eq!(
            assess_workload(&workload(1, 1, vec![at]), &THRESHOLDS).status,
            ComponentStatus::DegradedPerformance
        );
    }

    #[test]
    fn pending_past_the_grace_period_degrades() {
        let young =
            PodObservation { phase: PodPhase::Pending, age_secs: THRESHOLDS.pending_grace_secs, ..pod("p") };
        let old = PodObservation {
            phase: PodPhase::Pending,
            age_secs: THRESHOLDS.pending_grace_secs + 1,
            ..pod("p")
        };
        assert_eq!(
            assess_workload(&workload(1, 1, vec![young]), &THRESHOLDS).status,
            ComponentStatus::Operational
        );
        assert_eq!(
            assess_workload(&workload(1, 1, vec![old]), &THRESHOLDS).status,
            ComponentStatus::DegradedPerformance
        );
    }

    #[test]
    fn an_outage_outranks_a_degraded_pod_and_keeps_both_reasons() {
        let crashing = PodObservation { waiting_reason: Some("CrashLoopBackOff".into()), ..pod("p") };
        let a = assess_workload(&workload(3, 1, vec![crashing]), &THRESHOLDS);
        assert_eq!(a.status, ComponentStatus::PartialOutage);
        assert_eq!(a.reasons.len(), 2);
    }

    #[test]
    fn a_pod_on_a_not_ready_node_degrades_its_workload_and_names_the_node() {
        let cut_off = PodObservation { unready_node: Some("worker-2".into()), ..pod("p") };
        let a = assess_workload(&workload(1, 1, vec![cut_off]), &THRESHOLDS);
        assert_eq!(a.status, ComponentStatus::DegradedPerformance);
        assert_eq!(a.reasons[0].subject, "pod shop/p");
        assert!(a.reasons[0].detail.contains("worker-2"), "{:?}", a.reasons);
    }

    #[test]
    fn a_ready_node_is_operational() {
        assert_eq!(assess_node(&node()), Assessment::operational());
    }

    #[test]
    fn a_not_ready_or_silent_node_is_a_major_outage() {
        assert_eq!(
            assess_node(&NodeObservation { ready: Some(false), ..node() }).status,
            ComponentStatus::MajorOutage
        );
        let silent = assess_node(&NodeObservation { ready: None, ..node() });
        assert_eq!(silent.status, ComponentStatus::MajorOutage);
        assert!(silent.reasons[0].detail.contains("stopped reporting"));
    }

    #[test]
    fn pressure_degrades_a_node_and_names_the_condition() {
        for (n, condition) in [
            (NodeObservation { memory_pressure: true, ..node() }, "MemoryPressure"),
            (NodeObservation { disk_pressure: true, ..node() }, "DiskPressure"),
            (NodeObservation { pid_pressure: true, ..node() }, "PIDPressure"),
        ] {
            let a = assess_node(&n);
            assert_eq!(a.status, ComponentStatus::DegradedPerformance);
            assert_eq!(a.reasons[0].detail, condition);
        }
    }

    #[test]
    fn a_cordoned_node_is_under_maintenance() {
        assert_eq!(
            assess_node(&NodeObservation { unschedulable: true, ..node() }).status,
            ComponentStatus::UnderMaintenance
        );
    }

    #[test]
    fn roll_up_takes_the_worst_status_in_statuspage_order() {
        use ComponentStatus::*;
        let order = [Operational, UnderMaintenance, DegradedPerformance, PartialOutage, MajorOutage];
        for pair in order.windows(2) {
            assert!(pair[0] < pair[1]);
            let rolled = roll_up([
                Assessment { status: pair[1], reasons: vec![] },
                Assessment { status: pair[0], reasons: vec![] },
            ]);
            assert_eq!(rolled.status, pair[1]);
        }
        assert_eq!(roll_up([]), Assessment::operational());
    }

    #[test]
    fn statuses_have_statuspage_names_and_words() {
        assert_eq!(ComponentStatus::DegradedPerformance.as_str(), "degraded_performance");
        assert_eq!(ComponentStatus::PartialOutage.label(), "Partial outage");
    }
}
