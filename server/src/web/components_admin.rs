//! The component admin's form posts: create, update, delete. A refused form
//! is rendered again with its message, the field at fault and what was typed.

use super::AppState;
use super::auth::{page_context_of, read_form};
use super::principal::{DenialResponse, authorise};
use super::render::{plain_error, render_page};
use crate::components::ComponentStoreError;
use app::domain::component::{ComponentDefinition, ComponentForm};
use app::domain::role::Role;
use app::page_context::FormFeedback;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;

fn saved(name: &str) -> Response {
    let query = serde_urlencoded::to_string([("saved", name)]).unwrap_or_default();
    Redirect::to(&format!("/admin/components?{query}")).into_response()
}

/// `POST /admin/components` and `POST /admin/components/{id}`.
async fn save(state: AppState, request: Request, id: Option<i64>) -> Response {
    if let Err(denied) = authorise(request.extensions(), Role::Admin) {
        return denied.page();
    }
    let (request, form) = match read_form::<ComponentForm>(request).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let Some(mut ctx) = page_context_of(&request) else {
        return plain_error(StatusCode::INTERNAL_SERVER_ERROR, "The request could not be handled.");
    };
    let outcome = match ComponentDefinition::parse(&form) {
        Ok(definition) => match id {
            Some(id) => state.components.update(id, &definition).await,
            None => state.components.create(&definition).await.map(|_| ()),
        }
        .map(|()| definition.name),
        Err(error) => Err(error.into()),
    };
    let page = match id {
        Some(id) => format!("/admin/components?edit={id}"),
        None => "/admin/components".to_owned(),
    };
    let (status, feedback) = match outcome {
        Ok(name) => return saved(&name),
        Err(ComponentStoreError::Invalid(error)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            FormFeedback {
                message: error.to_string(),
                field: Some(error.field().to_owned()),
                ..FormFeedback::default()
            },
        ),
        Err(ComponentStoreError::NotFound(_)) => (
            StatusCode::NOT_FOUND,
            FormFeedback {
                message: "That component no longer exists.".to_owned(),
                ..FormFeedback::default()
            },
        ),
        Err(ComponentStoreError::Db(error)) => {
            tracing::error!(error = &error as &dyn std::error::Error, "cannot save a component");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                FormFeedback {
                    message:
                        "The component could not be saved right now; nothing was changed. Try again shortly."
                            .to_owned(),
                    ..FormFeedback::default()
                },
            )
        }
    };
    ctx.feedback = Some(FormFeedback { component: Some(form), ..feedback });
    render_page(&state, request, &page, status, ctx).await
}

pub async fn create(State(state): State<AppState>, request: Request) -> Response {
    save(state, request, None).await
}

pub async fn update(State(state): State<AppState>, Path(id): Path<i64>, request: Request) -> Response {
    save(state, request, Some(id)).await
}

/// `POST /admin/components/{id}/delete`
pub async fn delete(State(state): State<AppState>, Path(id): Path<i64>, request: Request) -> Response {
    if let Err(denied) = authorise(request.extensions(), Role::Admin) {
        return denied.page();
    }
    match state.components.delete(id).await {
        Ok(()) | Err(ComponentStoreError::NotFound(_)) => Redirect::to("/admin/components").into_response(),
        Err(error) => {
            tracing::error!(error = &error as &dyn std::error::Error, "cannot delete a component");
            plain_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "The component could not be deleted right now. Try again shortly.",
            )
        }
    }
}
