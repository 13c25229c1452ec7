//! What every page needs to know about the request: who is signed in, which
//! cluster Wheelhouse watches, and the outcome of a form that was just posted.
//! The server puts a [`PageContext`] into each request; pages read it through
//! the [`load_page_context`] server function, so server render and hydration agree.

use crate::domain::role::Role;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The signed-in account, as pages show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInUser {
    pub email: String,
    pub role: Role,
}

/// Which cluster the data comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClusterSource {
    /// Wheelhouse's built-in simulated cluster, for demos, drills and tests.
    Drill,
    /// A real cluster reached through in-cluster config or a kubeconfig.
    Kubeconfig,
}

/// The result of a form post that is shown on the page it came from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormFeedback {
    pub message: String,
    /// The e-mail address that was typed, so that nobody types it twice.
    pub email: Option<String>,
    /// The field the message is about, for forms with several.
    #[serde(default)]
    pub field: Option<String>,
    /// What was typed in a refused form, so that nothing is lost.
    #[serde(default)]
    pub component: Option<crate::domain::component::ComponentForm>,
    /// A refused declaration, as typed.
    #[serde(default)]
    pub declaration: Option<crate::domain::incident::DeclarationForm>,
    /// A refused note, as typed.
    #[serde(default)]
    pub note: Option<String>,
    /// A token just created: shown once, then never again.
    #[serde(default)]
    pub new_token: Option<String>,
    /// A stakeholder update being written: rendered, refused, or as typed.
    #[serde(default)]
    pub update: Option<UpdateDraft>,
    /// A refused template, as typed.
    #[serde(default)]
    pub template: Option<String>,
    /// A refused playbook, as typed.
    #[serde(default)]
    pub playbook: Option<String>,
    /// A refused maintenance window, as typed.
    #[serde(default)]
    pub maintenance: Option<crate::domain::maintenance::WindowForm>,
    /// The message confirms something done (not a refusal).
    #[serde(default)]
    pub ok: bool,
    /// A refused routing rule, as typed.
    #[serde(default)]
    pub rule: Option<crate::domain::alert::RuleForm>,
    /// A refused silence (minutes, reason) and the alert it was for.
    #[serde(default)]
    pub silence: Option<(i64, String, String)>,
    /// Review sections as typed, when saving them was refused.
    #[serde(default)]
    pub review: Option<crate::domain::review::SectionsForm>,
    /// A refused impact start (time, reason), as typed.
    #[serde(default)]
    pub impact_start: Option<(String, String)>,
    /// A refused follow-up, as typed.
    #[serde(default)]
    pub follow_up: Option<crate::domain::review::FollowUpForm>,
}

/// The room's update form, carried between render, edit and publish.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateDraft {
    pub audience: String,
    pub purpose: String,
    pub impact: String,
    pub workaround: String,
    pub text: String,
    /// For a public update: the title the public sees, as typed.
    #[serde(default)]
    pub public_title: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageContext {
    pub user: Option<SignedInUser>,
    pub cluster: ClusterSource,
    pub feedback: Option<FormFeedback>,
    /// On `/setup` only: whether the first administrator may still be created.
    pub setup_open: bool,
    /// The signed-in session's anti-forgery token, sent back by every form.
    #[serde(default)]
    pub csrf: Option<String>,
}

impl PageContext {
    pub fn role(&self) -> Option<Role> {
        self.user.as_ref().map(|u| u.role)
    }
}

/// Reads the [`PageContext`] that the server attached to this request.
#[server]
pub async fn load_page_context() -> Result<PageContext, ServerFnError> {
    let parts = use_context::<http::request::Parts>()
        .ok_or_else(|| ServerFnError::new("the request could not be read"))?;
    parts
        .extensions
        .get::<PageContext>()
        .cloned()
        .ok_or_else(|| ServerFnError::new("the request carries no page context"))
}
