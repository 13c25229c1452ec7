//! Events like the real components write them: one object per distinct
//! (object, reason, message), its count and lastTimestamp bumped on repeats.

use crate::field_selector::FieldSelector;
use crate::resources::EVENTS;
use crate::store::{Filter, Store, name_of, namespace_of, timestamp, uid_of};
use serde_json::{Value, json};

/// Records an event about `object`, from `component`.
pub fn emit(store: &Store, object: &Value, kind: &str, reason: &str, message: &str, component: &str) {
    let namespace = match namespace_of(object) {
        "" => "default",
        ns => ns,
    };
    let now = timestamp(store.now());
    let selector = format!("involvedObject.uid={},reason={reason}", uid_of(object));
    let filter = Filter {
        namespace: Some(namespace.to_owned()),
        fields: FieldSelector::parse(&selector).unwrap_or_default(),
        ..Filter::default()
    };
    let existing = store
        .list(EVENTS, &filter, None, None)
        .ok()
        .and_then(|page| page.items.into_iter().find(|e| e["message"] == message));
    if let Some(mut event) = existing {
        let count = event["count"].as_i64().unwrap_or(1) + 1;
        event["count"] = json!(count);
        event["lastTimestamp"] = json!(now);
        let _ = store.update(EVENTS, namespace, name_of(&event).to_owned().as_str(), event, false, false);
        return;
    }
    let event = json!({
        "metadata": {"generateName": format!("{}.", name_of(object)), "namespace": namespace},
        "involvedObject": {
            "kind": object["kind"], "namespace": object.pointer("/metadata/namespace"), "name": name_of(object),
            "uid": uid_of(object), "apiVersion": object["apiVersion"], "resourceVersion": object.pointer("/metadata/resourceVersion"),
        },
        "reason": reason, "message": message, "type": kind, "count": 1,
        "source": {"component": component}, "firstTimestamp": now, "lastTimestamp": now,
        "reportingComponent": component, "reportingInstance": "",
    });
    let _ = store.create(EVENTS, namespace, event, false);
}
