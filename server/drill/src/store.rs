//! The drill cluster's object store: every object as JSON, keyed by resource,
//! namespace and name, with the bookkeeping a real API server does —
//! resourceVersion, uid, creationTimestamp, generation, optimistic concurrency,
//! cascading deletion through ownerReferences, dry runs — and a bounded history
//! of changes for watches (older versions answer 410 Gone).

use super::field_selector::FieldSelector;
use super::resources::{self, Resource};
use domain::label_selector::LabelSelector;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::broadcast;

/// Changes kept for watches that resume from an older resourceVersion.
pub const HISTORY_LEN: usize = 50_000;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Key {
    resource: Resource,
    namespace: String,
    name: String,
}

/// A receiver of every change committed after it was made.
pub type Subscription = broadcast::Receiver<Arc<Change>>;

/// What a watch reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as watches see it.
#[derive(Clone, Debug)]
pub struct Change {
    pub revision: u64,
    pub resource: Resource,
    pub namespace: String,
    pub kind: EventType,
    pub object: Stored,
    /// The version before this change, if the object existed: watches with
    /// selectors use it to tell an object entering or leaving their selection.
    pub previous: Option<Stored>,
}

/// An object as the store keeps it: its compact JSON text, shared with the
/// watch history, plus the labels and owner uids that selectors and cascading
/// deletion look at, so those need no parsing. Far smaller than a parsed tree.
#[derive(Clone, Debug)]
pub struct Stored {
    json: Arc<str>,
    labels: Arc<BTreeMap<String, String>>,
    owners: Arc<[String]>,
}

impl Stored {
    fn new(object: &Value) -> Stored {
        let owners = object
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .map(|refs| {
                refs.iter().filter_map(|r| r.get("uid").and_then(Value::as_str).map(str::to_owned)).collect()
            })
            .unwrap_or_default();
        Stored {
            json: serde_json::to_string(object).unwrap_or_default().into(),
            labels: Arc::new(labels_of(object)),
            owners,
        }
    }

    /// The object, parsed.
    pub fn value(&self) -> Value {
        serde_json::from_str(&self.json).unwrap_or(Value::Null)
    }

    /// The object's JSON text, as stored.
    pub fn json(&self) -> &str {
        &self.json
    }

    fn owned_by(&self, uid: &str) -> bool {
        self.owners.iter().any(|o| o == uid)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("{kind} \"{name}\" not found")]
    NotFound { kind: String, name: String },
    #[error("{kind} \"{name}\" already exists")]
    AlreadyExists { kind: String, name: String },
    #[error(
        "Operation cannot be fulfilled on {plural} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
    )]
    Conflict { plural: String, name: String },
    #[error("{kind} \"{name}\" is invalid: {reason}")]
    Invalid { kind: String, name: String, reason: String },
    #[error("namespaces \"{0}\" not found")]
    NamespaceNotFound(String),
    #[error("too old resource version: {requested} ({oldest})")]
    Gone { requested: u64, oldest: u64 },
    #[error("{0}")]
    BadRequest(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which objects a list or watch wants.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Filter {
    /// Whether a stored object matches, parsing it only for field selectors.
    pub fn matches_stored(&self, key_namespace: &str, object: &Stored) -> bool {
        let namespace_ok = self.namespace.as_deref().is_none_or(|ns| ns == key_namespace);
        namespace_ok
            && (self.labels.is_empty() || self.labels.matches(&object.labels))
            && (self.fields.is_empty() || self.fields.matches(&object.value()))
    }

    pub fn matches(&self, object: &Value) -> bool {
        let namespace_ok = self
            .namespace
            .as_deref()
            .is_none_or(|ns| object.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns));
        namespace_ok && self.labels.matches(&labels_of(object)) && self.fields.matches(object)
    }
}

/// A page of a list: parsed objects, or their stored JSON text.
#[derive(Clone, Debug)]
pub struct Page<T = Value> {
    pub items: Vec<T>,
    pub revision: u64,
    /// Set when more items follow: pass it back as `continue`.
    pub next: Option<String>,
}

/// The labels of an object, as a map.
pub fn labels_of(object: &Value) -> BTreeMap<String, String> {
    object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned()))).collect())
        .unwrap_or_default()
}

