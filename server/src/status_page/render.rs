//! The status page's HTML and Atom, rendered from public data with MiniJinja
//! and HTML auto-escaping: no script, readable on a phone, and complete
//! without JavaScript.

use super::{PublicData, PublicIncident, PublicMaintenance};
use app::domain::health::ComponentStatus;
use minijinja::{AutoEscape, Environment, context};
use serde_json::{Value, json};

const LAYOUT: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<link rel="stylesheet" href="/pkg/wheelhouse.css">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="alternate" type="application/atom+xml" href="/status/feed.atom" title="Status updates">
</head>
<body class="status-page">
{% if drill %}<div class="drill-banner" role="status"><strong>Drill cluster</strong> — this status page shows Wheelhouse's built-in simulated cluster, not a real service.</div>{% endif %}
<main>
{% block body %}{% endblock %}
<footer class="status-footer">
<p><a href="/status">Current status</a> · <a href="/status/history">Past incidents</a> · <a href="/status/feed.atom">Atom feed</a> · <a href="/api/v2/summary.json">JSON</a></p>
<p class="info">Updated {{ built_at }} UTC.</p>
</footer>
</main>
</body>
</html>"#;

const PAGE: &str = r#"{% extends "layout" %}{% block body %}
<h1>System status</h1>
<p class="banner status-{{ banner.class }}" id="overall" data-indicator="{{ banner.indicator }}"><strong>{{ banner.text }}</strong></p>
{% if active %}
<section id="active-incidents">
<h2>Active incidents</h2>
{% for incident in active %}{% include "incident" %}{% endfor %}
</section>
{% endif %}
{% if maintenance_active %}
<section id="active-maintenance">
<h2>Maintenance in progress</h2>
{% for m in maintenance_active %}{% include "maintenance" %}{% endfor %}
</section>
{% endif %}
{% if groups %}
<section id="components">
{% for group in groups %}
<h2>{{ group.name }}</h2>
<ul class="status-components">
{% for c in group.components %}
<li data-component="{{ c.key }}">
<div class="component-line"><span class="name">{{ c.name }}</span> <span class="badge status-{{ c.class }}" data-status="{{ c.status }}"><span aria-hidden="true">{{ c.symbol }}</span> {{ c.label }}</span></div>
{% if c.description %}<p class="description">{{ c.description }}</p>{% endif %}
<svg class="uptime" viewBox="0 0 {{ c.bars | length * 4 }} 20" preserveAspectRatio="none" role="img" aria-label="{{ c.uptime_label }}">
{% for bar in c.bars %}<rect x="{{ loop.index0 * 4 }}" y="0" width="3" height="20" fill="{{ bar.colour }}"><title>{{ bar.title }}</title></rect>{% endfor %}
</svg>
<p class="uptime-caption"><span>90 days ago</span><span>{{ c.uptime_label }}</span><span>Today</span></p>
</li>
{% endfor %}
</ul>
{% endfor %}
</section>
{% else %}
<p class="empty-state">No services are published on this status page yet.</p>
{% endif %}
{% if subscribe %}
<section id="subscribe">
<h2>Get updates by e-mail or webhook</h2>
<form method="post" action="/status/subscribe" class="subscribe-form">
<label>E-mail address <input type="email" name="email" required maxlength="254" autocomplete="email"></label>
<details><summary>Send them to a webhook instead</summary>
<label>Webhook URL <input type="url" name="url" maxlength="2000" placeholder="https://hooks.example.com/status"></label>
<p class="info">Each notice is posted there as JSON; the e-mail address above receives the confirmation link.</p>
</details>
{% if groups %}<fieldset><legend>Components (none ticked: all)</legend>
{% for group in groups %}{% for c in group.components %}<label class="choice"><input type="checkbox" name="components" value="{{ c.key }}"> {{ c.name }}</label>
{% endfor %}{% endfor %}</fieldset>{% endif %}
<button type="submit">Subscribe</button>
<p class="info">We send a link to confirm; every message has a one-click unsubscribe link.</p>
</form>
</section>
{% endif %}
{% if maintenance_upcoming %}
<section id="upcoming-maintenance">
<h2>Scheduled maintenance</h2>
{% for m in maintenance_upcoming %}{% include "maintenance" %}{% endfor %}
<p class="info"><a href="/status/maintenance.ics">Add scheduled maintenance to your calendar</a></p>
</section>
{% endif %}
{% endblock %}"#;

