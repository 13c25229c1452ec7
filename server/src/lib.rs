//! The Wheelhouse server: configuration, start-up, storage, accounts and the
//! HTTP layer around the Leptos app.

pub mod accounts;
pub mod actions;
pub mod alert_pages;
pub mod alerts;
pub mod cli;
pub mod cluster;
pub mod components;
pub mod config;
pub mod coordination;
pub mod db;
/// The drill cluster, a crate of its own (`server/drill`).
pub use drill;
pub mod events;
pub mod evidence;
pub mod history;
pub mod incident_pages;
pub mod incidents;
pub mod insights;
pub mod live_pages;
pub mod maintenance;
pub mod maintenance_pages;
pub mod playbooks;
pub mod review_pages;
pub mod reviews;
pub mod services;
pub mod session_store;
pub mod startup;
pub mod status_page;
pub mod subscribers;
pub mod telemetry;
pub mod tokens;
pub mod updates;
pub mod web;
pub mod webhooks;