/// What the API server does to some kinds on every write: a Secret's
/// `stringData` is merged into `data` (base64), its `data` must be base64 and
/// its `type` defaults to `Opaque`; a claim needs access modes and a size.
fn admit(resource: Resource, object: &mut Value) -> Result<()> {
    use base64::Engine;
    let base64 = base64::engine::general_purpose::STANDARD;
    let invalid = |object: &Value, reason: String| StoreError::Invalid {
        kind: resource.kind.into(),
        name: name_of(object).to_owned(),
        reason,
    };
    match resource.kind {
        "Secret" => {
            if let Some(Value::Object(plain)) = object.as_object_mut().and_then(|o| o.remove("stringData")) {
                if !object.get("data").is_some_and(Value::is_object) {
                    object["data"] = json!({});
                }
                for (key, value) in plain {
                    let text = value.as_str().unwrap_or_default().to_owned();
                    object["data"][key.as_str()] = json!(base64.encode(text));
                }
            }
            // Decoded and stored canonically; line breaks inside the base64 are
            // ignored, as the API server's decoder does (Kustomize folds long values).
            let data = object.get("data").and_then(Value::as_object).cloned().unwrap_or_default();
            for (key, value) in data {
                let text: String =
                    value.as_str().unwrap_or("!").chars().filter(|c| !matches!(c, '\n' | '\r')).collect();
                let Ok(bytes) = base64.decode(text) else {
                    return Err(invalid(object, format!("data[{key}]: Invalid value: illegal base64 data")));
                };
                object["data"][key.as_str()] = json!(base64.encode(bytes));
            }
            if object.get("type").is_none() {
                object["type"] = json!("Opaque");
            }
        }
        "PersistentVolumeClaim" => {
            if object.pointer("/spec/accessModes").and_then(Value::as_array).is_none_or(Vec::is_empty) {
                return Err(invalid(
                    object,
                    "spec.accessModes: Required value: at least 1 access mode is required".into(),
                ));
            }
            if object.pointer("/spec/resources/requests/storage").is_none() {
                return Err(invalid(object, "spec.resources[storage]: Required value".into()));
            }
        }
        _ => {}
    }
    Ok(())
}

pub fn name_of(object: &Value) -> &str {
    object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default()
}

pub fn namespace_of(object: &Value) -> &str {
    object.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default()
}

pub fn uid_of(object: &Value) -> &str {
    object.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or_default()
}

