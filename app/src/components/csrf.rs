//! The anti-forgery field every form posts back: the signed-in session's
//! token, which the server checks when a request carries neither `Origin` nor
//! `Sec-Fetch-Site` (browsers that send them are checked by those).

use crate::page_context::PageContext;
use leptos::prelude::*;

/// Name of the form field that carries the token.
pub const CSRF_FIELD: &str = "csrf";

/// A hidden input with the session's token; nothing when nobody is signed in.
#[component]
pub fn CsrfField() -> impl IntoView {
    let token = use_context::<PageContext>().and_then(|ctx| ctx.csrf);
    token.map(|token| view! { <input type="hidden" name=CSRF_FIELD value=token /> })
}
