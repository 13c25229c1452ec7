//! Storage of the service components admins define.

use crate::db::{Database, DbError, now_millis};
use app::domain::component::{ComponentDefinition, ComponentError, ComponentForm, ServiceComponent};
use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Debug, thiserror::Error)]
pub enum ComponentStoreError {
    #[error(transparent)]
    Invalid(#[from] ComponentError),
    #[error("component {0} not found")]
    NotFound(i64),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for ComponentStoreError {
    fn from(error: sqlx::Error) -> Self {
        ComponentStoreError::Db(DbError::Query(error))
    }
}

type Row = (i64, String, String, String, String, String, String);

fn from_row(
    (id, name, description, group, namespace, selector, visibility): Row,
) -> Option<ServiceComponent> {
    let form = ComponentForm { name, description, group, namespace, selector, visibility };
    match ComponentDefinition::parse(&form) {
        Ok(definition) => Some(ServiceComponent { id, definition }),
        Err(error) => {
            tracing::error!(component.id = id, error = %error, "a stored component no longer validates; skipped");
            None
        }
    }
}

/// The service components, and a signal for the health engine when they change.
#[derive(Clone, Debug)]
pub struct Components {
    db: Database,
    pub changed: Arc<Notify>,
}

const COLUMNS: &str = "id, name, description, group_name, namespace, selector, visibility";

impl Components {
    pub fn new(db: Database) -> Components {
        Components { db, changed: Arc::new(Notify::new()) }
    }

    /// Every service component, by group then name.
    pub async fn list(&self) -> Result<Vec<ServiceComponent>, DbError> {
        let rows: Vec<Row> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM components ORDER BY group_name, name_key"))
                .fetch_all(&self.db.pool)
                .await?;
        Ok(rows.into_iter().filter_map(from_row).collect())
    }

    pub async fn get(&self, id: i64) -> Result<ServiceComponent, ComponentStoreError> {
        let row: Option<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM components WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?;
        row.and_then(from_row).ok_or(ComponentStoreError::NotFound(id))
    }

    async fn name_taken(&self, name: &str, except: Option<i64>) -> Result<bool, DbError> {
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM components WHERE name_key = $1 AND id <> $2")
                .bind(name.to_lowercase())
                .bind(except.unwrap_or(-1))
                .fetch_one(&self.db.pool)
                .await?;
        Ok(count > 0)
    }

    /// Stores a new component; a duplicate name (in any case) is refused.
    #[tracing::instrument(skip_all, fields(component.name = %definition.name))]
    pub async fn create(&self, definition: &ComponentDefinition) -> Result<i64, ComponentStoreError> {
        if self.name_taken(&definition.name, None).await? {
            return Err(ComponentError::DuplicateName(definition.name.clone()).into());
        }
        let now = now_millis();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO components (name, name_key, description, group_name, namespace, selector, visibility, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(&definition.name)
        .bind(definition.name.to_lowercase())
        .bind(&definition.description)
        .bind(&definition.group)
        .bind(&definition.namespace)
        .bind(definition.selector.to_string())
        .bind(definition.visibility.as_str())
        .bind(now)
        .fetch_one(&self.db.pool)
        .await
        .map_err(|e| duplicate_or(e, &definition.name))?;
        self.changed.notify_one();
        Ok(id)
    }

    #[tracing::instrument(skip_all, fields(component.id = id))]
    pub async fn update(&self, id: i64, definition: &ComponentDefinition) -> Result<(), ComponentStoreError> {
        if self.name_taken(&definition.name, Some(id)).await? {
            return Err(ComponentError::DuplicateName(definition.name.clone()).into());
        }
        let done = sqlx::query(
            "UPDATE components SET name = $1, name_key = $2, description = $3, group_name = $4, namespace = $5, \
             selector = $6, visibility = $7, updated_at = $8 WHERE id = $9",
        )
        .bind(&definition.name)
        .bind(definition.name.to_lowercase())
        .bind(&definition.description)
        .bind(&definition.group)
        .bind(&definition.namespace)
        .bind(definition.selector.to_string())
        .bind(definition.visibility.as_str())
        .bind(now_millis())
        .bind(id)
        .execute(&self.db.pool)
        .await
        .map_err(|e| duplicate_or(e, &definition.name))?;
        if done.rows_affected() == 0 {
            return Err(ComponentStoreError::NotFound(id));
        }
        self.changed.notify_one();
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(component.id = id))]
    pub async fn delete(&self, id: i64) -> Result<(), ComponentStoreError> {
        let done =
            sqlx::query("DELETE FROM components WHERE id = $1").bind(id).execute(&self.db.pool).await?;
        if done.rows_affected() == 0 {
            return Err(ComponentStoreError::NotFound(id));
        }
        self.changed.notify_one();
        Ok(())
    }

    /// Offers suggested components once per database (the drill scenario's
    /// services, so a newcomer sees the dashboard populated). Returns how many were added.
    pub async fn seed_once(&self, suggestions: &[ComponentDefinition]) -> Result<usize, ComponentStoreError> {
        let inserted = sqlx::query(
            "INSERT INTO component_seeding (id, seeded_at) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
        )
        .bind(now_millis())
        .execute(&self.db.pool)
        .await?;
        if inserted.rows_affected() == 0 {
            return Ok(0);
        }
        let mut added = 0;
        for definition in suggestions {
            match self.create(definition).await {
                Ok(_) => added += 1,
                Err(ComponentStoreError::Invalid(ComponentError::DuplicateName(_))) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(added)
    }
}

/// A unique-constraint failure that slipped past the check (two admins at once) is a duplicate name.
fn duplicate_or(error: sqlx::Error, name: &str) -> ComponentStoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            ComponentError::DuplicateName(name.to_owned()).into()
        }
        _ => error.into(),
    }
}
