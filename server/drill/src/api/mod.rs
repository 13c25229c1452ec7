//! The drill cluster's HTTP layer: the Kubernetes REST API over the store.
//! Paths, verbs, query parameters and error bodies follow the real API server
//! closely enough that kubectl and kube-rs use it unchanged.

mod discovery;
pub mod status;
mod subresources;
mod watch;

use super::DrillCluster;
use super::fault_injection::{FaultError, FaultRequest};
use super::field_selector::FieldSelector;
use super::patch::{self, PatchType};
use super::resources::{self, Resource};
use super::store::Filter;
use super::table;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, extract::DefaultBodyLimit};
use domain::label_selector::LabelSelector;
use http::{HeaderMap, Method, StatusCode, Uri, header};
use serde_json::Value;
use status::ApiError;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

pub use discovery::KUBERNETES_VERSION;

/// The largest request body the API accepts, as a real server's 3 MiB.
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

pub fn router(cluster: Arc<DrillCluster>) -> Router {
    Router::new()
        .route("/version", get(|| async { Json(discovery::version()) }))
        .route("/livez", get(health))
        .route("/readyz", get(health))
        .route("/healthz", get(health))
        .route("/api", get(|| async { Json(discovery::core_versions()) }))
        .route("/apis", get(|| async { Json(discovery::group_list()) }))
        .route("/openapi/v3", get(|| async { Json(discovery::openapi_index()) }))
        .route("/drill/v1/faults", axum::routing::post(inject_fault).delete(clear_fault))
        .route("/metrics", get(metrics))
        .route("/openapi/v3/{*path}", get(openapi_document))
        .fallback(dispatch)
        .layer(DefaultBodyLimit::disable())
        .layer(from_fn_with_state(cluster.clone(), guard))
        .with_state(cluster)
}

/// Bearer-token authentication (health and version are public, as on a real
/// cluster) and the `api-down` fault.
async fn guard(State(cluster): State<Arc<DrillCluster>>, request: Request, next: Next) -> Response {
    // The drill's own controls stay reachable during an injected outage, so it can be cleared.
    if cluster.faults.api_down() && !request.uri().path().starts_with("/drill/") {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
        )
        .into_response();
    }
    let path = request.uri().path();
    let public = matches!(path, "/version" | "/livez" | "/readyz" | "/healthz");
    let authorised = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|token| token.trim() == cluster.token);
    if public || authorised {
        let access = super::access::Access::of(request.method(), path, request.uri().query());
        if let (true, super::access::Access::Resource { verb, group, resource, .. }) =
            (cluster.access.check(&access), &access)
        {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "Forbidden",
                format!(
                    "{resource} is forbidden: User \"system:serviceaccount:wheelhouse:wheelhouse\" cannot {verb} resource \"{resource}\" in API group \"{group}\""
                ),
            )
            .into_response();
        }
        next.run(request).await
    } else {
        ApiError::new(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized").into_response()
    }
}