const MAINTENANCE: &str = r#"<article class="public-maintenance" data-maintenance="{{ m.id }}" data-state="{{ m.state }}">
<h3>{{ m.title }} <span class="badge">{{ m.label }}</span></h3>
<p class="info"><time datetime="{{ m.starts_iso }}">{{ m.starts }}</time> to <time datetime="{{ m.ends_iso }}">{{ m.ends }}</time> UTC{% if m.components %} · {{ m.components | join(", ") }}{% endif %}</p>
{% if m.description %}<p>{{ m.description }}</p>{% endif %}
</article>"#;

const INCIDENT: &str = r#"<article class="public-incident" data-incident="{{ incident.id }}">
<h3>{{ incident.title }} <span class="badge">{{ incident.status }}</span></h3>
{% if incident.components %}<p class="info">Affects {{ incident.components | join(", ") }}</p>{% endif %}
<ol class="public-updates">
{% for u in incident.updates %}<li><strong>{{ u.purpose }}</strong> — {{ u.text }} <time datetime="{{ u.iso }}">{{ u.when }} UTC</time></li>
{% endfor %}</ol>
</article>"#;

const HISTORY: &str = r#"{% extends "layout" %}{% block body %}
<h1>Past incidents</h1>
{% for incident in resolved %}{% include "incident" %}{% else %}<p class="empty-state">No past incidents.</p>{% endfor %}
{% endblock %}"#;

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    for (name, source) in [
        ("layout", LAYOUT),
        ("page", PAGE),
        ("incident", INCIDENT),
        ("maintenance", MAINTENANCE),
        ("history", HISTORY),
    ] {
        env.add_template(name, source).expect("the status page templates parse");
    }
    env
}

/// "2026-11-24 14:05" (UTC).
pub fn when(millis: i64) -> String {
    let iso = iso(millis);
    format!("{} {}", &iso[..10], &iso[11..16])
}

