//! Account storage and the rules around it: unique e-mail addresses, password
//! checks that take the same time whether or not the account exists, and a setup
//! token that can create exactly one first administrator.

use super::password::{generate_secret, hash_password, verify_password};
use super::throttle::SignInThrottle;
use crate::db::{Database, now_millis};
use app::domain::account::{Email, NewPassword};
use app::domain::role::Role;
use sha2::{Digest, Sha256};
use std::sync::{Arc, LazyLock};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub role: Role,
}

/// What starting up did about the one-time setup link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SetupToken {
    /// A new token: this process prints the link.
    Issued(String),
    /// Another replica issued the current token; its log holds the link.
    IssuedBy(String),
    /// An account exists: no setup.
    NotNeeded,
}

/// How long a setup token issued by one replica stays the one link for the others.
const SHARED_SETUP_TOKEN_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("an account with the e-mail address {0} already exists")]
    EmailTaken(String),
    #[error("setup is complete: an account already exists")]
    SetupClosed,
    #[error("the setup token is not valid")]
    SetupTokenInvalid,
    #[error("the password could not be hashed")]
    Hashing,
    #[error("there is no account for {0}")]
    NotFound(String),
    #[error("{0} is the last active admin; make another admin first")]
    LastAdmin(String),
    #[error("the account store is unavailable")]
    Database(#[from] sqlx::Error),
}

/// Verified against when an e-mail address is unknown, so that a wrong address
/// takes as long as a wrong password and does not reveal which accounts exist.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("wheelhouse-dummy-password").unwrap_or_default());

#[derive(Clone, Debug)]
pub struct Accounts {
    db: Database,
    pub throttle: SignInThrottle,
    /// Password checks at once: each Argon2 verify takes about 19 MiB and a
    /// core, so a burst of attempts queues here instead of exhausting memory.
    verifies: Arc<tokio::sync::Semaphore>,
}

type UserRow = (i64, String, String);

fn user_from_row((id, email, role): UserRow) -> Result<User, AccountError> {
    let role = role
        .parse()
        .map_err(|e: app::domain::role::UnknownRole| AccountError::Database(sqlx::Error::Decode(e.into())))?;
    Ok(User { id, email, role })
}

