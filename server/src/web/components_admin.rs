//! The component admin's form posts: create, update, delete. A refused form
//! is rendered again with its message, the field at fault and what was typed.

use super::AppState;
use super::error::form_refused;
use super::extract::{Admin, Caller, FormPost};
use super::render::plain_error;
use app::domain::component::ComponentForm;
use app::page_context::FormFeedback;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};

fn saved(name: &str) -> Response {
    let query = serde_urlencoded::to_string([("saved", name)]).unwrap_or_default();
    Redirect::to(&format!("/admin/components?{query}")).into_response()
}

/// `POST /admin/components` and `POST /admin/components/{id}`.
async fn save(
    state: AppState,
    FormPost { form, request }: FormPost<ComponentForm>,
    id: Option<i64>,
) -> Response {
    match state.services.save_component(id, &form).await {
        Ok(name) => saved(&name),
        Err(error) => {
            let page = match id {
                Some(id) => format!("/admin/components?edit={id}"),
                None => "/admin/components".to_owned(),
            };
            let feedback = FormFeedback { component: Some(form), ..FormFeedback::default() };
            form_refused(&state, request, &page, &error, feedback).await
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    _: Caller<Admin>,
    post: FormPost<ComponentForm>,
) -> Response {
    save(state, post, None).await
}

pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    _: Caller<Admin>,
    post: FormPost<ComponentForm>,
) -> Response {
    save(state, post, Some(id)).await
}

/// `POST /admin/components/{id}/delete`
pub async fn delete(State(state): State<AppState>, Path(id): Path<i64>, _: Caller<Admin>) -> Response {
    match state.services.delete_component(id).await {
        Ok(()) => Redirect::to("/admin/components").into_response(),
        Err(error) => plain_error(super::error::status_of(&error), &error.to_string()),
    }
}
