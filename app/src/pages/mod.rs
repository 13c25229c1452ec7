//! One module per route.

pub mod admin;
pub mod admin_alert_routing;
pub mod admin_components;
pub mod admin_playbooks;
pub mod admin_subscribers;
pub mod admin_templates;
pub mod admin_tokens;
pub mod admin_users;
pub mod admin_webhooks;
pub mod alerts;
pub mod briefing;
pub mod cluster;
pub mod dashboard;
pub mod incident_room;
pub mod incidents;
pub mod insights;
pub mod login;
pub mod maintenance;
pub mod not_found;
pub mod review;
pub mod setup;