/// `/metrics`: the objects in kube-state-metrics' names, for Prometheus.
async fn metrics(State(cluster): State<Arc<DrillCluster>>) -> Response {
    let text = crate::metrics::render(&cluster.store);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

/// `/livez`, `/readyz`, `/healthz`, with `?verbose` per-check lines.
async fn health(State(cluster): State<Arc<DrillCluster>>, uri: Uri) -> Response {
    let verbose =
        uri.query().is_some_and(|q| q.split('&').any(|p| p == "verbose" || p.starts_with("verbose=")));
    let checks = cluster.faults.health_checks(uri.path());
    let healthy = checks.iter().all(|(_, ok)| *ok);
    let code = if healthy { StatusCode::OK } else { StatusCode::INTERNAL_SERVER_ERROR };
    let name = uri.path().trim_start_matches('/');
    let body = if verbose || !healthy {
        let mut text: String = checks
            .iter()
            .map(|(check, ok)| {
                if *ok { format!("[+]{check} ok\n") } else { format!("[-]{check} failed: reason withheld\n") }
            })
            .collect();
        text.push_str(&if healthy {
            format!("{name} check passed\n")
        } else {
            format!("{name} check failed\n")
        });
        text
    } else {
        "ok".to_owned()
    };
    (code, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

async fn openapi_document(axum::extract::Path(path): axum::extract::Path<String>) -> Response {
    let segments: Vec<&str> = path.split('/').collect();
    let document = match segments.as_slice() {
        ["api", version] => discovery::openapi_document("", version),
        ["apis", group, version] => discovery::openapi_document(group, version),
        _ => None,
    };
    match document {
        Some(document) => Json(document).into_response(),
        None => ApiError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource",
        )
        .into_response(),
    }
}

/// `POST /drill/v1/faults` with a [`FaultRequest`]: injects a fault.
async fn inject_fault(
    State(cluster): State<Arc<DrillCluster>>,
    Json(request): Json<FaultRequest>,
) -> Response {
    fault_outcome(cluster.inject(&request), &request)
}

/// `DELETE /drill/v1/faults` with a [`FaultRequest`]: clears a fault.
async fn clear_fault(
    State(cluster): State<Arc<DrillCluster>>,
    Json(request): Json<FaultRequest>,
) -> Response {
    fault_outcome(cluster.clear(&request), &request)
}

fn fault_outcome(outcome: Result<String, FaultError>, request: &FaultRequest) -> Response {
    match outcome {
        Ok(message) => {
            tracing::info!(fault.kind = ?request.kind, fault.target = %request.target, "{message}");
            Json(serde_json::json!({"message": message})).into_response()
        }
        Err(error @ FaultError::NotFound(_)) => {
            ApiError::new(StatusCode::NOT_FOUND, "NotFound", error.to_string()).into_response()
        }
        Err(error) => ApiError::bad_request(error.to_string()).into_response(),
    }
}

/// Where a request points.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    /// `/api/v1` or `/apis/GROUP/VERSION`.
    GroupVersion {
        group: String,
        version: String,
    },
    /// `/apis/GROUP`.
    Group(String),
    Collection {
        resource: Resource,
        namespace: Option<String>,
    },
    Object {
        resource: Resource,
        namespace: Option<String>,
        name: String,
        sub: Option<String>,
    },
}

/// Parses an API path into a [`Target`]; `None` for paths that lead nowhere.
pub fn parse_path(path: &str) -> Option<Target> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let (group, version, rest) = match segments.as_slice() {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group] => return Some(Target::Group((*group).to_owned())),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return None,
    };
    let find = |plural: &str| resources::find(group, version, plural);
    match rest {
        [] => Some(Target::GroupVersion { group: group.to_owned(), version: version.to_owned() }),
        ["namespaces", ns, plural, tail @ ..] if find(plural).is_some_and(|r| r.namespaced) => {
            let resource = find(plural)?;
            let namespace = Some((*ns).to_owned());
            match tail {
                [] => Some(Target::Collection { resource, namespace }),
                [name] => Some(Target::Object { resource, namespace, name: (*name).to_owned(), sub: None }),
                [name, sub] => Some(Target::Object {
                    resource,
                    namespace,
                    name: (*name).to_owned(),
                    sub: Some((*sub).to_owned()),
                }),
                _ => None,
            }
        }
        [plural] => Some(Target::Collection { resource: find(plural)?, namespace: None }),
        [plural, name] => {
            let resource = find(plural).filter(|r| !r.namespaced)?;
            Some(Target::Object { resource, namespace: None, name: (*name).to_owned(), sub: None })
        }
        [plural, name, sub] => {
            let resource = find(plural).filter(|r| !r.namespaced)?;
            Some(Target::Object {
                resource,
                namespace: None,
                name: (*name).to_owned(),
                sub: Some((*sub).to_owned()),
            })
        }
        _ => None,
    }
}

/// Query parameters, last value wins.
pub struct Query(HashMap<String, String>);

impl Query {
    fn parse(uri: &Uri) -> Query {
        Query(
            serde_urlencoded::from_str::<Vec<(String, String)>>(uri.query().unwrap_or_default())
                .unwrap_or_default()
                .into_iter()
                .collect(),
        )
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }

    fn dry_run(&self) -> bool {
        self.get("dryRun").is_some_and(|v| v == "All")
    }

    fn filter(&self, namespace: Option<String>) -> Result<Filter, ApiError> {
        let labels = LabelSelector::parse(self.get("labelSelector").unwrap_or_default())
            .map_err(|e| ApiError::bad_request(format!("unable to parse requirement: {e}")))?;
        let fields = FieldSelector::parse(self.get("fieldSelector").unwrap_or_default())
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        Ok(Filter { namespace, labels, fields })
    }
}

fn wants_table(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("as=Table"))
}

/// The patch type the request's `Content-Type` names; 415 for any other.
fn patch_type(headers: &HeaderMap) -> Result<PatchType, ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    PatchType::from_content_type(content_type).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json; got '{content_type}'"),
        )
    })
}

async fn read_body(body: axum::body::Body) -> Result<Bytes, ApiError> {
    use futures_util::StreamExt;
    let mut stream = body.into_data_stream();
    let mut buffer = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| ApiError::bad_request("the request body could not be read"))?;
        total += chunk.len();
        if total <= MAX_BODY_BYTES {
            buffer.extend_from_slice(&chunk);
        } else if total > 8 * MAX_BODY_BYTES {
            break;
        }
    }
    if total > MAX_BODY_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            format!("the request is too large: limit is {MAX_BODY_BYTES}"),
        ));
    }
    Ok(Bytes::from(buffer))
}

