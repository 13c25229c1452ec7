//! What a real API server's authorizer sees: each request as a verb on a
//! resource (or a non-resource URL). The drill can record them all (so a test
//! can check Wheelhouse's requests against `deploy/kubernetes/base/rbac.yaml`) and can deny
//! chosen verbs on chosen resources with 403, as a missing RBAC rule would.

use super::api::{Target, parse_path};
use http::Method;
use serde::Serialize;
use std::sync::Mutex;

/// One request as RBAC sees it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Access {
    Resource {
        verb: String,
        group: String,
        /// `pods`, or `pods/eviction` for a subresource.
        resource: String,
        namespace: Option<String>,
    },
    NonResource {
        verb: String,
        path: String,
    },
}

impl Access {
    /// The request as an authorizer reads it.
    pub fn of(method: &Method, path: &str, query: Option<&str>) -> Access {
        let verb_for_path = |verb: &str| Access::NonResource { verb: verb.to_owned(), path: path.to_owned() };
        let http_verb = match *method {
            Method::GET | Method::HEAD => "get",
            Method::POST => "post",
            Method::PUT => "put",
            Method::PATCH => "patch",
            Method::DELETE => "delete",
            _ => "unknown",
        };
        match parse_path(path) {
            Some(Target::Collection { resource, namespace }) => {
                let watch = query.is_some_and(|q| q.split('&').any(|p| p == "watch=true" || p == "watch=1"));
                let verb = match *method {
                    Method::GET if watch => "watch",
                    Method::GET | Method::HEAD => "list",
                    Method::POST => "create",
                    Method::DELETE => "deletecollection",
                    _ => http_verb,
                };
                Access::Resource {
                    verb: verb.to_owned(),
                    group: resource.group.to_owned(),
                    resource: resource.plural.to_owned(),
                    namespace,
                }
            }
            Some(Target::Object { resource, namespace, sub, .. }) => {
                let verb = match *method {
                    Method::GET | Method::HEAD => "get",
                    Method::POST => "create",
                    Method::PUT => "update",
                    Method::PATCH => "patch",
                    Method::DELETE => "delete",
                    _ => http_verb,
                };
                let group = resource.group.to_owned();
                let resource = match sub {
                    Some(sub) => format!("{}/{sub}", resource.plural),
                    None => resource.plural.to_owned(),
                };
                Access::Resource { verb: verb.to_owned(), group, resource, namespace }
            }
            _ => verb_for_path(http_verb),
        }
    }
}

/// The recorder and the denials.
#[derive(Debug, Default)]
pub struct AccessControl {
    recorded: Mutex<Option<Vec<Access>>>,
    /// (verb, resource) pairs answered 403.
    denied: Mutex<Vec<(String, String)>>,
}

impl AccessControl {
    /// Starts recording every request (again from empty).
    pub fn record(&self) {
        *self.recorded.lock().unwrap_or_else(|e| e.into_inner()) = Some(Vec::new());
    }

    /// What was recorded so far.
    pub fn recorded(&self) -> Vec<Access> {
        self.recorded.lock().unwrap_or_else(|e| e.into_inner()).clone().unwrap_or_default()
    }

    /// Answers `verb` on `resource` (e.g. "patch", "nodes") with 403 from now on.
    pub fn deny(&self, verb: &str, resource: &str) {
        self.denied.lock().unwrap_or_else(|e| e.into_inner()).push((verb.to_owned(), resource.to_owned()));
    }

    pub fn allow_all(&self) {
        self.denied.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Records the request and says whether it is denied.
    pub fn check(&self, access: &Access) -> bool {
        if let Some(recorded) = self.recorded.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            recorded.push(access.clone());
        }
        match access {
            Access::Resource { verb, resource, .. } => self
                .denied
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .any(|(v, r)| v == verb && r == resource),
            Access::NonResource { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_read_as_verbs_on_resources() {
        assert_eq!(
            Access::of(&Method::GET, "/api/v1/pods", Some("watch=true&resourceVersion=5")),
            Access::Resource {
                verb: "watch".into(),
                group: "".into(),
                resource: "pods".into(),
                namespace: None
            }
        );
        assert_eq!(
            Access::of(&Method::POST, "/api/v1/namespaces/shop/pods/web-1/eviction", None),
            Access::Resource {
                verb: "create".into(),
                group: "".into(),
                resource: "pods/eviction".into(),
                namespace: Some("shop".into())
            }
        );
        assert_eq!(
            Access::of(&Method::PATCH, "/apis/apps/v1/namespaces/shop/deployments/web/scale", None),
            Access::Resource {
                verb: "patch".into(),
                group: "apps".into(),
                resource: "deployments/scale".into(),
                namespace: Some("shop".into())
            }
        );
        assert_eq!(
            Access::of(&Method::GET, "/readyz", Some("verbose")),
            Access::NonResource { verb: "get".into(), path: "/readyz".into() }
        );
    }

    #[test]
    fn a_denied_verb_is_refused_and_everything_is_recorded() {
        let control = AccessControl::default();
        control.record();
        control.deny("patch", "nodes");
        let patch = Access::of(&Method::PATCH, "/api/v1/nodes/worker-1", None);
        let get = Access::of(&Method::GET, "/api/v1/nodes/worker-1", None);
        assert!(control.check(&patch));
        assert!(!control.check(&get));
        assert_eq!(control.recorded().len(), 2);
    }
}
