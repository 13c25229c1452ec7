//! Insights over 10,000 incidents with 1,000,000 timeline events, on SQLite
//! and on PostgreSQL: the time to answer `/insights` (the page, rendered on
//! the server) and `/api/v1/insights` for the default 90 days and for a whole
//! year, 30 runs each, p50 and p99. The figures are aggregated in SQL.
//! Run: `cargo bench -p tests --bench insights`.

use app::domain::role::Role;
use server::config::DatabaseUrl;
use server::db::Database;
use std::time::{Duration, Instant};
use tests::{Backend, spawn_app};

const INCIDENTS: i64 = 10_000;
const EVENTS_PER_INCIDENT: i64 = 100;
const RUNS: usize = 30;
const DAY: i64 = 86_400_000;
const MIN: i64 = 60_000;
const ROWS_PER_INSERT: i64 = 400;

fn percentile(sorted: &[Duration], p: usize) -> f64 {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// Inserts `rows` rows made by `row(i)` (each a `(…)` tuple of literals) into `table (columns)`, in batches.
async fn insert(db: &Database, table: &str, columns: &str, rows: i64, row: impl Fn(i64) -> String) {
    let mut start = 0;
    while start < rows {
        let end = (start + ROWS_PER_INSERT).min(rows);
        let values: Vec<String> = (start..end).map(&row).collect();
        sqlx::query(&format!("INSERT INTO {table} ({columns}) VALUES {}", values.join(", ")))
            .execute(&db.pool)
            .await
            .unwrap();
        start = end;
    }
}

/// 10,000 incidents over the last year, 100 timeline events each, their
/// components, rollbacks for one in ten, status history and follow-ups.
async fn seed(url: &str, now: i64) {
    let db = Database::connect(&DatabaseUrl::parse(url).unwrap()).await.unwrap();
    let severities = ["SEV1", "SEV2", "SEV3", "SEV4"];
    let categories = ["application_failure", "networking", "resource_exhaustion", "misconfiguration"];
    let declared = |i: i64| now - 365 * DAY + i * (365 * DAY / INCIDENTS);
    insert(&db, "incidents", "id, title, severity, category, summary, status, phase, declared_at, declared_by, \
        acknowledged_at, resolved_at, last_update_at", INCIDENTS, |i| {
        let at = declared(i);
        format!(
            "({}, 'Incident {i}', '{}', '{}', '', 'resolved', 'post_incident', {at}, 'bench', {}, {}, {at})",
            i + 1,
            severities[(i % 4) as usize],
            categories[(i % 4) as usize],
            at + (1 + i % 15) * MIN,
            at + (20 + i % 240) * MIN
        )
    })
    .await;
    insert(&db, "incident_components", "incident_id, component_key", INCIDENTS, |i| {
        format!("({}, 'service/{}')", i + 1, 1 + i % 12)
    })
    .await;
    insert(&db, "incident_events", "incident_id, at, actor, kind, payload", INCIDENTS * EVENTS_PER_INCIDENT, |n| {
        let (i, e) = (n / EVENTS_PER_INCIDENT, n % EVENTS_PER_INCIDENT);
        format!("({}, {}, 'bench', 'note', '{{\"kind\":\"note\",\"text\":\"event {e}\",\"decision\":false}}')", i + 1, declared(i) + e * 1000)
    })
    .await;
    insert(
        &db,
        "incident_actions",
        "incident_id, spec, name, status, planned_by, planned_at",
        INCIDENTS / 10,
        |i| format!("({}, '{{}}', 'rollback', 'succeeded', 'bench', {})", i * 10 + 1, declared(i * 10)),
    )
    .await;
    insert(&db, "component_status_changes", "component_key, status, reasons, changed_at", 20_000, |i| {
        let status = if i % 2 == 0 {
            if i % 4 == 0 { "major_outage" } else { "partial_outage" }
        } else {
            "operational"
        };
        format!(
            "('service/{}', '{status}', '[]', {})",
            1 + (i / 2) % 12,
            now - 365 * DAY + i * (365 * DAY / 20_000)
        )
    })
    .await;
    insert(
        &db,
        "follow_ups",
        "incident_id, title, status, components, created_at, created_by, updated_at, due_day",
        5_000,
        |i| {
            let at = declared(i * 2);
            let status = if i % 3 == 0 { "done" } else { "open" };
            format!(
                "({}, 'Follow-up {i}', '{status}', '[]', {at}, 'bench', {at}, {})",
                i * 2 + 1,
                at / DAY + 30
            )
        },
    )
    .await;
    db.pool.close().await;
}

async fn measure(app: &tests::TestApp, client: &reqwest::Client, path: &str) -> (f64, f64) {
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        let response = app.get(client, path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.bytes().await.unwrap();
        times.push(started.elapsed());
    }
    times.sort();
    (percentile(&times, 50), percentile(&times, 99))
}

#[tokio::main]
async fn main() {
    println!("| database | request | p50 ms | p99 ms |");
    println!("| --- | --- | --- | --- |");
    for (backend, name) in [(Backend::Sqlite, "SQLite"), (Backend::Postgres, "PostgreSQL")] {
        let app = spawn_app(backend).await;
        let now = server::db::now_millis();
        let seeding = Instant::now();
        seed(&app.database_url, now).await;
        eprintln!(
            "{name}: seeded {INCIDENTS} incidents and {} events in {:.1} s",
            INCIDENTS * EVENTS_PER_INCIDENT,
            seeding.elapsed().as_secs_f64()
        );
        let exec = app.signed_in("exec@example.com", Role::Viewer).await;
        let year = {
            let today = now.div_euclid(DAY);
            format!(
                "from={}&to={}",
                app::domain::calendar::date_of_day(today - 364),
                app::domain::calendar::date_of_day(today)
            )
        };
        for path in [
            "/api/v1/insights".to_owned(),
            format!("/api/v1/insights?{year}"),
            "/insights".to_owned(),
            format!("/insights?{year}"),
        ] {
            let (p50, p99) = measure(&app, &exec, &path).await;
            println!("| {name} | GET {path} | {p50:.1} | {p99:.1} |");
        }
    }
}
