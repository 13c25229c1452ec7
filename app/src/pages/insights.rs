//! `/insights` — what past incidents teach, for a chosen period: incidents by
//! month, severity and category; time to acknowledge and resolve by severity
//! with their trend; the components with the most incidents and the most
//! customer-facing downtime; failed deployment recovery time; follow-ups.
//! Charts are SVG drawn on the server, each with its figures in a table
//! beside it; the same figures download as CSV.

use crate::components::guard::Guarded;
use crate::domain::insights::{DEFINITIONS, Insights, Percentiles, SeverityTimes};
use crate::incidents::duration_text;
use crate::reviews::load_insights;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn InsightsPage() -> impl IntoView {
    let query = use_query_map();
    let period = move || {
        let q = query.get();
        (q.get("from").unwrap_or_default(), q.get("to").unwrap_or_default())
    };
    let data = Resource::new(period, |(from, to)| load_insights(from, to));
    view! {
        <Title text="Insights" />
        <Guarded>
            <h1>"Insights"</h1>
            <Transition fallback=|| view! { <p class="loading">"Adding up…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(insights) => view! { <Figures insights /> }.into_any(),
                        Err(error) => view! {
                            <p class="error" role="alert">{error.to_string().trim_start_matches("error running server function: ").to_owned()}</p>
                            <PeriodForm from=String::new() to=String::new() />
                        }.into_any(),
                    }
                })}
            </Transition>
        </Guarded>
    }
}

#[component]
fn PeriodForm(from: String, to: String) -> impl IntoView {
    view! {
        <form method="get" action="/insights" class="inline period no-print">
            <label>"From "<input type="date" name="from" value=from /></label>" "
            <label>"to "<input type="date" name="to" value=to /></label>" "
            <button type="submit">"Show"</button>
        </form>
    }
}

fn duration(ms: Option<i64>) -> String {
    ms.map_or_else(|| "—".to_owned(), duration_text)
}

#[component]
fn Figures(insights: Insights) -> impl IntoView {
    let (from, to) = insights.period.days();
    let csv = format!("/insights.csv?from={from}&to={to}");
    let total: i64 = insights.by_severity.iter().map(|(_, n)| n).sum();
    view! {
        <PeriodForm from=from.clone() to=to.clone() />
        <p class="info" id="insights-period">
            {format!("{total} incidents declared from {from} to {to}. ")}
            <a href=csv>"Download the figures (CSV)"</a>" · "
            <a href=format!("/api/v1/insights?from={from}&to={to}")>"JSON"</a>
        </p>
        <div class="insights">
            <BarChart id="by-month" title="Incidents by month" unit="incidents"
                rows=insights.by_month.iter().map(|(m, n)| (m.clone(), *n)).collect() />
            <BarChart id="by-severity" title="Incidents by severity" unit="incidents"
                rows=insights.by_severity.iter().map(|(s, n)| (s.as_str().to_owned(), *n)).collect() />
            <BarChart id="by-category" title="Incidents by category" unit="incidents"
                rows=insights.by_category.iter().map(|(c, n)| (c.label().to_owned(), *n)).collect() />
            <Times times=insights.times.clone() />
            <BarChart id="components-by-incidents" title="Components with the most incidents" unit="incidents"
                rows=insights.components_by_incidents.iter().map(|c| (c.name.clone(), c.value)).collect() />
            <BarChart id="components-by-downtime" title="Most customer-facing downtime (minutes, weighted)" unit="minutes"
                rows=insights.components_by_downtime.iter().map(|c| (c.name.clone(), (c.value + 30_000) / 60_000)).collect() />
            <section class="insight" id="recovery">
                <h2>"Failed deployment recovery time"</h2>
                <Recovery p=insights.recovery />
            </section>
            <section class="insight" id="follow-up-figures">
                <h2>"Follow-ups"</h2>
                <dl class="facts">
                    <div><dt>"Opened in the period"</dt><dd data-figure="opened">{insights.follow_ups.opened}</dd></div>
                    <div><dt>"Done in the period"</dt><dd data-figure="done">{insights.follow_ups.done}</dd></div>
                    <div><dt>"Overdue now"</dt><dd data-figure="overdue">{insights.follow_ups.overdue}</dd></div>
                </dl>
            </section>
        </div>
        <details class="definitions">
            <summary>"How these are measured"</summary>
            <dl>{DEFINITIONS.iter().map(|(term, text)| view! { <dt>{*term}</dt><dd>{*text}</dd> }).collect_view()}</dl>
        </details>
    }
}

