//! The templates Wheelhouse ships with, one per audience and purpose. Public
//! ones speak plainly to customers and use only public variables; internal ones
//! speak to responders; executive ones lead with impact, decisions and the
//! next update time. Admins edit them at `/admin/templates`.

use app::domain::update::{Audience, Purpose};

const PUBLIC_AFFECTED: &str =
    "{% if affected_components %}Affected: {{ affected_components | join(', ') }}.{% endif %}";
const NEXT: &str =
    "{% if next_update_at %} We will post another update by {{ next_update_at }} UTC.{% endif %}";

pub fn default_template(audience: Audience, purpose: Purpose) -> String {
    use Audience::*;
    use Purpose::*;
    match (audience, purpose) {
        (Public, Investigating) => format!(
            "We are investigating reports of a problem: {{{{ title }}}}. {PUBLIC_AFFECTED}\n\
             {{% if impact %}}{{{{ impact }}}}{{% endif %}}{{% if workaround %}} Until it is fixed: {{{{ workaround }}}}{{% endif %}}\n{NEXT}"
        ),
        (Public, Identified) => format!(
            "We have found the cause of the problem ({{{{ title }}}}) and are working on a fix. {PUBLIC_AFFECTED}\n\
             {{% if impact %}}{{{{ impact }}}}{{% endif %}}{{% if workaround %}} Until it is fixed: {{{{ workaround }}}}{{% endif %}}\n{NEXT}"
        ),
        (Public, Monitoring) => format!(
            "A fix is in place and we are watching to make sure it holds. {PUBLIC_AFFECTED}\n\
             {{% if impact %}}{{{{ impact }}}}{{% endif %}}\n{NEXT}"
        ),
        (Public, Resolved) => format!(
            "This incident is resolved and everything is working normally again. {PUBLIC_AFFECTED}\n\
             It lasted {{{{ duration }}}}, from {{{{ started_at }}}} UTC. We are sorry for the trouble it caused."
        ),
        (Public, SeverityChange) => format!(
            "Update on {{{{ title }}}}: {{% if impact %}}{{{{ impact }}}}{{% else %}}we are still working on it.{{% endif %}} {PUBLIC_AFFECTED}{NEXT}"
        ),
        (Public, Maintenance) => format!(
            "Scheduled maintenance: {{{{ title }}}}. {PUBLIC_AFFECTED}\n\
             {{% if impact %}}{{{{ impact }}}}{{% else %}}Some features may be briefly unavailable.{{% endif %}}{NEXT}"
        ),
        (Internal, purpose) => format!(
            "[{{{{ severity }}}}] #{{{{ incident_id }}}} {{{{ title }}}} — {label}\n\
             Status: {{{{ status }}}}; phase: {{{{ phase }}}}; commander: {{{{ commander }}}}\
             {{% if communications_lead %}}; communications: {{{{ communications_lead }}}}{{% endif %}}.\n\
             {{% if all_affected_components %}}Components: {{{{ all_affected_components | join(', ') }}}}.\n{{% endif %}}\
             {{% if impact %}}Impact: {{{{ impact }}}}\n{{% endif %}}\
             {{% if workaround %}}Workaround: {{{{ workaround }}}}\n{{% endif %}}\
             {{% if summary %}}Summary: {{{{ summary }}}}\n{{% endif %}}\
             Running for {{{{ duration }}}}.{{% if next_update_at %}} Next update due {{{{ next_update_at }}}} UTC.{{% endif %}}",
            label = purpose.label()
        ),
        (Executive, purpose) => format!(
            "{{{{ severity }}}} — {{{{ title }}}} ({label})\n\
             Customer impact: {{% if impact %}}{{{{ impact }}}}{{% else %}}being assessed.{{% endif %}}\n\
             {{% if affected_components %}}Customer-facing services affected: {{{{ affected_components | join(', ') }}}}.\n{{% endif %}}\
             Status: {{{{ status }}}}, for {{{{ duration }}}}. Incident commander: {{{{ commander }}}}.\n\
             {{% if decisions %}}Decisions so far:\n{{% for d in decisions %}}- {{{{ d }}}}\n{{% endfor %}}{{% endif %}}\
             {{% if next_update_at %}}Next update: {{{{ next_update_at }}}} UTC.{{% else %}}No further updates are scheduled.{{% endif %}}",
            label = purpose.label()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::updates::engine::{check, render};
    use app::domain::incident::PublicStatus;
    use serde_json::json;

    fn context(status: PublicStatus) -> serde_json::Value {
        json!({
            "title": "Checkout errors", "severity": "SEV2", "severity_definition": "Major",
            "status": status.as_str(), "phase": "containment",
            "affected_components": ["Checkout"], "all_affected_components": ["Checkout", "Payments worker"],
            "impact": "Some card payments fail.", "workaround": "Pay by invoice.",
            "next_update_at": "14:30", "started_at": "13:05", "duration": "1 h 20 min",
            "commander": "ic@example.com", "communications_lead": "comms@example.com",
            "summary": "checkout-7d9f pods OOM", "decisions": ["Roll back to v41"], "incident_id": 7,
        })
    }

    #[test]
    fn every_shipped_template_passes_its_own_check_and_renders_for_every_status() {
        for audience in Audience::ALL {
            for purpose in Purpose::ALL {
                let source = default_template(audience, purpose);
                check(audience, &source).unwrap_or_else(|e| panic!("{audience}/{purpose}: {e}"));
                for status in PublicStatus::ALL {
                    let text = render(&source, &context(*status))
                        .unwrap_or_else(|e| panic!("{audience}/{purpose}: {e}"));
                    assert!(text.contains("Checkout"), "{audience}/{purpose}: {text}");
                }
            }
        }
    }

    #[test]
    fn public_templates_never_name_responders_or_internal_details() {
        for purpose in Purpose::ALL {
            let text =
                render(&default_template(Audience::Public, purpose), &context(PublicStatus::Identified))
                    .unwrap();
            for secret in [
                "ic@example.com",
                "comms@example.com",
                "checkout-7d9f",
                "Payments worker",
                "SEV2",
                "Roll back",
            ] {
                assert!(!text.contains(secret), "public {purpose} leaks {secret}: {text}");
            }
        }
    }

    #[test]
    fn an_empty_next_update_is_left_out_not_printed_blank() {
        let mut ctx = context(PublicStatus::Resolved);
        ctx["next_update_at"] = json!("");
        let text = render(&default_template(Audience::Public, Purpose::Investigating), &ctx).unwrap();
        assert!(!text.contains("by  UTC"), "{text}");
    }
}
