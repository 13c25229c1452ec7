//! The API server's own health checks (`/livez?verbose`, `/readyz?verbose`):
//! reading their text, and what they say about kube-apiserver and etcd.

use super::health::{Assessment, ComponentStatus};
use serde::{Deserialize, Serialize};

/// One endpoint's answer: whether it passed, and each named check.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    pub passed: bool,
    pub checks: Vec<Check>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
}

impl CheckReport {
    /// Reads the verbose text (`[+]etcd ok`, `[-]etcd failed: reason withheld`);
    /// `passed` is the HTTP outcome (2xx).
    pub fn parse(passed: bool, text: &str) -> CheckReport {
        let checks = text
            .lines()
            .filter_map(|line| {
                let (ok, rest) = if let Some(rest) = line.strip_prefix("[+]") {
                    (true, rest)
                } else {
                    (false, line.strip_prefix("[-]")?)
                };
                let name = rest.split_whitespace().next()?;
                Some(Check { name: name.to_owned(), ok })
            })
            .collect();
        CheckReport { passed, checks }
    }

    pub fn failing(&self) -> impl Iterator<Item = &str> {
        self.checks.iter().filter(|c| !c.ok).map(|c| c.name.as_str())
    }
}

/// The latest `/livez` and `/readyz` answers; `None` until the first one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlPlaneChecks {
    pub livez: Option<CheckReport>,
    pub readyz: Option<CheckReport>,
}

impl ControlPlaneChecks {
    fn reports(&self) -> impl Iterator<Item = (&'static str, &CheckReport)> {
        [("livez", self.livez.as_ref()), ("readyz", self.readyz.as_ref())]
            .into_iter()
            .filter_map(|(name, report)| report.map(|r| (name, r)))
    }

    /// kube-apiserver: failing `/livez` is a major outage, failing `/readyz`
    /// a partial one; the etcd check is left to etcd's own component.
    pub fn assess_apiserver(&self) -> Assessment {
        let mut assessment = Assessment::operational();
        for (endpoint, report) in self.reports() {
            let failing: Vec<&str> = report.failing().filter(|c| *c != "etcd").collect();
            if report.passed || failing.is_empty() {
                continue;
            }
            let status = if endpoint == "livez" {
                ComponentStatus::MajorOutage
            } else {
                ComponentStatus::PartialOutage
            };
            assessment.raise(
                status,
                &format!("/{endpoint}"),
                format!("failing checks: {}", failing.join(", ")),
            );
        }
        assessment
    }

    /// etcd: its check failing on either endpoint is a major outage.
    pub fn assess_etcd(&self) -> Assessment {
        let mut assessment = Assessment::operational();
        for (endpoint, report) in self.reports() {
            if report.failing().any(|c| c == "etcd") {
                assessment.raise(
                    ComponentStatus::MajorOutage,
                    &format!("/{endpoint}"),
                    "check etcd failed".to_owned(),
                );
            }
        }
        assessment
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEALTHY: &str = "[+]ping ok\n[+]etcd ok\n[+]informer-sync ok\nreadyz check passed\n";
    const ETCD_DOWN: &str = "[+]ping ok\n[-]etcd failed: reason withheld\nreadyz check failed\n";
    const INFORMERS: &str = "[+]ping ok\n[+]etcd ok\n[-]informer-sync failed: reason withheld\n";

    fn checks(livez: (bool, &str), readyz: (bool, &str)) -> ControlPlaneChecks {
        ControlPlaneChecks {
            livez: Some(CheckReport::parse(livez.0, livez.1)),
            readyz: Some(CheckReport::parse(readyz.0, readyz.1)),
        }
    }

    #[test]
    fn verbose_output_is_read_check_by_check() {
        let report = CheckReport::parse(false, ETCD_DOWN);
        assert_eq!(report.checks.len(), 2);
        assert_eq!(report.failing().collect::<Vec<_>>(), ["etcd"]);
    }

    #[test]
    fn passing_checks_leave_both_components_operational() {
        let c = checks((true, HEALTHY), (true, HEALTHY));
        assert_eq!(c.assess_apiserver(), Assessment::operational());
        assert_eq!(c.assess_etcd(), Assessment::operational());
    }

    #[test]
    fn a_failing_etcd_check_is_an_etcd_major_outage_not_an_apiserver_one() {
        let c = checks((false, ETCD_DOWN), (false, ETCD_DOWN));
        assert_eq!(c.assess_etcd().status, ComponentStatus::MajorOutage);
        assert_eq!(c.assess_etcd().reasons[0].detail, "check etcd failed");
        assert_eq!(c.assess_apiserver(), Assessment::operational());
    }

    #[test]
    fn readyz_failing_its_own_checks_is_a_partial_apiserver_outage() {
        let c = checks((true, HEALTHY), (false, INFORMERS));
        let a = c.assess_apiserver();
        assert_eq!(a.status, ComponentStatus::PartialOutage);
        assert_eq!(a.reasons[0].subject, "/readyz");
        assert!(a.reasons[0].detail.contains("informer-sync"));
    }

    #[test]
    fn livez_failing_is_a_major_apiserver_outage() {
        let c = checks((false, INFORMERS), (true, HEALTHY));
        assert_eq!(c.assess_apiserver().status, ComponentStatus::MajorOutage);
    }

    #[test]
    fn no_answer_yet_is_no_evidence_either_way() {
        assert_eq!(ControlPlaneChecks::default().assess_apiserver(), Assessment::operational());
    }
}