/// The time in RFC 3339 at second precision, as Kubernetes writes timestamps.
pub fn timestamp(at: time::OffsetDateTime) -> String {
    let at = at.replace_nanosecond(0).unwrap_or(at);
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

struct Inner {
    objects: BTreeMap<Key, Stored>,
    revision: u64,
    history: VecDeque<Arc<Change>>,
    generated: u64,
}

/// The store. Cheap to share behind an `Arc`.
pub struct Store {
    inner: Mutex<Inner>,
    history_len: usize,
    changes: broadcast::Sender<Arc<Change>>,
    clock: Box<dyn Fn() -> time::OffsetDateTime + Send + Sync>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("revision", &self.revision()).finish_non_exhaustive()
    }
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

fn key_of(resource: Resource, namespace: &str, name: &str) -> Key {
    let resource = resources::storage_of(resource);
    let namespace = if resource.namespaced { namespace.to_owned() } else { String::new() };
    Key { resource, namespace, name: name.to_owned() }
}

fn random_uid() -> String {
    let hex: String = rand::random::<[u8; 16]>().iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-4{}-a{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
}

/// Drops `null` fields, as decoding into the API's typed objects does on a
/// real server (e.g. the `creationTimestamp: null` kubectl sends in templates).
pub fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

fn metadata_mut(object: &mut Value) -> &mut Map<String, Value> {
    if !object.get("metadata").is_some_and(Value::is_object) {
        object["metadata"] = json!({});
    }
    object["metadata"].as_object_mut().expect("metadata is an object")
}

impl Store {
    pub fn new() -> Store {
        Store::with_history(HISTORY_LEN)
    }

    /// A store that keeps only the last `history_len` changes for watches.
    pub fn with_history(history_len: usize) -> Store {
        let (changes, _) = broadcast::channel(16_384);
        Store {
            inner: Mutex::new(Inner {
                objects: BTreeMap::new(),
                revision: 1,
                history: VecDeque::new(),
                generated: 0,
            }),
            history_len: history_len.max(1),
            changes,
            clock: Box::new(time::OffsetDateTime::now_utc),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn now(&self) -> time::OffsetDateTime {
        (self.clock)()
    }

    /// The store's current resourceVersion.
    pub fn revision(&self) -> u64 {
        self.lock().revision
    }

    pub fn get(&self, resource: Resource, namespace: &str, name: &str) -> Result<Value> {
        self.lock()
            .objects
            .get(&key_of(resource, namespace, name))
            .map(Stored::value)
            .ok_or_else(|| StoreError::NotFound { kind: resource.plural.to_owned(), name: name.to_owned() })
    }

    /// Lists matching objects in (namespace, name) order, at most `limit` at a
    /// time when a limit is given, from after the `continue` token.
    pub fn list(
        &self,
        resource: Resource,
        filter: &Filter,
        limit: Option<usize>,
        from: Option<&str>,
    ) -> Result<Page> {
        self.list_as(resource, filter, limit, from, Stored::value)
    }

    /// Like [`Store::list`], with the stored JSON text of each item, for
    /// answers that pass objects through unchanged.
    pub fn list_json(
        &self,
        resource: Resource,
        filter: &Filter,
        limit: Option<usize>,
        from: Option<&str>,
    ) -> Result<Page<Arc<str>>> {
        self.list_as(resource, filter, limit, from, |stored| stored.json.clone())
    }

    fn list_as<T>(
        &self,
        resource: Resource,
        filter: &Filter,
        limit: Option<usize>,
        from: Option<&str>,
        item: impl Fn(&Stored) -> T,
    ) -> Result<Page<T>> {
        let inner = self.lock();
        let resource = resources::storage_of(resource);
        let after = match from {
            Some(token) if !token.is_empty() => Some(decode_continue(token)?),
            _ => None,
        };
        let namespace = filter.namespace.clone().filter(|_| resource.namespaced);
        // Start after the continue token's key, or at the first key of the
        // resource (and namespace): both are one B-tree seek.
        let start = match &after {
            Some((ns, name)) => Bound::Excluded(Key { resource, namespace: ns.clone(), name: name.clone() }),
            None => Bound::Included(Key {
                resource,
                namespace: namespace.clone().unwrap_or_default(),
                name: String::new(),
            }),
        };
        let mut items = Vec::new();
        let mut next = None;
        let mut last_key: Option<(String, String)> = None;
        for (key, object) in inner.objects.range((start, Bound::Unbounded)) {
            if key.resource != resource {
                break;
            }
            if let Some(ns) = namespace.as_deref()
                && key.namespace != ns
            {
                break;
            }
            if !filter.matches_stored(&key.namespace, object) {
                continue;
            }
            if limit.is_some_and(|l| items.len() >= l) {
                // One more match exists: hand out a token and stop, so each
                // page costs its own length, not the rest of the list.
                let last = last_key.take();
                next = last.map(|(ns, name)| encode_continue(&ns, &name));
                break;
            }
            items.push(item(object));
            last_key = Some((key.namespace.clone(), key.name.clone()));
        }
        Ok(Page { items, revision: inner.revision, next })
    }

    /// Objects of `resource` whose ownerReferences name `owner_uid`.
    pub fn owned_by(&self, resource: Resource, namespace: &str, owner_uid: &str) -> Vec<Value> {
        let filter = Filter { namespace: Some(namespace.to_owned()), ..Filter::default() };
        self.list(resource, &filter, None, None)
            .map(|page| page.items.into_iter().filter(|o| is_owned_by(o, owner_uid)).collect())
            .unwrap_or_default()
    }

    /// Creates an object, filling in what the server owns. `generateName` is honoured.
    pub fn create(
        &self,
        resource: Resource,
        namespace: &str,
        mut object: Value,
        dry_run: bool,
    ) -> Result<Value> {
        let mut inner = self.lock();
        let kind = resource.kind;
        if !object.is_object() {
            return Err(StoreError::BadRequest("the body must be a JSON object".into()));
        }
        strip_nulls(&mut object);
        admit(resource, &mut object)?;
        object["apiVersion"] = json!(resource.api_version());
        object["kind"] = json!(kind);
        let now = timestamp(self.now());
        let generated = inner.generated;
        let meta = metadata_mut(&mut object);
        let mut name = meta.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
        if name.is_empty() {
            let prefix = meta.get("generateName").and_then(Value::as_str).unwrap_or_default().to_owned();
            if prefix.is_empty() {
                return Err(StoreError::Invalid {
                    kind: kind.into(),
                    name: String::new(),
                    reason: "metadata.name: Required value: name or generateName is required".into(),
                });
            }
            name = format!("{prefix}{}", generated_suffix(generated));
            meta.insert("name".into(), json!(name));
        }
        validate_name(kind, &name, resource)?;
        if resource.namespaced {
            let ns = meta.get("namespace").and_then(Value::as_str).unwrap_or(namespace).to_owned();
            let ns = if ns.is_empty() { namespace.to_owned() } else { ns };
            if ns != namespace && !namespace.is_empty() {
                return Err(StoreError::BadRequest(format!(
                    "the namespace of the provided object ({ns}) does not match the namespace sent on the request ({namespace})"
                )));
            }
            meta.insert("namespace".into(), json!(ns));
        } else {
            meta.remove("namespace");
        }
        let ns = meta.get("namespace").and_then(Value::as_str).unwrap_or_default().to_owned();
        meta.insert("uid".into(), json!(random_uid()));
        meta.insert("creationTimestamp".into(), json!(now));
        meta.insert("generation".into(), json!(1));
        meta.remove("deletionTimestamp");
        meta.remove("managedFields");
        if resource.namespaced && !inner.objects.contains_key(&key_of(resources::NAMESPACES, "", &ns)) {
            return Err(StoreError::NamespaceNotFound(ns));
        }
        let key = key_of(resource, &ns, &name);
        if inner.objects.contains_key(&key) {
            return Err(StoreError::AlreadyExists { kind: resource.plural.into(), name });
        }
        inner.generated += 1;
        if dry_run {
            metadata_mut(&mut object).insert("resourceVersion".into(), json!(inner.revision.to_string()));
            return Ok(object);
        }
        Ok(self.commit(&mut inner, key, object, EventType::Added))
    }

    /// Replaces an object. A `resourceVersion` in the body must match the
    /// stored one (409 otherwise). For the main resource the status is kept; for
    /// the `status` subresource only the status changes.
    pub fn update(
        &self,
        resource: Resource,
        namespace: &str,
        name: &str,
        mut object: Value,
        status_only: bool,
        dry_run: bool,
    ) -> Result<Value> {
        let mut inner = self.lock();
        let key = key_of(resource, namespace, name);
        let current = inner.objects.get(&key).map(Stored::value).ok_or_else(|| StoreError::NotFound {
            kind: resource.plural.to_owned(),
            name: name.to_owned(),
        })?;
        if !object.is_object() {
            return Err(StoreError::BadRequest("the body must be a JSON object".into()));
        }
        strip_nulls(&mut object);
        let sent_version =
            object.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or_default();
        let current_version =
            current.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or_default();
        if !sent_version.is_empty() && sent_version != current_version {
            return Err(StoreError::Conflict { plural: resource.plural.into(), name: name.into() });
        }
        let sent_name = name_of(&object);
        if !sent_name.is_empty() && sent_name != name {
            return Err(StoreError::BadRequest(format!(
                "the name of the object ({sent_name}) does not match the name on the URL ({name})"
            )));
        }
        let merged = if status_only {
            let mut next = current.clone();
            next["status"] = object.get("status").cloned().unwrap_or(Value::Null);
            next
        } else {
            admit(resource, &mut object)?;
            object["apiVersion"] = json!(resource.api_version());
            object["kind"] = json!(resource.kind);
            if resource.has_subresource("status") {
                match current.get("status") {
                    Some(status) => object["status"] = status.clone(),
                    None => {
                        object.as_object_mut().map(|o| o.remove("status"));
                    }
                }
            }
            // The server owns identity and bookkeeping fields.
            let current_meta = current["metadata"].clone();
            let meta = metadata_mut(&mut object);
            for field in ["uid", "creationTimestamp", "namespace", "name", "generation", "deletionTimestamp"]
            {
                match current_meta.get(field) {
                    Some(v) => meta.insert(field.into(), v.clone()),
                    None => meta.remove(field),
                };
            }
            meta.remove("managedFields");
            if object.get("spec") != current.get("spec") {
                let generation = current.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(1);
                metadata_mut(&mut object).insert("generation".into(), json!(generation + 1));
            }
            object
        };
        if merged == current {
            return Ok(current);
        }
        if dry_run {
            return Ok(merged);
        }
        Ok(self.commit(&mut inner, key, merged, EventType::Modified))
    }

    /// Deletes an object and, in the background as a real garbage collector
    /// would, everything that names it as owner.
    pub fn delete(&self, resource: Resource, namespace: &str, name: &str, dry_run: bool) -> Result<Value> {
        let mut inner = self.lock();
        let key = key_of(resource, namespace, name);
        let object = inner.objects.get(&key).map(Stored::value).ok_or_else(|| StoreError::NotFound {
            kind: resource.plural.to_owned(),
            name: name.to_owned(),
        })?;
        if dry_run {
            return Ok(object);
        }
        let mut doomed = vec![key];
        let mut result = None;
        while let Some(key) = doomed.pop() {
            let Some(stored) = inner.objects.remove(&key) else { continue };
            let object = stored.value();
            let uid = uid_of(&object).to_owned();
            let ns = key.namespace.clone();
            doomed.extend(
                inner
                    .objects
                    .iter()
                    .filter(|(k, o)| (k.namespace == ns || !k.resource.namespaced) && o.owned_by(&uid))
                    .map(|(k, _)| k.clone()),
            );
            if key.resource == resources::NAMESPACES {
                doomed.extend(
                    inner
                        .objects
                        .keys()
                        .filter(|k| k.resource.namespaced && k.namespace == key.name)
                        .cloned(),
                );
            }
            let (deleted, _) = self.record(&mut inner, &key, object, EventType::Deleted, Some(stored));
            result.get_or_insert(deleted);
        }
        Ok(result.unwrap_or(object))
    }

    /// Deletes a pod the way the API server does when a grace period applies:
    /// a pod bound to a node is only marked (`deletionTimestamp`) and the
    /// kubelet removes it once its containers have stopped; anything else, or
    /// a grace period of 0, is deleted at once.
    pub fn delete_gracefully(
        &self,
        resource: Resource,
        namespace: &str,
        name: &str,
        grace_seconds: Option<i64>,
        dry_run: bool,
    ) -> Result<Value> {
        let current = self.get(resource, namespace, name)?;
        let bound = current.pointer("/spec/nodeName").and_then(Value::as_str).is_some_and(|n| !n.is_empty());
        let grace = grace_seconds
            .or_else(|| current.pointer("/spec/terminationGracePeriodSeconds").and_then(Value::as_i64))
            .unwrap_or(30);
        if resources::storage_of(resource) != resources::PODS || !bound || grace <= 0 {
            return self.delete(resource, namespace, name, dry_run);
        }
        if current.pointer("/metadata/deletionTimestamp").is_some_and(|v| !v.is_null()) {
            return Ok(current);
        }
        let mut marked = current;
        let at = self.now() + time::Duration::seconds(grace);
        metadata_mut(&mut marked).insert("deletionTimestamp".into(), json!(timestamp(at)));
        metadata_mut(&mut marked).insert("deletionGracePeriodSeconds".into(), json!(grace));
        if dry_run {
            return Ok(marked);
        }
        let mut inner = self.lock();
        let key = key_of(resource, namespace, name);
        Ok(self.commit(&mut inner, key, marked, EventType::Modified))
    }

    /// The changes after `revision` that match, and a receiver for those to come.
    /// 410 Gone when the history no longer reaches back that far.
    pub fn watch_from(&self, resource: Resource, revision: u64) -> Result<(Vec<Arc<Change>>, Subscription)> {
        let inner = self.lock();
        let resource = resources::storage_of(resource);
        let oldest = inner.history.front().map_or(inner.revision, |c| c.revision);
        if revision + 1 < oldest && revision < inner.revision {
            return Err(StoreError::Gone { requested: revision, oldest });
        }
        let backlog = inner
            .history
            .iter()
            .filter(|c| c.revision > revision && c.resource == resource)
            .cloned()
            .collect();
        Ok((backlog, self.changes.subscribe()))
    }

    /// The matching objects now and a receiver for every change after them,
    /// taken under one lock so that no change falls between the two.
    pub fn list_and_watch(&self, resource: Resource, filter: &Filter) -> (Vec<Value>, u64, Subscription) {
        let inner = self.lock();
        let resource = resources::storage_of(resource);
        let items = inner
            .objects
            .iter()
            .filter(|(k, o)| k.resource == resource && filter.matches_stored(&k.namespace, o))
            .map(|(_, o)| o.value())
            .collect();
        (items, inner.revision, self.changes.subscribe())
    }

    fn commit(&self, inner: &mut Inner, key: Key, object: Value, kind: EventType) -> Value {
        let previous = inner.objects.get(&key).cloned();
        let (object, stored) = self.record(inner, &key, object, kind, previous);
        inner.objects.insert(key, stored);
        object
    }

    /// Stamps a new resourceVersion on `object`, keeps the change in the history
    /// and tells the watchers.
    fn record(
        &self,
        inner: &mut Inner,
        key: &Key,
        mut object: Value,
        kind: EventType,
        previous: Option<Stored>,
    ) -> (Value, Stored) {
        inner.revision += 1;
        let revision = inner.revision;
        metadata_mut(&mut object).insert("resourceVersion".into(), json!(revision.to_string()));
        let stored = Stored::new(&object);
        let change = Arc::new(Change {
            revision,
            resource: key.resource,
            namespace: key.namespace.clone(),
            kind,
            object: stored.clone(),
            previous,
        });
        if inner.history.len() >= self.history_len {
            inner.history.pop_front();
        }
        inner.history.push_back(change.clone());
        let _ = self.changes.send(change);
        (object, stored)
    }
}

/// Whether `object` lists `owner_uid` among its ownerReferences.
pub fn is_owned_by(object: &Value, owner_uid: &str) -> bool {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| refs.iter().any(|r| r.get("uid").and_then(Value::as_str) == Some(owner_uid)))
}

fn generated_suffix(n: u64) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(0x2545_F491);
    (0..5)
        .map(|_| {
            let c = ALPHABET[(x % ALPHABET.len() as u64) as usize] as char;
            x /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

/// Names are DNS subdomains (lowercase alphanumerics, `-` and `.`, at most 253).
fn validate_name(kind: &str, name: &str, resource: Resource) -> Result<()> {
    let ok = name.len() <= 253
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    // Events are named `<object>.<hex>` and nodes may carry dots; both pass the rule above.
    let _ = resource;
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            kind: kind.into(),
            name: name.into(),
            reason: format!(
                "metadata.name: Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
            ),
        })
    }
}

fn encode_continue(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}").bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_continue(token: &str) -> Result<(String, String)> {
    let invalid = || StoreError::BadRequest(format!("invalid continue token '{token}'"));
    if !token.len().is_multiple_of(2) {
        return Err(invalid());
    }
    let bytes: Vec<u8> = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&token[i..i + 2], 16))
        .collect::<Result<_, _>>()
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (ns, name) = text.split_once('/').ok_or_else(invalid)?;
    Ok((ns.to_owned(), name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{DEPLOYMENTS, NAMESPACES, NODES, PODS, REPLICASETS};

    fn store_with_namespace(ns: &str) -> Store {
        let store = Store::new();
        store.create(NAMESPACES, "", json!({"metadata": {"name": ns}}), false).unwrap();
        store
    }

    fn pod(name: &str, labels: Value) -> Value {
        json!({"metadata": {"name": name, "labels": labels}, "spec": {"containers": [{"name": "app", "image": "app:1"}]}})
    }

    #[test]
    fn creating_fills_in_what_the_server_owns() {
        let store = store_with_namespace("shop");
        let created = store.create(PODS, "shop", pod("web-1", json!({})), false).unwrap();
        assert_eq!(created["apiVersion"], "v1");
        assert_eq!(created["kind"], "Pod");
        assert_eq!(created["metadata"]["namespace"], "shop");
        assert_eq!(created["metadata"]["generation"], 1);
        assert_eq!(uid_of(&created).len(), 36);
        assert!(created["metadata"]["creationTimestamp"].as_str().unwrap().ends_with('Z'));
        assert_eq!(created["metadata"]["resourceVersion"], store.revision().to_string());
    }

    #[test]
    fn creating_twice_is_a_conflict_and_an_unknown_namespace_is_refused() {
        let store = store_with_namespace("shop");
        store.create(PODS, "shop", pod("web-1", json!({})), false).unwrap();
        assert!(matches!(
            store.create(PODS, "shop", pod("web-1", json!({})), false),
            Err(StoreError::AlreadyExists { .. })
        ));
        assert_eq!(
            store.create(PODS, "nowhere", pod("web-1", json!({})), false),
            Err(StoreError::NamespaceNotFound("nowhere".into()))
        );
    }

    #[test]
    fn an_invalid_name_is_refused() {
        let store = store_with_namespace("shop");
        assert!(matches!(
            store.create(PODS, "shop", pod("Web_1", json!({})), false),
            Err(StoreError::Invalid { .. })
        ));
    }

    #[test]
    fn generate_name_makes_distinct_names() {
        let store = store_with_namespace("shop");
        let a = store.create(PODS, "shop", json!({"metadata": {"generateName": "web-"}}), false).unwrap();
        let b = store.create(PODS, "shop", json!({"metadata": {"generateName": "web-"}}), false).unwrap();
        assert!(name_of(&a).starts_with("web-"));
        assert_ne!(name_of(&a), name_of(&b));
    }

    #[test]
    fn a_stale_resource_version_is_a_conflict() {
        let store = store_with_namespace("shop");
        let created = store.create(PODS, "shop", pod("web-1", json!({})), false).unwrap();
        let mut first = created.clone();
        first["metadata"]["labels"] = json!({"a": "1"});
        store.update(PODS, "shop", "web-1", first, false, false).unwrap();
        let mut stale = created;
        stale["metadata"]["labels"] = json!({"a": "2"});
        assert!(matches!(
            store.update(PODS, "shop", "web-1", stale, false, false),
            Err(StoreError::Conflict { .. })
        ));
    }

    #[test]
    fn generation_counts_spec_changes_only() {
        let store = store_with_namespace("shop");
        let created = store
            .create(DEPLOYMENTS, "shop", json!({"metadata": {"name": "web"}, "spec": {"replicas": 1}}), false)
            .unwrap();
        let mut labelled = created.clone();
        labelled["metadata"]["labels"] = json!({"a": "1"});
        let labelled = store.update(DEPLOYMENTS, "shop", "web", labelled, false, false).unwrap();
        assert_eq!(labelled["metadata"]["generation"], 1);
        let mut scaled = labelled;
        scaled["spec"]["replicas"] = json!(3);
        let scaled = store.update(DEPLOYMENTS, "shop", "web", scaled, false, false).unwrap();
        assert_eq!(scaled["metadata"]["generation"], 2);
    }

    #[test]
    fn the_main_resource_keeps_its_status_and_the_status_subresource_changes_only_status() {
        let store = store_with_namespace("shop");
        let created = store.create(PODS, "shop", pod("web-1", json!({})), false).unwrap();
        let mut with_status = created.clone();
        with_status["status"] = json!({"phase": "Running"});
        with_status["spec"]["nodeName"] = json!("ignored");
        let updated = store.update(PODS, "shop", "web-1", with_status, true, false).unwrap();
        assert_eq!(updated["status"]["phase"], "Running");
        assert!(updated["spec"].get("nodeName").is_none());
        let mut main = updated.clone();
        main["status"] = json!({"phase": "Failed"});
        main["metadata"]["labels"] = json!({"x": "y"});
        let main = store.update(PODS, "shop", "web-1", main, false, false).unwrap();
        assert_eq!(main["status"]["phase"], "Running");
    }

    #[test]
    fn null_fields_are_dropped_as_a_typed_decode_would() {
        let store = store_with_namespace("shop");
        let created = store
            .create(
                PODS,
                "shop",
                json!({"metadata": {"name": "web-1", "creationTimestamp": null, "labels": {"a": null}}}),
                false,
            )
            .unwrap();
        assert_eq!(created["metadata"]["labels"], json!({}));
        assert!(created["metadata"]["creationTimestamp"].is_string());
    }

    #[test]
    fn a_dry_run_changes_nothing() {
        let store = store_with_namespace("shop");
        let before = store.revision();
        store.create(PODS, "shop", pod("web-1", json!({})), true).unwrap();
        assert!(store.get(PODS, "shop", "web-1").is_err());
        assert_eq!(store.revision(), before);
    }

    #[test]
    fn lists_filter_by_namespace_and_labels_and_page_with_continue() {
        let store = store_with_namespace("shop");
        store.create(NAMESPACES, "", json!({"metadata": {"name": "search"}}), false).unwrap();
        for i in 0..5 {
            store.create(PODS, "shop", pod(&format!("web-{i}"), json!({"app": "web"})), false).unwrap();
        }
        store.create(PODS, "shop", pod("db-0", json!({"app": "db"})), false).unwrap();
        store.create(PODS, "search", pod("web-9", json!({"app": "web"})), false).unwrap();

        let web = Filter { labels: LabelSelector::parse("app=web").unwrap(), ..Filter::default() };
        let all = store.list(PODS, &web, None, None).unwrap();
        assert_eq!(all.items.len(), 6);

        let in_shop = Filter { namespace: Some("shop".into()), ..web.clone() };
        let first = store.list(PODS, &in_shop, Some(2), None).unwrap();
        assert_eq!(first.items.iter().map(name_of).collect::<Vec<_>>(), ["web-0", "web-1"]);
        let second = store.list(PODS, &in_shop, Some(2), first.next.as_deref()).unwrap();
        assert_eq!(second.items.iter().map(name_of).collect::<Vec<_>>(), ["web-2", "web-3"]);
        let third = store.list(PODS, &in_shop, Some(2), second.next.as_deref()).unwrap();
        assert_eq!(third.items.iter().map(name_of).collect::<Vec<_>>(), ["web-4"]);
        assert!(third.next.is_none());
    }

    #[test]
    fn deleting_an_owner_deletes_what_it_owns() {
        let store = store_with_namespace("shop");
        let deploy = store.create(DEPLOYMENTS, "shop", json!({"metadata": {"name": "web"}}), false).unwrap();
        let owner = |o: &Value| json!([{"apiVersion": "apps/v1", "kind": "X", "name": name_of(o), "uid": uid_of(o), "controller": true}]);
        let rs = store
            .create(
                REPLICASETS,
                "shop",
                json!({"metadata": {"name": "web-1", "ownerReferences": owner(&deploy)}}),
                false,
            )
            .unwrap();
        store
            .create(
                PODS,
                "shop",
                json!({"metadata": {"name": "web-1-a", "ownerReferences": owner(&rs)}}),
                false,
            )
            .unwrap();
        store.create(PODS, "shop", pod("other", json!({})), false).unwrap();
        store.delete(DEPLOYMENTS, "shop", "web", false).unwrap();
        assert!(store.get(REPLICASETS, "shop", "web-1").is_err());
        assert!(store.get(PODS, "shop", "web-1-a").is_err());
        assert!(store.get(PODS, "shop", "other").is_ok());
    }

    #[test]
    fn watches_replay_changes_after_a_version_and_refuse_compacted_ones() {
        let store = store_with_namespace("shop");
        let from = store.revision();
        store.create(PODS, "shop", pod("web-1", json!({})), false).unwrap();
        store.create(NODES, "", json!({"metadata": {"name": "node-1"}}), false).unwrap();
        store.delete(PODS, "shop", "web-1", false).unwrap();
        let (backlog, _rx) = store.watch_from(PODS, from).unwrap();
        let kinds: Vec<_> = backlog.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, [EventType::Added, EventType::Deleted]);

        let store_small = Store::with_history(10);
        store_small.create(NAMESPACES, "", json!({"metadata": {"name": "shop"}}), false).unwrap();
        let from = store_small.revision();
        store_small.create(PODS, "shop", pod("web-1", json!({})), false).unwrap();
        for i in 0..11 {
            store_small.create(NODES, "", json!({"metadata": {"name": format!("n-{i}")}}), false).unwrap();
        }
        assert!(matches!(store_small.watch_from(PODS, from), Err(StoreError::Gone { .. })));
        for i in 0..3 {
            store.create(NODES, "", json!({"metadata": {"name": format!("n-{i}")}}), false).unwrap();
        }
        assert!(store.watch_from(PODS, from).is_ok(), "a long history still reaches back");
    }
}