fn token_hash(token: &str) -> String {
    Sha256::digest(token.trim().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

impl Accounts {
    pub fn new(db: Database) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Accounts {
            throttle: SignInThrottle::new(db.clone()),
            db,
            verifies: Arc::new(tokio::sync::Semaphore::new(cores.max(2))),
        }
    }

    #[tracing::instrument(skip_all, fields(user.email = %email, user.role = %role))]
    pub async fn create_user(
        &self,
        email: &Email,
        password: &NewPassword,
        role: Role,
    ) -> Result<User, AccountError> {
        let hash = hash_blocking(password.expose().to_owned()).await?;
        insert_user(&self.db.pool, email, &hash, role).await
    }

    pub async fn find_by_id(&self, id: i64) -> Result<Option<User>, AccountError> {
        let row: Option<UserRow> = sqlx::query_as("SELECT id, email, role FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?;
        row.map(user_from_row).transpose()
    }

    /// The account with this e-mail address (any case), if any.
    pub async fn find_by_email(&self, email: &str) -> Result<Option<User>, AccountError> {
        let row: Option<UserRow> = sqlx::query_as("SELECT id, email, role FROM users WHERE email = $1")
            .bind(email.trim().to_lowercase())
            .fetch_optional(&self.db.pool)
            .await?;
        row.map(user_from_row).transpose()
    }

    /// Every active account, by e-mail address.
    pub async fn list(&self) -> Result<Vec<User>, AccountError> {
        let rows: Vec<UserRow> =
            sqlx::query_as("SELECT id, email, role FROM users WHERE disabled_at IS NULL ORDER BY email")
                .fetch_all(&self.db.pool)
                .await?;
        rows.into_iter().map(user_from_row).collect()
    }

    /// Every account, disabled ones too, with when it was disabled.
    pub async fn list_all(&self) -> Result<Vec<(User, Option<i64>)>, AccountError> {
        let rows: Vec<(i64, String, String, Option<i64>)> =
            sqlx::query_as("SELECT id, email, role, disabled_at FROM users ORDER BY email")
                .fetch_all(&self.db.pool)
                .await?;
        rows.into_iter()
            .map(|(id, email, role, disabled)| Ok((user_from_row((id, email, role))?, disabled)))
            .collect()
    }

    /// The account a session signed in at `signed_in_at` belongs to, while that
    /// session is still good: the account exists, is not disabled, and nothing
    /// ended its sessions since.
    pub async fn session_user(&self, id: i64, signed_in_at: i64) -> Result<Option<User>, AccountError> {
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT id, email, role FROM users WHERE id = $1 AND disabled_at IS NULL AND sessions_after <= $2",
        )
        .bind(id)
        .bind(signed_in_at)
        .fetch_optional(&self.db.pool)
        .await?;
        row.map(user_from_row).transpose()
    }

    /// Gives an account another role; its sessions end at once.
    pub async fn set_role(&self, email: &str, role: Role) -> Result<User, AccountError> {
        let user = self.existing(email).await?;
        if user.role == Role::Admin && role != Role::Admin {
            self.not_last_admin(&user).await?;
        }
        sqlx::query("UPDATE users SET role = $2, sessions_after = $3 WHERE id = $1")
            .bind(user.id)
            .bind(role.as_str())
            .bind(now_millis())
            .execute(&self.db.pool)
            .await?;
        tracing::info!(user.id = user.id, user.role = %role, "role changed; sessions ended");
        Ok(User { role, ..user })
    }

    /// Disables (or enables again) an account; disabling ends its sessions at once.
    pub async fn set_disabled(&self, email: &str, disabled: bool) -> Result<User, AccountError> {
        let user = self.existing(email).await?;
        if disabled && user.role == Role::Admin {
            self.not_last_admin(&user).await?;
        }
        let now = now_millis();
        sqlx::query("UPDATE users SET disabled_at = $2, sessions_after = $3 WHERE id = $1")
            .bind(user.id)
            .bind(disabled.then_some(now))
            .bind(now)
            .execute(&self.db.pool)
            .await?;
        tracing::info!(user.id = user.id, disabled, "account disabled or enabled; sessions ended");
        Ok(user)
    }

    /// Sets a new generated password, returned once; the account's sessions end at once.
    pub async fn reset_password(&self, email: &str) -> Result<(User, String), AccountError> {
        let user = self.existing(email).await?;
        let password = generate_secret(16);
        let hash = hash_blocking(password.clone()).await?;
        sqlx::query("UPDATE users SET password_hash = $2, sessions_after = $3 WHERE id = $1")
            .bind(user.id)
            .bind(hash)
            .bind(now_millis())
            .execute(&self.db.pool)
            .await?;
        tracing::info!(user.id = user.id, "password reset; sessions ended");
        Ok((user, password))
    }

    async fn existing(&self, email: &str) -> Result<User, AccountError> {
        self.find_by_email(email)
            .await?
            .ok_or_else(|| AccountError::NotFound(email.trim().chars().take(254).collect()))
    }

    /// Refuses to take the admin role or the account away from the last active admin.
    async fn not_last_admin(&self, user: &User) -> Result<(), AccountError> {
        let (others,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL AND id <> $1",
        )
        .bind(user.id)
        .fetch_one(&self.db.pool)
        .await?;
        if others == 0 { Err(AccountError::LastAdmin(user.email.clone())) } else { Ok(()) }
    }

    /// The account whose e-mail and password match, if any.
    pub async fn authenticate(&self, email: &str, password: &str) -> Result<Option<User>, AccountError> {
        let email = email.trim().to_lowercase();
        let row: Option<(i64, String, String, String)> = sqlx::query_as(
            "SELECT id, email, role, password_hash FROM users WHERE email = $1 AND disabled_at IS NULL",
        )
        .bind(&email)
        .fetch_optional(&self.db.pool)
        .await?;
        let (user, hash) = match row {
            Some((id, email, role, hash)) => (Some(user_from_row((id, email, role))?), hash),
            None => (None, DUMMY_HASH.clone()),
        };
        let password = password.to_owned();
        let Ok(_permit) = self.verifies.acquire().await else { return Ok(None) };
        let matches =
            tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.unwrap_or(false);
        Ok(user.filter(|_| matches))
    }

    pub async fn has_users(&self) -> Result<bool, AccountError> {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(&self.db.pool).await?;
        Ok(count > 0)
    }

    /// With no accounts yet, makes a new one-time setup token and returns
    /// it; with accounts, answers that none is needed. Alone, a new token
    /// replaces any earlier one (the last start's log holds the link). Among
    /// replicas (`shared`), a token another replica issued within the last
    /// day stays the one link, and the answer names that replica.
    pub async fn issue_setup_token(&self, issuer: &str, shared: bool) -> Result<SetupToken, AccountError> {
        if self.has_users().await? {
            sqlx::query("DELETE FROM setup_token").execute(&self.db.pool).await?;
            return Ok(SetupToken::NotNeeded);
        }
        let token = generate_secret(24);
        let now = now_millis();
        let mut tx = self.db.pool.begin().await?;
        let stale_before = if shared { now - SHARED_SETUP_TOKEN_MS } else { i64::MAX };
        sqlx::query("DELETE FROM setup_token WHERE created_at < $1")
            .bind(stale_before)
            .execute(&mut *tx)
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO setup_token (id, token_hash, created_at, issued_by) VALUES (1, $1, $2, $3) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(token_hash(&token))
        .bind(now)
        .bind(issuer)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            let (by,): (Option<String>,) =
                sqlx::query_as("SELECT issued_by FROM setup_token WHERE id = 1").fetch_one(&mut *tx).await?;
            tx.commit().await?;
            return Ok(SetupToken::IssuedBy(by.unwrap_or_else(|| "another replica".into())));
        }
        tx.commit().await?;
        Ok(SetupToken::Issued(token))
    }

    /// Creates the first administrator if `token` is the current setup token and
    /// no account exists. The token is consumed in the same transaction, so two
    /// concurrent attempts cannot both succeed.
    #[tracing::instrument(skip_all, fields(user.email = %email))]
    pub async fn complete_setup(
        &self,
        token: &str,
        email: &Email,
        password: &NewPassword,
    ) -> Result<User, AccountError> {
        if self.has_users().await? {
            return Err(AccountError::SetupClosed);
        }
        let hash = hash_blocking(password.expose().to_owned()).await?;
        let mut tx = self.db.pool.begin().await?;
        let consumed = sqlx::query("DELETE FROM setup_token WHERE id = 1 AND token_hash = $1")
            .bind(token_hash(token))
            .execute(&mut *tx)
            .await?;
        if consumed.rows_affected() != 1 {
            return Err(AccountError::SetupTokenInvalid);
        }
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(&mut *tx).await?;
        if count > 0 {
            return Err(AccountError::SetupClosed);
        }
        let user = insert_user(&mut *tx, email, &hash, Role::Admin).await?;
        tx.commit().await?;
        Ok(user)
    }
}

async fn hash_blocking(password: String) -> Result<String, AccountError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|_| AccountError::Hashing)?
        .map_err(|_| AccountError::Hashing)
}

async fn insert_user<'e, E>(executor: E, email: &Email, hash: &str, role: Role) -> Result<User, AccountError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let inserted: Result<(i64,), sqlx::Error> = sqlx::query_as(
        "INSERT INTO users (email, password_hash, role, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(email.as_str())
    .bind(hash)
    .bind(role.as_str())
    .bind(now_millis())
    .fetch_one(executor)
    .await;
    match inserted {
        Ok((id,)) => Ok(User { id, email: email.as_str().to_owned(), role }),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(AccountError::EmailTaken(email.as_str().to_owned()))
        }
        Err(e) => Err(e.into()),
    }
}
