//! Dynamic provisioning, as a default StorageClass does it: every pending
//! PersistentVolumeClaim gets a volume of the size it asks for and is Bound.

use super::events::emit;
use crate::resources::PVCS;
use crate::store::{Filter, Store, name_of, namespace_of, uid_of};
use serde_json::{Value, json};

pub fn reconcile(store: &Store) -> bool {
    let claims = store.list(PVCS, &Filter::default(), None, None).map(|p| p.items).unwrap_or_default();
    let mut changed = false;
    for claim in claims {
        if claim.pointer("/status/phase").and_then(Value::as_str) == Some("Bound") {
            continue;
        }
        let (namespace, name) = (namespace_of(&claim).to_owned(), name_of(&claim).to_owned());
        let volume = format!("pvc-{}", uid_of(&claim));
        let mut next = claim.clone();
        next["spec"]["volumeName"] = json!(volume);
        next["spec"].as_object_mut().map(|spec| spec.entry("storageClassName").or_insert(json!("standard")));
        let Ok(mut bound) = store.update(PVCS, &namespace, &name, next, false, false) else { continue };
        bound["status"] = json!({
            "phase": "Bound",
            "accessModes": claim.pointer("/spec/accessModes").cloned().unwrap_or(json!([])),
            "capacity": {"storage": claim.pointer("/spec/resources/requests/storage").cloned().unwrap_or(json!("1Gi"))},
        });
        if store.update(PVCS, &namespace, &name, bound, true, false).is_ok() {
            emit(
                store,
                &claim,
                "Normal",
                "ProvisioningSucceeded",
                &format!("Successfully provisioned volume {volume}"),
                "standard-provisioner",
            );
            changed = true;
        }
    }
    changed
}
