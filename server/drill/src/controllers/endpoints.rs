//! The endpoints controller: each Service with a selector gets an Endpoints
//! object listing its ready pods' addresses (and the not-ready ones apart).

use crate::disruption::is_healthy;
use crate::resources::{ENDPOINTS, PODS, SERVICES};
use crate::selector::from_json;
use crate::store::{Filter, Store, name_of, namespace_of, uid_of};
use serde_json::{Value, json};

pub fn reconcile(store: &Store) -> bool {
    let mut changed = false;
    for service in store.list(SERVICES, &Filter::default(), None, None).map(|p| p.items).unwrap_or_default() {
        let Some(selector) =
            service.pointer("/spec/selector").filter(|s| s.as_object().is_some_and(|m| !m.is_empty()))
        else {
            continue;
        };
        let ns = namespace_of(&service).to_owned();
        let filter = Filter {
            namespace: Some(ns.clone()),
            labels: from_json(&json!({"matchLabels": selector})),
            ..Filter::default()
        };
        let pods = store.list(PODS, &filter, None, None).map(|p| p.items).unwrap_or_default();
        let address = |pod: &Value| {
            json!({
                "ip": pod.pointer("/status/podIP"), "nodeName": pod.pointer("/spec/nodeName"),
                "targetRef": {"kind": "Pod", "namespace": ns, "name": name_of(pod), "uid": uid_of(pod)},
            })
        };
        let with_ip: Vec<&Value> = pods.iter().filter(|p| p.pointer("/status/podIP").is_some()).collect();
        let ready: Vec<Value> = with_ip.iter().filter(|p| is_healthy(p)).map(|p| address(p)).collect();
        let not_ready: Vec<Value> = with_ip.iter().filter(|p| !is_healthy(p)).map(|p| address(p)).collect();
        let ports: Vec<Value> = service
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|p| json!({"name": p["name"], "port": p.get("targetPort").cloned().unwrap_or(p["port"].clone()), "protocol": p.get("protocol").cloned().unwrap_or(json!("TCP"))}))
            .collect();
        let mut subset = json!({"ports": ports});
        if !ready.is_empty() {
            subset["addresses"] = json!(ready);
        }
        if !not_ready.is_empty() {
            subset["notReadyAddresses"] = json!(not_ready);
        }
        let subsets = if ready.is_empty() && not_ready.is_empty() { json!([]) } else { json!([subset]) };
        let mut wanted = json!({
            "metadata": {"name": name_of(&service), "namespace": ns, "labels": service.pointer("/metadata/labels").cloned().unwrap_or(json!({}))},
            "subsets": subsets,
        });
        crate::store::strip_nulls(&mut wanted);
        match store.get(ENDPOINTS, &ns, name_of(&service)) {
            Ok(current) if current["subsets"] == wanted["subsets"] => {}
            Ok(mut current) => {
                current["subsets"] = wanted["subsets"].take();
                changed |= store.update(ENDPOINTS, &ns, name_of(&service), current, false, false).is_ok();
            }
            Err(_) => changed |= store.create(ENDPOINTS, &ns, wanted, false).is_ok(),
        }
    }
    changed
}
