//! `/admin/alert-routing` — the routing policy for alerts: rules in order
//! (the first that matches decides), a form to add one, delete, and back to
//! the shipped defaults; with the storm guard and detection settings.

use crate::alerts::{RoutingPolicy, load_alert_policy};
use crate::components::csrf::CsrfField;
use crate::components::guard::Guarded;
use crate::domain::alert::AlertSeverity;
use crate::domain::incident::Severity;
use crate::page_context::PageContext;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AdminAlertRoutingPage() -> impl IntoView {
    let policy = Resource::new(|| (), |_| load_alert_policy());
    view! {
        <Title text="Alert routing" />
        <Guarded>
            <h1>"Alert routing"</h1>
            <p class="info">
                "Each firing alert goes where the first matching rule says: declare an incident (nobody commands it until a responder takes command), "
                "the inbox, or kept out of sight. An alert for a component already in an incident under way is attached to that incident instead."
            </p>
            <Suspense fallback=|| view! { <p class="loading">"Loading the policy…"</p> }>
                {move || Suspend::new(async move { policy.await.map(|policy| view! { <Policy policy /> }) })}
            </Suspense>
        </Guarded>
    }
}

#[component]
fn Policy(policy: RoutingPolicy) -> impl IntoView {
    let feedback = expect_context::<PageContext>().feedback;
    let typed = feedback.as_ref().and_then(|f| f.rule.clone()).unwrap_or_default();
    let field = feedback.as_ref().and_then(|f| f.field.clone()).unwrap_or_default();
    let invalid = move |name: &str| (field == name).then_some("true");
    let origin = match &policy.customised {
        Some(by) => format!("Customised by {by}."),
        None => "These are the shipped defaults.".to_owned(),
    };
    view! {
        {feedback.map(|f| view! { <p class="error" role="alert">{f.message}</p> })}
        <ol id="alert-rules">
            {policy.rules.into_iter().map(|rule| view! {
                <li data-rule=rule.id>
                    {rule.text}" "
                    <form method="post" action=format!("/admin/alert-routing/{}/delete", rule.id) class="inline"><CsrfField />
                        <button type="submit">"Delete"</button>
                    </form>
                </li>
            }).collect_view()}
        </ol>
        <p class="info">{origin}" No rule matching means the inbox."</p>
        {policy.customised.is_some().then(|| view! {
            <form method="post" action="/admin/alert-routing/reset"><CsrfField />
                <button type="submit">"Back to the shipped defaults"</button>
            </form>
        })}
        <h2>"Add a rule"</h2>
        <form method="post" action="/admin/alert-routing" class="rule-form"><CsrfField />
            <label for="rule-severity">"Severity label"</label>
            <select id="rule-severity" name="severity" aria-invalid=invalid("severity")>
                <option value="any">"any"</option>
                {AlertSeverity::ALL.into_iter().map(|s| view! { <option value=s.as_str() selected=typed.severity == s.as_str()>{s.as_str()}</option> }).collect_view()}
            </select>
            <label for="rule-alertname">"Alertname (exactly; blank: any)"</label>
            <input id="rule-alertname" name="alertname" maxlength="300" value=typed.alertname.clone() aria-invalid=invalid("alertname") placeholder="KubeNodeNotReady" />
            <label for="rule-public">"Component"</label>
            <select id="rule-public" name="public_component" aria-invalid=invalid("public_component")>
                <option value="any">"any (or unmapped)"</option>
                <option value="public" selected=typed.public_component == "public">"public"</option>
                <option value="internal" selected=typed.public_component == "internal">"internal"</option>
            </select>
            <label for="rule-outcome">"Then"</label>
            <select id="rule-outcome" name="outcome" aria-invalid=invalid("outcome")>
                <option value="declare" selected=typed.outcome == "declare">"declare an incident"</option>
                <option value="inbox" selected=typed.outcome == "inbox" || typed.outcome.is_empty()>"show in the inbox"</option>
                <option value="keep" selected=typed.outcome == "keep">"keep, not shown by default"</option>
            </select>
            <label for="rule-declare-severity">"Severity of the declared incident"</label>
            <select id="rule-declare-severity" name="declare_severity" aria-invalid=invalid("declare_severity")>
                {Severity::ALL.into_iter().map(|s| view! { <option value=s.as_str() selected=typed.declare_severity == s.as_str() || (typed.declare_severity.is_empty() && s == Severity::Sev2)>{s.as_str()}</option> }).collect_view()}
            </select>
            <label for="rule-position">"Position (1 is first; blank: last)"</label>
            <input id="rule-position" name="position" inputmode="numeric" value=typed.position.clone() aria-invalid=invalid("position") />
            <button type="submit" class="primary">"Add rule"</button>
        </form>
        <h2>"Settings"</h2>
        <p class="info" id="alert-settings">
            {format!(
                "Storm guard: more than {} new alerts in a minute (for one component, or cluster-wide) attach to the latest incident opened from alerts instead of opening more. \
                 Wheelhouse raises its own alert when a component stays in partial or major outage for {} s. \
                 Both are set in the configuration (--alert-storm-limit, --alert-detection-after).",
                policy.storm_limit, policy.detection_after_seconds
            )}
        </p>
    }
}
