//! What the live pages show (dashboard, cluster, component admin), the server
//! functions that load it, and the port the server implements to provide it
//! from its in-memory cluster state and database.

use crate::domain::component::{ComponentForm, ComponentKey, ComponentKind, Visibility};
use crate::domain::connection::Link;
use crate::domain::control_plane::ControlPlaneChecks;
use crate::domain::health::{ComponentStatus, Reason};
#[cfg(feature = "ssr")]
use crate::domain::role::Role;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The link to the cluster, with the server's clock at the time of reading,
/// so that ages are computed against the same clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterLink {
    pub link: Link,
    pub since: i64,
    pub last_contact: Option<i64>,
    pub now: i64,
}

impl ClusterLink {
    pub fn is_stale(&self) -> bool {
        self.link != Link::Connected
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentTile {
    pub key: ComponentKey,
    pub name: String,
    pub description: String,
    pub kind: ComponentKind,
    pub visibility: Visibility,
    pub status: ComponentStatus,
    pub reasons: Vec<Reason>,
    /// When the current status began (milliseconds since the Unix epoch).
    pub since: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TileGroup {
    pub name: String,
    pub tiles: Vec<ComponentTile>,
    /// Operational components left out to keep a large group readable.
    pub operational_hidden: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardData {
    pub link: ClusterLink,
    /// `false` until the first full sync with the cluster.
    pub evaluated: bool,
    pub groups: Vec<TileGroup>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRow {
    pub name: String,
    pub status: ComponentStatus,
    pub conditions: Vec<String>,
    pub cordoned: bool,
    pub pods: usize,
    pub cpu: String,
    pub memory: String,
    pub max_pods: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadRow {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub desired: u32,
    pub ready: u32,
    pub available: u32,
    pub restarts: u32,
    pub image: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarningRow {
    pub namespace: String,
    pub object: String,
    pub reason: String,
    pub message: String,
    pub count: u32,
    pub last_seen: i64,
}

/// How many rows of each table the cluster page shows at most.
pub const CLUSTER_PAGE_ROWS: usize = 200;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterOverview {
    pub link: ClusterLink,
    /// Nodes with problems first.
    pub nodes: Vec<NodeRow>,
    pub node_total: usize,
    /// Workloads short of their desired count first.
    pub workloads: Vec<WorkloadRow>,
    pub workload_total: usize,
    /// Newest first.
    pub warnings: Vec<WarningRow>,
    pub checks: ControlPlaneChecks,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentRow {
    pub id: i64,
    pub form: ComponentForm,
    pub status: Option<ComponentStatus>,
}

/// The server's side of the live pages.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait LiveBackend: Send + Sync + 'static {
    /// Every component on the board with its group, none left out.
    fn all_components(&self) -> Vec<(String, ComponentTile)>;
    fn dashboard(&self) -> DashboardData;
    fn cluster_overview(&self) -> ClusterOverview;
    /// The workloads a component with this namespace and selector would cover.
    fn preview(
        &self,
        namespace: &str,
        selector: &crate::domain::label_selector::LabelSelector,
    ) -> Vec<WorkloadRow>;
    async fn service_components(&self) -> Result<Vec<ComponentRow>, String>;
}

/// Checks that the caller holds `role`, from the page context the server attached.
#[cfg(feature = "ssr")]
pub fn authorise(role: Role) -> Result<std::sync::Arc<dyn LiveBackend>, ServerFnError> {
    use crate::domain::access::Denial;
    let parts = use_context::<http::request::Parts>().ok_or_else(|| ServerFnError::new("no request"))?;
    let held = parts.extensions.get::<crate::page_context::PageContext>().and_then(|c| c.role());
    if let Err(denial) = crate::domain::access::authorise_role(held, role) {
        let (status, message) = match denial {
            Denial::Unauthenticated => (http::StatusCode::UNAUTHORIZED, "Sign in first.".to_owned()),
            Denial::Forbidden { required } => {
                (http::StatusCode::FORBIDDEN, format!("This needs the role {required} or higher."))
            }
        };
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
        }
        return Err(ServerFnError::new(message));
    }
    use_context::<std::sync::Arc<dyn LiveBackend>>()
        .ok_or_else(|| ServerFnError::new("the live data is not available"))
}

#[server]
pub async fn load_dashboard() -> Result<DashboardData, ServerFnError> {
    Ok(authorise(Role::Responder)?.dashboard())
}

#[server]
pub async fn load_cluster_overview() -> Result<ClusterOverview, ServerFnError> {
    Ok(authorise(Role::Responder)?.cluster_overview())
}

#[server]
pub async fn load_components() -> Result<Vec<ComponentRow>, ServerFnError> {
    authorise(Role::Admin)?.service_components().await.map_err(ServerFnError::new)
}

/// Which workloads a selector matches, or why it does not parse.
#[server]
pub async fn preview_selector(
    namespace: String,
    selector: String,
) -> Result<Result<Vec<WorkloadRow>, String>, ServerFnError> {
    use crate::domain::component::parse_namespace;
    use crate::domain::label_selector::LabelSelector;
    let backend = authorise(Role::Admin)?;
    let namespace = match parse_namespace(&namespace) {
        Ok(namespace) => namespace,
        Err(error) => return Ok(Err(error.to_string())),
    };
    Ok(match LabelSelector::parse(selector.trim()) {
        Ok(selector) => Ok(backend.preview(&namespace, &selector)),
        Err(error) => Err(format!("The selector does not parse: {error}")),
    })
}

/// Subscribes to the server's live events and calls `on_event` with each
/// event's kind; reconnects by itself (EventSource), resuming from the last id.
/// Does nothing on the server.
pub fn on_live_events(on_event: impl Fn(&str) + 'static) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;
        let Ok(source) = web_sys::EventSource::new("/api/v1/events") else { return };
        let on_event = std::rc::Rc::new(on_event);
        for kind in ["component", "cluster", "cluster-state", "incident", "action", "alert", "reset"] {
            let on_event = on_event.clone();
            let listener =
                Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |_event: web_sys::MessageEvent| {
                    on_event(kind);
                });
            let _ = source.add_event_listener_with_callback(kind, listener.as_ref().unchecked_ref());
            listener.forget();
        }
        let source = send_wrapper::SendWrapper::new(source);
        on_cleanup(move || source.close());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = on_event;
}

/// How often a live page reloads its data even without events, so that the
/// age of stale data keeps counting and a missed event heals by itself.
pub const POLL_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Calls `reload` on every live event and every [`POLL_EVERY`], in the browser only.
pub fn refresh_live(reload: impl Fn() + Copy + 'static) {
    Effect::new(move |_| {
        on_live_events(move |_| reload());
        #[cfg(feature = "hydrate")]
        set_interval(reload, POLL_EVERY);
    });
}
