//! Discovery: `/version`, `/api`, `/apis` and the resource list of each group
//! version, in the legacy (non-aggregated) form that kubectl and kube fall
//! back to when the server answers plain JSON.

use crate::resources::{self, Resource};
use serde_json::{Value, json};

pub const KUBERNETES_VERSION: &str = "v1.32.4";

pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "gitVersion": format!("{KUBERNETES_VERSION}+wheelhouse-drill"),
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-11-01T00:00:00Z",
        "goVersion": "go1.23.8",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

pub fn core_versions() -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
    })
}

pub fn group_list() -> Value {
    let groups: Vec<Value> = resources::GROUPS
        .iter()
        .map(|group| {
            let gv = json!({"groupVersion": format!("{group}/v1"), "version": "v1"});
            json!({"name": group, "versions": [gv.clone()], "preferredVersion": gv})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub fn group(group: &str) -> Option<Value> {
    resources::GROUPS.contains(&group).then(|| {
        let gv = json!({"groupVersion": format!("{group}/v1"), "version": "v1"});
        json!({"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": [gv.clone()], "preferredVersion": gv})
    })
}

fn verbs(resource: &Resource) -> Vec<&'static str> {
    let mut verbs = vec!["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
    if resource.kind == "Node" || resource.kind == "Namespace" {
        verbs.retain(|v| *v != "deletecollection");
    }
    verbs
}

pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    let found = resources::in_group(group, version);
    if found.is_empty() {
        return None;
    }
    let mut list = Vec::new();
    for r in &found {
        let mut entry = json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": verbs(r),
            "storageVersionHash": "",
        });
        if !r.short_names.is_empty() {
            entry["shortNames"] = json!(r.short_names);
        }
        if r.in_all {
            entry["categories"] = json!(["all"]);
        }
        list.push(entry);
        for sub in r.subresources {
            let entry = match *sub {
                "status" => {
                    json!({"name": format!("{}/status", r.plural), "singularName": "", "namespaced": r.namespaced, "kind": r.kind, "verbs": ["get", "patch", "update"]})
                }
                "scale" => {
                    json!({"name": format!("{}/scale", r.plural), "singularName": "", "namespaced": r.namespaced, "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]})
                }
                "eviction" => {
                    json!({"name": format!("{}/eviction", r.plural), "singularName": "", "namespaced": r.namespaced, "group": "policy", "version": "v1", "kind": "Eviction", "verbs": ["create"]})
                }
                "log" => {
                    json!({"name": format!("{}/log", r.plural), "singularName": "", "namespaced": r.namespaced, "kind": "Pod", "verbs": ["get"]})
                }
                _ => continue,
            };
            list.push(entry);
        }
    }
    let group_version = if group.is_empty() { version.to_owned() } else { format!("{group}/{version}") };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": list}),
    )
}

/// `/openapi/v3`: where each group version's document is.
pub fn openapi_index() -> Value {
    let mut paths = serde_json::Map::new();
    let mut add = |gv_path: String| {
        let url = format!("/openapi/v3/{gv_path}?hash={}", KUBERNETES_VERSION.replace('.', ""));
        paths.insert(gv_path, json!({"serverRelativeURL": url}));
    };
    add("api/v1".into());
    for group in resources::GROUPS {
        add(format!("apis/{group}/v1"));
    }
    json!({"paths": paths})
}

/// `/openapi/v3/api/v1`, `/openapi/v3/apis/GROUP/v1`: the operations of each
/// resource with their group-version-kind and query parameters. kubectl reads
/// them to learn that the server validates fields itself (`fieldValidation`),
/// so it sends objects without validating them against a local schema.
pub fn openapi_document(group: &str, version: &str) -> Option<Value> {
    let found = resources::in_group(group, version);
    if found.is_empty() {
        return None;
    }
    let prefix =
        if group.is_empty() { format!("/api/{version}") } else { format!("/apis/{group}/{version}") };
    let parameter =
        |name: &str| json!({"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": true}});
    let mut paths = serde_json::Map::new();
    for r in found {
        let gvk = json!({"group": r.group, "version": r.version, "kind": r.kind});
        let mutating = |verb: &str| {
            json!({
                "operationId": format!("{verb}{}", r.kind),
                "x-kubernetes-action": verb,
                "x-kubernetes-group-version-kind": gvk,
                "parameters": [parameter("dryRun"), parameter("fieldManager"), parameter("fieldValidation")],
                "responses": {"200": {"description": "OK"}},
            })
        };
        let read = json!({"x-kubernetes-action": "get", "x-kubernetes-group-version-kind": gvk, "responses": {"200": {"description": "OK"}}});
        let (collection, item) = if r.namespaced {
            (
                format!("{prefix}/namespaces/{{namespace}}/{}", r.plural),
                format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", r.plural),
            )
        } else {
            (format!("{prefix}/{}", r.plural), format!("{prefix}/{}/{{name}}", r.plural))
        };
        paths.insert(collection, json!({"get": read, "post": mutating("post")}));
        paths.insert(item, json!({"get": read, "put": mutating("put"), "patch": mutating("patch"), "delete": mutating("delete")}));
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (Wheelhouse drill cluster)", "version": KUBERNETES_VERSION},
        "paths": paths,
        "components": {"schemas": {}},
    }))
}