/// RFC 3339, UTC, to the second.
pub fn iso(millis: i64) -> String {
    k8s_openapi::jiff::Timestamp::from_millisecond(millis.div_euclid(1000) * 1000)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

fn date_of_day(day: i64) -> String {
    iso(day * app::domain::uptime::DAY_MS)[..10].to_owned()
}

/// The overall banner: the worst current state, in words.
pub fn banner(data: &PublicData) -> (&'static str, &'static str, &'static str) {
    let worst = data.components.iter().map(|c| c.status).max().unwrap_or(ComponentStatus::Operational);
    let incident = data.active().map(|i| i.severity).min();
    use app::domain::incident::Severity::*;
    match (worst, incident) {
        (ComponentStatus::MajorOutage, _) | (_, Some(Sev1)) => {
            ("critical", "major-outage", "Major system outage")
        }
        (ComponentStatus::PartialOutage, _) | (_, Some(Sev2)) => {
            ("major", "partial-outage", "Partial system outage")
        }
        (ComponentStatus::DegradedPerformance, _) | (_, Some(Sev3)) => {
            ("minor", "degraded-performance", "Minor service disruption")
        }
        (ComponentStatus::UnderMaintenance, _) => ("maintenance", "under-maintenance", "Under maintenance"),
        (_, Some(Sev4)) => ("minor", "degraded-performance", "Minor service disruption"),
        _ => ("none", "operational", "All systems operational"),
    }
}

fn incident_value(incident: &PublicIncident) -> Value {
    json!({
        "id": incident.id,
        "title": incident.title,
        "status": incident.status.as_str(),
        "components": incident.components.iter().map(|(_, name)| name).collect::<Vec<_>>(),
        "updates": incident.updates.iter().map(|u| json!({
            "purpose": u.purpose.label(), "text": u.text, "when": when(u.at), "iso": iso(u.at),
        })).collect::<Vec<_>>(),
    })
}

fn maintenance_value(m: &PublicMaintenance) -> Value {
    json!({
        "id": m.id,
        "title": m.title,
        "description": m.description,
        "state": m.state.as_str(),
        "label": m.state.label(),
        "starts": when(m.starts_at),
        "ends": when(m.ends_at),
        "starts_iso": iso(m.starts_at),
        "ends_iso": iso(m.ends_at),
        "components": m.components.iter().map(|(_, name)| name).collect::<Vec<_>>(),
    })
}

fn bar(day: i64, uptime: Option<f64>) -> Value {
    let (colour, words) = match uptime {
        None => ("#d0d7de", "no data".to_owned()),
        Some(u) if u >= 0.999 => ("#1f883d", format!("{:.2}% up", u * 100.0)),
        Some(u) if u >= 0.95 => ("#bf8700", format!("{:.2}% up", u * 100.0)),
        Some(u) if u >= 0.5 => ("#d1571f", format!("{:.2}% up", u * 100.0)),
        Some(u) => ("#b42318", format!("{:.2}% up", u * 100.0)),
    };
    json!({"colour": colour, "title": format!("{}: {words}", date_of_day(day))})
}

pub fn page(data: &PublicData) -> String {
    let (indicator, class, text) = banner(data);
    let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
    for c in &data.components {
        let known: Vec<f64> = c.uptime.iter().filter_map(|(_, u)| *u).collect();
        let label = if known.is_empty() {
            "no data yet".to_owned()
        } else {
            format!("{:.2}% uptime", known.iter().sum::<f64>() / known.len() as f64 * 100.0)
        };
        let value = json!({
            "key": c.key, "name": c.name, "description": c.description,
            "status": c.status.as_str(), "label": c.status.label(),
            "class": c.status.as_str().replace('_', "-"),
            "symbol": crate::status_page::statuspage::symbol(c.status),
            "bars": c.uptime.iter().map(|(day, u)| bar(*day, *u)).collect::<Vec<_>>(),
            "uptime_label": label,
        });
        match groups.iter_mut().find(|(name, _)| *name == c.group) {
            Some((_, list)) => list.push(value),
            None => groups.push((c.group.clone(), vec![value])),
        }
    }
    let env = environment();
    env.get_template("page")
        .and_then(|t| {
            t.render(context! {
                title => "System status",
                banner => json!({"indicator": indicator, "class": class, "text": text}),
                active => data.active().map(incident_value).collect::<Vec<_>>(),
                maintenance_active => data.maintenances.iter().filter(|m| m.active()).map(maintenance_value).collect::<Vec<_>>(),
                maintenance_upcoming => data.maintenances.iter().filter(|m| m.upcoming()).map(maintenance_value).collect::<Vec<_>>(),
                groups => groups.into_iter().map(|(name, components)| json!({"name": name, "components": components})).collect::<Vec<_>>(),
                built_at => when(data.built_at),
                drill => data.drill,
                subscribe => data.subscribe,
            })
        })
        .unwrap_or_else(|error| format!("<p>The status page could not be rendered: {error}</p>"))
}

const NOTICE: &str = r#"{% extends "layout" %}{% block body %}
<h1>{{ heading }}</h1>
<p id="notice">{{ text }}</p>
{% if action %}<form method="post" action="{{ action }}"><input type="hidden" name="token" value="{{ token }}"><button type="submit">{{ button }}</button></form>{% endif %}
<p><a href="/status">Current status</a></p>
{% endblock %}"#;

/// A small page of the status site (subscribe, confirm, unsubscribe): a
/// heading, a sentence, and optionally one button that posts `token` to `action`.
pub fn notice(heading: &str, text: &str, form: Option<(&str, &str, &str)>, built_at: i64) -> String {
    let mut env = environment();
    env.add_template("notice", NOTICE).expect("the notice template parses");
    let (action, token, button) = form.unwrap_or_default();
    env.get_template("notice")
        .and_then(|t| {
            t.render(context! {
                title => heading, heading => heading, text => text,
                action => action, token => token, button => button,
                built_at => when(built_at), drill => false,
            })
        })
        .unwrap_or_else(|_| text.to_owned())
}

pub fn history(data: &PublicData) -> String {
    let env = environment();
    let resolved: Vec<Value> = data
        .incidents
        .iter()
        .filter(|i| i.resolved_at.is_some())
        .take(super::HISTORY_LIMIT)
        .map(incident_value)
        .collect();
    env.get_template("history")
        .and_then(|t| {
            t.render(
                context! { title => "Past incidents", resolved => resolved, built_at => when(data.built_at) },
            )
        })
        .unwrap_or_else(|error| format!("<p>The history could not be rendered: {error}</p>"))
}

/// Text as XML 1.0 character data: markup escaped, and the characters XML
/// forbids (control characters other than tab and newlines, lone surrogates
/// cannot occur in a Rust string, U+FFFE and U+FFFF) dropped, so that no title
/// or update breaks the feed.
fn xml(text: &str) -> String {
    text.chars()
        .filter(|c| {
            matches!(c, '\t' | '\n' | '\r') || !(c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}'))
        })
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Atom: one entry per public update, newest first.
pub fn feed(data: &PublicData, base_url: &str) -> String {
    let mut entries: Vec<(&PublicIncident, &super::PublicUpdate)> =
        data.incidents.iter().flat_map(|i| i.updates.iter().map(move |u| (i, u))).collect();
    entries.sort_by_key(|(_, u)| std::cmp::Reverse(u.at));
    entries.truncate(50);
    let updated = entries.first().map_or(data.built_at, |(_, u)| u.at);
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n\
         <title>System status</title>\n<id>{base}/status</id>\n<link href=\"{base}/status\"/>\n\
         <link rel=\"self\" href=\"{base}/status/feed.atom\"/>\n<updated>{updated}</updated>\n",
        base = xml(base_url),
        updated = iso(updated)
    );
    let mut windows: Vec<&PublicMaintenance> = data.maintenances.iter().collect();
    windows.sort_by_key(|m| std::cmp::Reverse(m.updated_at));
    for m in windows.into_iter().take(20) {
        out.push_str(&format!(
            "<entry>\n<id>{base}/status#maintenance-{id}-{state}</id>\n<title>Maintenance: {title} — {label}</title>\n<updated>{at}</updated>\n\
             <link href=\"{base}/status\"/>\n<author><name>Status</name></author>\n<content type=\"text\">{when}. {text}</content>\n</entry>\n",
            base = xml(base_url),
            id = m.id,
            state = m.state.as_str(),
            title = xml(&m.title),
            label = m.state.label(),
            at = iso(m.updated_at),
            when = xml(&app::domain::maintenance::summary_line("Scheduled", m.starts_at, m.ends_at)),
            text = xml(&m.description),
        ));
    }
    for (incident, update) in entries {
        out.push_str(&format!(
            "<entry>\n<id>{base}/status#update-{id}</id>\n<title>{title} — {purpose}</title>\n<updated>{at}</updated>\n\
             <link href=\"{base}/status\"/>\n<author><name>Status</name></author>\n<content type=\"text\">{text}</content>\n</entry>\n",
            base = xml(base_url),
            id = update.id,
            title = xml(&incident.title),
            purpose = update.purpose.label(),
            at = iso(update.at),
            text = xml(&update.text),
        ));
    }
    out.push_str("</feed>\n");
    out
}

/// Text for an iCalendar value: backslash, semicolon, comma and newlines
/// escaped (RFC 5545 3.3.11), control characters dropped.
fn ical_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets (RFC 5545 3.1), never inside a character.
fn ical_line(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

fn ical_time(millis: i64) -> String {
    iso(millis).replace(['-', ':'], "")
}

/// `/status/maintenance.ics`: every window not cancelled, as iCalendar events
/// (UTC times), so that people see maintenance in their calendars.
pub fn calendar(data: &PublicData, base_url: &str) -> String {
    let mut out = String::new();
    let host = base_url.split("://").nth(1).unwrap_or(base_url);
    for line in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Wheelhouse//Scheduled maintenance//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Scheduled maintenance",
    ] {
        ical_line(&mut out, line);
    }
    for m in &data.maintenances {
        let mut description = m.description.clone();
        if !m.components.is_empty() {
            let names: Vec<&str> = m.components.iter().map(|(_, name)| name.as_str()).collect();
            description = format!("{description}\n\nAffects: {}", names.join(", ")).trim().to_owned();
        }
        let status = if m.state == app::domain::maintenance::MaintenanceState::Scheduled {
            "TENTATIVE"
        } else {
            "CONFIRMED"
        };
        for line in [
            "BEGIN:VEVENT".to_owned(),
            format!("UID:maintenance-{}@{}", m.id, ical_text(host)),
            format!("DTSTAMP:{}", ical_time(m.updated_at)),
            format!("LAST-MODIFIED:{}", ical_time(m.updated_at)),
            format!("DTSTART:{}", ical_time(m.starts_at)),
            format!("DTEND:{}", ical_time(m.ends_at)),
            format!("SUMMARY:{}", ical_text(&format!("Maintenance: {}", m.title))),
            format!("DESCRIPTION:{}", ical_text(&description)),
            format!("STATUS:{status}"),
            format!("URL:{}/status", ical_text(base_url)),
            "END:VEVENT".to_owned(),
        ] {
            ical_line(&mut out, &line);
        }
    }
    ical_line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod calendar_tests {
    #[test]
    fn text_is_escaped_and_long_lines_are_folded_at_75_octets() {
        assert_eq!(super::ical_text("a;b,c\\d\ne\u{7}"), "a\\;b\\,c\\\\d\\ne");
        let mut out = String::new();
        super::ical_line(&mut out, &format!("SUMMARY:{}", "é".repeat(60)));
        for line in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{} octets", line.len());
        }
        assert!(out.contains("\r\n "), "folded with a leading space");
    }
}

#[cfg(test)]
mod xml_tests {
    #[test]
    fn control_characters_never_reach_the_feed() {
        assert_eq!(super::xml("a\u{1}b\u{1b}[31mc & <d>\tok\u{FFFF}"), "ab[31mc &amp; &lt;d&gt;\tok");
    }
}
