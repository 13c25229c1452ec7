//! API tokens for automation (CI pipelines, chat bots, alert routers): created
//! by an admin with a name and a role, shown once, stored as a SHA-256 hash,
//! revocable. A token is 32 random bytes, so a fast hash is enough: there is
//! nothing to guess that a slow hash would protect.

use crate::accounts::generate_secret;
use crate::db::{Database, DbError, now_millis};
use app::domain::role::Role;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// What every token starts with, so that secret scanners and people recognise one.
pub const TOKEN_PREFIX: &str = "whk_";
/// Longest token name.
pub const MAX_NAME_CHARS: usize = 64;

/// A token as listed (never the secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub created_at: i64,
    pub created_by: String,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("A token name is 1 to {MAX_NAME_CHARS} letters, digits, '-', '_' or '.'.")]
    BadName,
    #[error("A token named '{0}' already exists.")]
    NameTaken(String),
    #[error("There is no such token.")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for TokenError {
    fn from(error: sqlx::Error) -> Self {
        TokenError::Db(DbError::Query(error))
    }
}

fn hash(token: &str) -> String {
    Sha256::digest(token.trim().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_name(raw: &str) -> Result<String, TokenError> {
    let name = raw.trim();
    let valid = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid { Ok(name.to_owned()) } else { Err(TokenError::BadName) }
}

type TokenRow = (i64, String, String, i64, String, Option<i64>, Option<i64>);

fn from_row((id, name, role, created_at, created_by, revoked_at, last_used_at): TokenRow) -> ApiToken {
    // The column's CHECK allows only known roles; an unknown one would be read as the least.
    let role = role.parse().unwrap_or(Role::Viewer);
    ApiToken { id, name, role, created_at, created_by, revoked_at, last_used_at }
}

#[derive(Clone, Debug)]
pub struct Tokens {
    db: Database,
}

impl Tokens {
    pub fn new(db: Database) -> Tokens {
        Tokens { db }
    }

    /// Creates a token; returns it and the secret, which is not stored and cannot be shown again.
    #[tracing::instrument(skip_all, fields(token.name = %name, token.role = %role))]
    pub async fn create(
        &self,
        name: &str,
        role: Role,
        created_by: &str,
    ) -> Result<(ApiToken, String), TokenError> {
        let name = parse_name(name)?;
        let secret = format!("{TOKEN_PREFIX}{}", generate_secret(32));
        let now = now_millis();
        let inserted: Result<(i64,), sqlx::Error> = sqlx::query_as(
            "INSERT INTO api_tokens (name, role, token_hash, created_at, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(&name)
        .bind(role.as_str())
        .bind(hash(&secret))
        .bind(now)
        .bind(created_by)
        .fetch_one(&self.db.pool)
        .await;
        let (id,) = match inserted {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(TokenError::NameTaken(name));
            }
            other => other?,
        };
        tracing::info!(token.id = id, "API token created");
        let token = ApiToken {
            id,
            name,
            role,
            created_at: now,
            created_by: created_by.to_owned(),
            revoked_at: None,
            last_used_at: None,
        };
        Ok((token, secret))
    }

    /// The live (not revoked) token with this secret, noting that it was used.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<ApiToken>, TokenError> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let row: Option<TokenRow> = sqlx::query_as(
            "SELECT id, name, role, created_at, created_by, revoked_at, last_used_at FROM api_tokens \
             WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash(secret))
        .fetch_optional(&self.db.pool)
        .await?;
        let Some(token) = row.map(from_row) else { return Ok(None) };
        // Recorded at most once a minute per token, so that a busy bot does not write on every call.
        let now = now_millis();
        if token.last_used_at.is_none_or(|last| now - last > 60_000) {
            sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
                .bind(token.id)
                .bind(now)
                .execute(&self.db.pool)
                .await?;
        }
        Ok(Some(token))
    }

    /// Every token, newest first.
    pub async fn list(&self) -> Result<Vec<ApiToken>, TokenError> {
        let rows: Vec<TokenRow> = sqlx::query_as(
            "SELECT id, name, role, created_at, created_by, revoked_at, last_used_at FROM api_tokens ORDER BY id DESC",
        )
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows.into_iter().map(from_row).collect())
    }

    /// Revokes a token; revoking one already revoked changes nothing.
    #[tracing::instrument(skip_all, fields(token.id = id))]
    pub async fn revoke(&self, id: i64) -> Result<ApiToken, TokenError> {
        sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(now_millis())
            .execute(&self.db.pool)
            .await?;
        let row: Option<TokenRow> = sqlx::query_as(
            "SELECT id, name, role, created_at, created_by, revoked_at, last_used_at FROM api_tokens WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await?;
        let token = row.map(from_row).ok_or(TokenError::NotFound)?;
        tracing::info!(token.name = %token.name, "API token revoked");
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_names_are_short_and_plain() {
        assert_eq!(parse_name(" ci-pipeline ").unwrap(), "ci-pipeline");
        assert!(parse_name("").is_err());
        assert!(parse_name("has space").is_err());
        assert!(parse_name(&"x".repeat(65)).is_err());
    }

    #[test]
    fn the_hash_ignores_surrounding_space_and_is_hex() {
        assert_eq!(hash("whk_abc"), hash(" whk_abc\n"));
        assert_eq!(hash("whk_abc").len(), 64);
    }
}
