//! The database: one pool and one set of queries for SQLite and PostgreSQL,
//! through sqlx's `Any` driver. Queries use `$1` placeholders, which both accept.

use crate::config::DatabaseUrl;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};
use std::time::Duration;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool and which backend it talks to.
#[derive(Clone, Debug)]
pub struct Database {
    pub pool: AnyPool,
    pub backend: Backend,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot connect to the database {url}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("database migrations failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database query failed")]
    Query(#[from] sqlx::Error),
}

impl Database {
    /// Connects (creating a SQLite file if needed) and sets SQLite up for a
    /// server: WAL journal, foreign keys enforced, a busy timeout instead of
    /// immediate "database is locked" errors.
    #[tracing::instrument(skip_all, fields(db.url = %url))]
    pub async fn connect(url: &DatabaseUrl) -> Result<Database, DbError> {
        install_default_drivers();
        let backend = match url {
            DatabaseUrl::Sqlite { .. } => Backend::Sqlite,
            DatabaseUrl::Postgres { .. } => Backend::Postgres,
        };
        let mut options = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(5));
        if backend == Backend::Sqlite {
            options = options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;",
                    )
                    .await?;
                    Ok(())
                })
            });
        }
        let pool = options
            .connect(&url.connect_url())
            .await
            .map_err(|source| DbError::Connect { url: url.to_string(), source })?;
        if backend == Backend::Sqlite {
            // WAL is a property of the file: set once, it stays.
            pool.execute("PRAGMA journal_mode = WAL;").await?;
        }
        Ok(Database { pool, backend })
    }

    pub fn migrator(backend: Backend) -> &'static Migrator {
        match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// A migrated SQLite database in a new temporary file, for unit tests;
    /// the caller removes the file.
    #[cfg(test)]
    pub async fn scratch(name: &str) -> (Database, std::path::PathBuf) {
        let path = std::env::temp_dir()
            .join(format!("wheelhouse-{name}-{}.db", crate::accounts::generate_secret(6)));
        let url = crate::config::DatabaseUrl::parse(&format!("sqlite://{}", path.display())).unwrap();
        let db = Database::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        (db, path)
    }

    /// Applies the migrations this backend has not seen yet.
    #[tracing::instrument(skip_all)]
    pub async fn migrate(&self) -> Result<(), DbError> {
        Database::migrator(self.backend).run(&self.pool).await?;
        Ok(())
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// Another process serves the same SQLite file.
#[derive(Debug, thiserror::Error)]
#[error(
    "another Wheelhouse process is serving the SQLite database {path}: SQLite allows one server per file. \
     Stop the other process, or run several replicas on PostgreSQL with --leader-election"
)]
pub struct SqliteInUse {
    pub path: String,
}

/// For a SQLite database, an exclusive lock on `PATH.lock`, held while serving
/// (so a second server on the same file refuses to start; one-off commands
/// such as `wheelhouse user add` do not take it). `None` for PostgreSQL and
/// in-memory databases.
pub fn lock_sqlite_file(url: &DatabaseUrl) -> Result<Option<std::fs::File>, SqliteInUse> {
    let DatabaseUrl::Sqlite { path } = url else { return Ok(None) };
    if path.starts_with(':') {
        return Ok(None);
    }
    // A file beside the database, never the database itself: closing any descriptor
    // of a file drops the process's POSIX locks on it, which SQLite relies on.
    let lock_path = format!("{path}.lock");
    let file = match std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path) {
        Ok(file) => file,
        Err(error) => {
            tracing::warn!(error = %error, lock.path = %lock_path, "cannot open the SQLite lock file; not guarding against a second server");
            return Ok(None);
        }
    };
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Err(SqliteInUse { path: path.clone() }),
        Err(std::fs::TryLockError::Error(error)) => {
            tracing::warn!(error = %error, db.path = %path, "cannot lock the SQLite file; not guarding against a second server");
            Ok(None)
        }
    }
}

/// Milliseconds since the Unix epoch: how every time is stored.
pub fn now_millis() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64 / 1_000_000
}