fn parse_body(body: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the body could not be decoded as JSON: {e}")))
}

async fn dispatch(
    State(cluster): State<Arc<DrillCluster>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    // Read here rather than by an extractor, so an oversized body gets a
    // Status too. The rest of it is read and dropped (within a bound) before
    // answering, so the client is not cut off mid-send and sees the 413.
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    match handle(&cluster, &method, &uri, &headers, &body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn handle(
    cluster: &Arc<DrillCluster>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let not_found = || {
        ApiError::new(StatusCode::NOT_FOUND, "NotFound", "the server could not find the requested resource")
    };
    // The drill speaks JSON only: a protobuf or CBOR body gets 415, on which
    // clients (kubectl, client-go) send the request again as JSON.
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !body.is_empty() && (content_type.contains("protobuf") || content_type.contains("cbor")) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got {content_type})"
            ),
        ));
    }
    let target = parse_path(uri.path()).ok_or_else(not_found)?;
    let query = Query::parse(uri);
    let store = &cluster.store;
    match (target, method) {
        (Target::Group(group), &Method::GET) => {
            Ok(Json(discovery::group(&group).ok_or_else(not_found)?).into_response())
        }
        (Target::GroupVersion { group, version }, &Method::GET) => {
            Ok(Json(discovery::resource_list(&group, &version).ok_or_else(not_found)?).into_response())
        }
        (Target::Collection { resource, namespace }, &Method::GET) => {
            let filter = query.filter(namespace)?;
            if query.flag("watch") {
                let from = match query.get("resourceVersion").filter(|v| !v.is_empty()) {
                    Some(v) => Some(
                        v.parse::<u64>()
                            .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion '{v}'")))?,
                    ),
                    None => None,
                };
                let seconds = query.get("timeoutSeconds").and_then(|v| v.parse::<u64>().ok()).unwrap_or(1800);
                return Ok(watch::watch(
                    cluster.clone(),
                    watch::WatchRequest {
                        resource,
                        filter,
                        from,
                        timeout: Duration::from_secs(seconds.min(3600)),
                        bookmarks: query.flag("allowWatchBookmarks"),
                        as_table: wants_table(headers),
                    },
                ));
            }
            let limit = query.get("limit").and_then(|v| v.parse::<usize>().ok()).filter(|l| *l > 0);
            if wants_table(headers) {
                let page = store.list(resource, &filter, limit, query.get("continue"))?;
                let mut t = table::table(
                    &resource,
                    &page.items,
                    page.revision,
                    query.get("includeObject").unwrap_or("Metadata"),
                    store.now(),
                );
                if let Some(next) = &page.next {
                    t["metadata"]["continue"] = Value::from(next.clone());
                }
                return Ok(Json(t).into_response());
            }
            // Objects pass through as stored: the list is spliced, not re-encoded.
            let page = store.list_json(resource, &filter, limit, query.get("continue"))?;
            let mut metadata = serde_json::json!({"resourceVersion": page.revision.to_string()});
            if let Some(next) = page.next {
                metadata["continue"] = Value::from(next);
            }
            let mut body = String::with_capacity(page.items.iter().map(|i| i.len() + 1).sum::<usize>() + 256);
            body.push_str(&format!(
                r#"{{"kind":"{}","apiVersion":"{}","metadata":{metadata},"items":["#,
                resource.list_kind(),
                resource.api_version()
            ));
            for (i, item) in page.items.iter().enumerate() {
                if i > 0 {
                    body.push(',');
                }
                body.push_str(item);
            }
            body.push_str("]}");
            Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
        }
        (Target::Collection { resource, namespace }, &Method::POST) => {
            let object = parse_body(body)?;
            let created =
                store.create(resource, namespace.as_deref().unwrap_or_default(), object, query.dry_run())?;
            Ok((StatusCode::CREATED, Json(created)).into_response())
        }
        (Target::Collection { resource, namespace }, &Method::DELETE) => {
            let filter = query.filter(namespace)?;
            let page = store.list(resource, &filter, None, None)?;
            for item in &page.items {
                let _ = store.delete(
                    resource,
                    super::store::namespace_of(item),
                    super::store::name_of(item),
                    query.dry_run(),
                );
            }
            Ok(Json(serde_json::json!({
                "kind": resource.list_kind(), "apiVersion": resource.api_version(),
                "metadata": {"resourceVersion": store.revision().to_string()}, "items": page.items,
            }))
            .into_response())
        }
        (Target::Object { resource, namespace, name, sub }, _) => {
            let namespace = namespace.unwrap_or_default();
            match sub.as_deref() {
                None | Some("status") => {
                    object(cluster, resource, &namespace, &name, sub.is_some(), method, headers, &query, body)
                }
                Some("scale") if resource.has_subresource("scale") => {
                    subresources::scale(store, resource, &namespace, &name, method, headers, &query, body)
                }
                Some("eviction") if resource.has_subresource("eviction") && method == Method::POST => {
                    subresources::evict(cluster, &namespace, &name, &query, body)
                }
                Some("log") if resource.has_subresource("log") && method == Method::GET => {
                    subresources::log(store, &namespace, &name, &query)
                }
                _ => Err(not_found()),
            }
        }
        _ => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )),
    }
}

