//! `/admin/users` — accounts: role, disable or enable, reset a password (the
//! new one shown once). Each change to an account ends its sessions at once.

use crate::components::csrf::CsrfField;
use crate::components::guard::Guarded;
use crate::components::status::clock;
use crate::domain::role::Role;
use crate::incidents::{UserRow, load_users};
use crate::page_context::PageContext;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let users = Resource::new(|| (), |_| load_users());
    view! {
        <Title text="Accounts" />
        <Guarded>
            <h1>"Accounts"</h1>
            <p class="info">
                "Add accounts with " <code>"wheelhouse user add --email E --role admin|responder|viewer"</code>
                ". Changing a role, disabling an account or resetting its password ends its sessions at once; "
                "sessions also end after 12 hours without use and 7 days after signing in."
            </p>
            <Suspense fallback=|| view! { <p class="loading">"Loading accounts…"</p> }>
                {move || Suspend::new(async move { users.await.map(|rows| view! { <UsersView rows /> }) })}
            </Suspense>
        </Guarded>
    }
}

#[component]
fn UsersView(rows: Vec<UserRow>) -> impl IntoView {
    let feedback = expect_context::<PageContext>().feedback;
    view! {
        {feedback.map(|f| match f.new_token {
            Some(password) => view! {
                <div class="notice" role="status">
                    <p>{f.message}</p>
                    <pre id="new-password">{password}</pre>
                </div>
            }.into_any(),
            None if f.ok => view! {
                <p class="notice" role="status">{f.message}</p>
            }.into_any(),
            None => view! { <p class="error" role="alert">{f.message}</p> }.into_any(),
        })}
        <table class="data" id="users">
            <thead><tr><th>"E-mail address"</th><th>"Role"</th><th>"State"</th><th></th></tr></thead>
            <tbody>
                {rows.into_iter().map(|u| {
                    let email = u.email.clone();
                    view! {
                        <tr data-user=u.email.clone()>
                            <td>{u.email.clone()}</td>
                            <td>
                                <form method="post" action="/admin/users/role" class="inline"><CsrfField />
                                    <input type="hidden" name="email" value=email.clone() />
                                    <select name="role" aria-label=format!("Role of {email}")>
                                        {Role::ALL.into_iter().map(|r| view! { <option value=r.as_str() selected=r == u.role>{r.as_str()}</option> }).collect_view()}
                                    </select>
                                    <button type="submit">"Change role"</button>
                                </form>
                            </td>
                            <td>{u.disabled_at.map_or_else(|| "active".to_owned(), |at| format!("disabled since {} UTC", clock(at)))}</td>
                            <td>
                                {if u.disabled_at.is_some() {
                                    view! {
                                        <form method="post" action="/admin/users/enable" class="inline"><CsrfField />
                                            <input type="hidden" name="email" value=email.clone() />
                                            <button type="submit">"Enable"</button>
                                        </form>
                                    }.into_any()
                                } else {
                                    view! {
                                        <form method="post" action="/admin/users/disable" class="inline"><CsrfField />
                                            <input type="hidden" name="email" value=email.clone() />
                                            <button type="submit" class="danger">"Disable"</button>
                                        </form>
                                    }.into_any()
                                }}
                                <form method="post" action="/admin/users/reset-password" class="inline"><CsrfField />
                                    <input type="hidden" name="email" value=email.clone() />
                                    <button type="submit">"Reset password"</button>
                                </form>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
