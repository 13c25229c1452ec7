//! The resource types the drill cluster serves, as discovery describes them.

/// One resource type (`pods`, `deployments`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Resource {
    /// API group; empty for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    /// Subresources: `status`, `scale`, `eviction`, `log`.
    pub subresources: &'static [&'static str],
    /// Whether `kubectl get all` includes it.
    pub in_all: bool,
}

impl Resource {
    /// `v1` for core, `apps/v1` otherwise.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    pub fn has_subresource(&self, name: &str) -> bool {
        self.subresources.contains(&name)
    }
}

const fn core(
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    subresources: &'static [&'static str],
    in_all: bool,
) -> Resource {
    Resource {
        group: "",
        version: "v1",
        plural,
        singular,
        kind,
        namespaced,
        short_names,
        subresources,
        in_all,
    }
}

const fn grouped(
    group: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    short_names: &'static [&'static str],
    subresources: &'static [&'static str],
    in_all: bool,
) -> Resource {
    Resource {
        group,
        version: "v1",
        plural,
        singular,
        kind,
        namespaced: true,
        short_names,
        subresources,
        in_all,
    }
}

/// A cluster-scoped resource of a named group (ClusterRole, ClusterRoleBinding).
const fn cluster_grouped(
    group: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
) -> Resource {
    Resource { namespaced: false, ..grouped(group, plural, singular, kind, &[], &[], false) }
}

const RBAC: &str = "rbac.authorization.k8s.io";

pub const NAMESPACES: Resource =
    core("namespaces", "namespace", "Namespace", false, &["ns"], &["status"], false);
pub const NODES: Resource = core("nodes", "node", "Node", false, &["no"], &["status"], false);
pub const PODS: Resource = core("pods", "pod", "Pod", true, &["po"], &["status", "eviction", "log"], true);
pub const SERVICES: Resource = core("services", "service", "Service", true, &["svc"], &["status"], true);
pub const ENDPOINTS: Resource = core("endpoints", "endpoints", "Endpoints", true, &["ep"], &[], false);
pub const EVENTS: Resource = core("events", "event", "Event", true, &["ev"], &[], false);
pub const DEPLOYMENTS: Resource =
    grouped("apps", "deployments", "deployment", "Deployment", &["deploy"], &["status", "scale"], true);
pub const REPLICASETS: Resource =
    grouped("apps", "replicasets", "replicaset", "ReplicaSet", &["rs"], &["status", "scale"], true);
pub const STATEFULSETS: Resource =
    grouped("apps", "statefulsets", "statefulset", "StatefulSet", &["sts"], &["status", "scale"], true);
pub const DAEMONSETS: Resource =
    grouped("apps", "daemonsets", "daemonset", "DaemonSet", &["ds"], &["status"], true);
pub const CONTROLLER_REVISIONS: Resource =
    grouped("apps", "controllerrevisions", "controllerrevision", "ControllerRevision", &[], &[], false);
pub const PDBS: Resource = grouped(
    "policy",
    "poddisruptionbudgets",
    "poddisruptionbudget",
    "PodDisruptionBudget",
    &["pdb"],
    &["status"],
    false,
);
pub const NETWORK_POLICIES: Resource = grouped(
    "networking.k8s.io",
    "networkpolicies",
    "networkpolicy",
    "NetworkPolicy",
    &["netpol"],
    &[],
    false,
);
pub const LEASES: Resource = grouped("coordination.k8s.io", "leases", "lease", "Lease", &[], &[], false);
pub const EVENTS_V1: Resource = grouped("events.k8s.io", "events", "event", "Event", &["ev"], &[], false);
pub const CONFIG_MAPS: Resource = core("configmaps", "configmap", "ConfigMap", true, &["cm"], &[], false);
pub const SECRETS: Resource = core("secrets", "secret", "Secret", true, &[], &[], false);
pub const SERVICE_ACCOUNTS: Resource =
    core("serviceaccounts", "serviceaccount", "ServiceAccount", true, &["sa"], &[], false);
pub const PVCS: Resource = core(
    "persistentvolumeclaims",
    "persistentvolumeclaim",
    "PersistentVolumeClaim",
    true,
    &["pvc"],
    &["status"],
    false,
);
pub const INGRESSES: Resource =
    grouped("networking.k8s.io", "ingresses", "ingress", "Ingress", &["ing"], &["status"], false);
pub const CLUSTER_ROLES: Resource = cluster_grouped(RBAC, "clusterroles", "clusterrole", "ClusterRole");
pub const CLUSTER_ROLE_BINDINGS: Resource =
    cluster_grouped(RBAC, "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding");
pub const ROLES: Resource = grouped(RBAC, "roles", "role", "Role", &[], &[], false);
pub const ROLE_BINDINGS: Resource =
    grouped(RBAC, "rolebindings", "rolebinding", "RoleBinding", &[], &[], false);

/// Everything served, in discovery order.
pub const ALL: &[Resource] = &[
    NAMESPACES,
    NODES,
    PODS,
    SERVICES,
    ENDPOINTS,
    EVENTS,
    DEPLOYMENTS,
    REPLICASETS,
    STATEFULSETS,
    DAEMONSETS,
    CONTROLLER_REVISIONS,
    PDBS,
    NETWORK_POLICIES,
    LEASES,
    EVENTS_V1,
    CONFIG_MAPS,
    SECRETS,
    SERVICE_ACCOUNTS,
    PVCS,
    INGRESSES,
    CLUSTER_ROLES,
    CLUSTER_ROLE_BINDINGS,
    ROLES,
    ROLE_BINDINGS,
];

/// The API groups other than core, each with its one version.
pub const GROUPS: &[&str] =
    &["apps", "policy", "networking.k8s.io", "coordination.k8s.io", "events.k8s.io", RBAC];

/// The resource served at `group`/`version`/`plural`.
pub fn find(group: &str, version: &str, plural: &str) -> Option<Resource> {
    ALL.iter().copied().find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// The resources of one group version, for discovery.
pub fn in_group(group: &str, version: &str) -> Vec<Resource> {
    ALL.iter().copied().filter(|r| r.group == group && r.version == version).collect()
}

/// Events are stored once and served by both the core and events.k8s.io APIs;
/// this maps a resource to the one its objects are stored under.
pub fn storage_of(resource: Resource) -> Resource {
    if resource == EVENTS_V1 { EVENTS } else { resource }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_group_serves_at_least_one_resource() {
        for group in GROUPS {
            assert!(!in_group(group, "v1").is_empty(), "{group}");
        }
    }

    #[test]
    fn resources_are_found_by_group_version_and_plural() {
        assert_eq!(find("apps", "v1", "deployments"), Some(DEPLOYMENTS));
        assert_eq!(find("", "v1", "pods").map(|r| r.api_version()), Some("v1".to_owned()));
        assert_eq!(find("apps", "v1beta1", "deployments"), None);
    }

    #[test]
    fn short_names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for r in ALL.iter().filter(|r| r.group != "events.k8s.io") {
            for s in r.short_names {
                assert!(seen.insert(*s), "{s} used twice");
            }
        }
    }
}
