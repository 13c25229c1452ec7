//! The drill cluster: a Kubernetes API server inside Wheelhouse, for demos,
//! drills and the project's own tests. The object store and its rules live
//! here, apart from the HTTP layer that speaks the wire protocol.

pub mod field_selector;
pub mod resources;
pub mod store;
