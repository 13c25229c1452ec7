//! The SQLite and PostgreSQL migration sets must describe the same schema.

use server::config::DatabaseUrl;
use server::db::{Backend, Database};
use std::collections::BTreeSet;
use tests::TestDatabase;

fn migration_names(dir: &str) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations").join(dir);
    let mut names: Vec<String> = std::fs::read_dir(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

async fn columns(db: &Database) -> BTreeSet<(String, String)> {
    let query = match db.backend {
        Backend::Sqlite => {
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'"
        }
        Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%'"
        }
    };
    sqlx::query_as::<_, (String, String)>(query).fetch_all(&db.pool).await.unwrap().into_iter().collect()
}

#[test]
fn both_backends_have_the_same_migration_versions() {
    let sqlite = migration_names("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, migration_names("postgres"));
}

#[tokio::test]
async fn both_backends_reach_the_same_tables_and_columns() {
    let (_sqlite_guard, sqlite_url) = TestDatabase::create(tests::Backend::Sqlite).await;
    let (_pg_guard, pg_url) = TestDatabase::create(tests::Backend::Postgres).await;
    let sqlite = Database::connect(&DatabaseUrl::parse(&sqlite_url).unwrap()).await.unwrap();
    let postgres = Database::connect(&DatabaseUrl::parse(&pg_url).unwrap()).await.unwrap();
    sqlite.migrate().await.unwrap();
    postgres.migrate().await.unwrap();
    let sqlite_columns = columns(&sqlite).await;
    assert!(sqlite_columns.contains(&("users".to_owned(), "email".to_owned())));
    assert_eq!(sqlite_columns, columns(&postgres).await);
    let latest = |db: &Database| {
        let pool = db.pool.clone();
        async move {
            let (version,): (i64,) =
                sqlx::query_as("SELECT MAX(version) FROM _sqlx_migrations").fetch_one(&pool).await.unwrap();
            version
        }
    };
    assert_eq!(latest(&sqlite).await, latest(&postgres).await);
    postgres.pool.close().await;
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_foreign_keys_enforced() {
    let (_guard, url) = TestDatabase::create(tests::Backend::Sqlite).await;
    let db = Database::connect(&DatabaseUrl::parse(&url).unwrap()).await.unwrap();
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode").fetch_one(&db.pool).await.unwrap();
    assert_eq!(mode, "wal");
    let (fk,): (i64,) = sqlx::query_as("PRAGMA foreign_keys").fetch_one(&db.pool).await.unwrap();
    assert_eq!(fk, 1);
}