#[component]
fn Recovery(p: Percentiles) -> impl IntoView {
    view! {
        <p data-figure="recovery">
            {if p.count == 0 {
                "No incident in the period was contained by a rollback.".to_owned()
            } else {
                format!("{} incident(s) contained by a rollback: median {}, p90 {}.", p.count, duration(p.p50), duration(p.p90))
            }}
        </p>
    }
}

#[component]
fn Times(times: Vec<SeverityTimes>) -> impl IntoView {
    view! {
        <section class="insight wide" id="times-by-severity">
            <h2>"Time to acknowledge and to resolve"</h2>
            <table>
                <thead><tr>
                    <th scope="col">"Severity"</th><th scope="col">"Acknowledged"</th><th scope="col">"Median"</th>
                    <th scope="col">"p90"</th><th scope="col">"Trend"</th><th scope="col">"Resolved"</th>
                    <th scope="col">"Median"</th><th scope="col">"p90"</th><th scope="col">"Trend"</th>
                </tr></thead>
                <tbody>
                    {times.into_iter().map(|t| view! {
                        <tr data-severity=t.severity.as_str()>
                            <th scope="row">{t.severity.as_str()}</th>
                            <td>{t.acknowledge.count}</td><td>{duration(t.acknowledge.p50)}</td><td>{duration(t.acknowledge.p90)}</td>
                            <td>{t.acknowledge_trend.label()}</td>
                            <td>{t.resolve.count}</td><td>{duration(t.resolve.p50)}</td><td>{duration(t.resolve.p90)}</td>
                            <td>{t.resolve_trend.label()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// A horizontal bar chart drawn as SVG, with its figures in a table beside it.
#[component]
fn BarChart(
    id: &'static str,
    title: &'static str,
    unit: &'static str,
    rows: Vec<(String, i64)>,
) -> impl IntoView {
    let largest = rows.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let (label_width, bar_space, row_height) = (120, 200, 18);
    let height = (rows.len().max(1) * row_height) as i64;
    let summary = rows.iter().map(|(label, n)| format!("{label}: {n}")).collect::<Vec<_>>().join(", ");
    view! {
        <section class="insight" id=id>
            <h2>{title}</h2>
            {if rows.is_empty() {
                view! { <p class="info">"Nothing in this period."</p> }.into_any()
            } else {
                view! {
                    <div class="chart-and-table">
                        <svg class="chart" viewBox=format!("0 0 {} {height}", label_width + bar_space + 40) role="img"
                            aria-label=format!("{title}: {summary}")>
                            {rows.iter().enumerate().map(|(i, (label, n))| {
                                let y = (i * row_height) as i64;
                                let w = (*n * bar_space) / largest;
                                view! {
                                    <text x=label_width - 4 y=y + 12 text-anchor="end" font-size="10">{label.clone()}</text>
                                    <rect x=label_width y=y + 3 width=w.max(1) height=row_height - 6 fill="#0b5cad" />
                                    <text x=label_width + w + 4 y=y + 12 font-size="10">{n.to_string()}</text>
                                }
                            }).collect_view()}
                        </svg>
                        <table>
                            <thead><tr><th scope="col">""</th><th scope="col">{unit}</th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|(label, n)| view! { <tr><th scope="row">{label}</th><td>{n}</td></tr> }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}
