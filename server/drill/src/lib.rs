//! The drill cluster: a Kubernetes API server inside Wheelhouse, for demos,
//! drills and the project's own tests. The object store and its rules live
//! here, apart from the HTTP layer (`api`) that speaks the wire protocol.
//!
//! The public API: [`DrillCluster`] (objects, faults, access control),
//! [`serve::DrillServer`] (the cluster on an HTTPS port, with its kubeconfig),
//! [`scenario::Scenario`] (what a cluster starts with and its timed faults),
//! [`fault_injection::FaultRequest`] (one fault to inject or clear), and
//! [`Error`], what starting a drill cluster can fail with.

pub mod access;
pub mod api;
pub mod controllers;
pub mod disruption;
pub mod fault_injection;
pub mod faults;
pub mod field_selector;
pub mod logs;
pub mod metrics;
pub mod patch;
pub mod resources;
pub mod scenario;
pub mod selector;
pub mod serve;
pub mod store;
pub mod table;
pub mod tls;

use std::sync::Arc;

/// What starting or serving a drill cluster can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot load the scenario")]
    Scenario(#[from] scenario::ScenarioError),
    #[error("cannot listen on {address}")]
    Listen {
        address: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot make the drill cluster's certificates: {0}")]
    Certificates(String),
    #[error("cannot write {path}")]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One drill cluster: its objects, the token that grants access, its faults.
#[derive(Debug)]
pub struct DrillCluster {
    pub store: Arc<store::Store>,
    pub token: String,
    pub faults: faults::Faults,
    /// Records requests and answers chosen ones 403, as RBAC would.
    pub access: access::AccessControl,
}

impl DrillCluster {
    /// An empty cluster that accepts `token`.
    pub fn new(token: String) -> Arc<DrillCluster> {
        DrillCluster::with_store(token, store::Store::new())
    }

    /// A cluster over a store made by the caller (e.g. with a short watch history).
    pub fn with_store(token: String, store: store::Store) -> Arc<DrillCluster> {
        Arc::new(DrillCluster {
            store: Arc::new(store),
            token,
            faults: faults::Faults::default(),
            access: access::AccessControl::default(),
        })
    }

    pub fn router(self: &Arc<Self>) -> axum::Router {
        api::router(self.clone())
    }
}