#[expect(clippy::too_many_arguments, reason = "one request's parts, passed through once")]
fn object(
    cluster: &DrillCluster,
    resource: Resource,
    namespace: &str,
    name: &str,
    status_only: bool,
    method: &Method,
    headers: &HeaderMap,
    query: &Query,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let store = &cluster.store;
    match *method {
        Method::GET => {
            let object = store.get(resource, namespace, name)?;
            if wants_table(headers) && !status_only {
                let t = table::table(
                    &resource,
                    &[object],
                    store.revision(),
                    query.get("includeObject").unwrap_or("Metadata"),
                    store.now(),
                );
                return Ok(Json(t).into_response());
            }
            Ok(Json(object).into_response())
        }
        Method::PUT => {
            let object = parse_body(body)?;
            Ok(Json(store.update(resource, namespace, name, object, status_only, query.dry_run())?)
                .into_response())
        }
        Method::PATCH => {
            let kind = patch_type(headers)?;
            let patch_body = parse_body(body)?;
            // As the real API server does, a patch is applied to the latest object and
            // retried when a controller wrote in between; only a patch that names a
            // resourceVersion itself can end in a conflict.
            let pinned = patch_body.pointer("/metadata/resourceVersion").is_some();
            let mut tries = 0;
            loop {
                let current = store.get(resource, namespace, name)?;
                let patched = patch::apply(kind, &current, &patch_body)
                    .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", e.to_string()))?;
                match store.update(resource, namespace, name, patched, status_only, query.dry_run()) {
                    Err(crate::store::StoreError::Conflict { .. }) if !pinned && tries < 10 => tries += 1,
                    result => return Ok(Json(result?).into_response()),
                }
            }
        }
        Method::DELETE => {
            let options: Value = if body.is_empty() { Value::Null } else { parse_body(body)? };
            let dry_run = query.dry_run()
                || options
                    .get("dryRun")
                    .and_then(Value::as_array)
                    .is_some_and(|v| v.iter().any(|d| d == "All"));
            let grace = query
                .get("gracePeriodSeconds")
                .and_then(|g| g.parse::<i64>().ok())
                .or_else(|| options.get("gracePeriodSeconds").and_then(Value::as_i64));
            Ok(Json(store.delete_gracefully(resource, namespace, name, grace, dry_run)?).into_response())
        }
        _ => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{DEPLOYMENTS, NAMESPACES, NODES, PODS};

    #[test]
    fn paths_resolve_to_collections_objects_and_subresources() {
        assert_eq!(
            parse_path("/api/v1/nodes"),
            Some(Target::Collection { resource: NODES, namespace: None })
        );
        assert_eq!(
            parse_path("/api/v1/namespaces/shop/pods"),
            Some(Target::Collection { resource: PODS, namespace: Some("shop".into()) })
        );
        assert_eq!(
            parse_path("/apis/apps/v1/namespaces/shop/deployments/web/scale"),
            Some(Target::Object {
                resource: DEPLOYMENTS,
                namespace: Some("shop".into()),
                name: "web".into(),
                sub: Some("scale".into())
            })
        );
        assert_eq!(
            parse_path("/api/v1/namespaces/shop"),
            Some(Target::Object { resource: NAMESPACES, namespace: None, name: "shop".into(), sub: None })
        );
        assert_eq!(
            parse_path("/api/v1/namespaces/shop/status"),
            Some(Target::Object {
                resource: NAMESPACES,
                namespace: None,
                name: "shop".into(),
                sub: Some("status".into())
            })
        );
        assert_eq!(parse_path("/api/v1/pods"), Some(Target::Collection { resource: PODS, namespace: None }));
    }

    #[test]
    fn unknown_paths_lead_nowhere() {
        assert_eq!(parse_path("/api/v1/widgets"), None);
        assert_eq!(parse_path("/api/v1/pods/web-1"), None, "pods are namespaced");
        assert_eq!(parse_path("/apis/apps/v2/deployments"), None);
        assert_eq!(parse_path("/metrics"), None);
    }
}
