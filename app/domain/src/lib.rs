//! The domain: plain Rust rules with no web, database or Kubernetes types and no
//! I/O, so they can be read and tested alone and compiled for the browser too.
//! This crate depends on serde and thiserror only (utoipa behind `openapi`), so
//! the compiler keeps it pure; the app re-exports it as `app::domain`.

pub mod access;
pub mod account;
pub mod action;
pub mod alert;
pub mod calendar;
pub mod component;
pub mod component_health;
pub mod connection;
pub mod control_plane;
pub mod evidence;
pub mod health;
pub mod incident;
pub mod incident_lifecycle;
pub mod insights;
pub mod label_selector;
pub mod maintenance;
pub mod object_name;
pub mod playbook;
pub mod quantity;
pub mod review;
pub mod role;
pub mod subscriber;
pub mod update;
pub mod uptime;
