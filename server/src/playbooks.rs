//! Playbooks as stored: the shipped ones (`server/playbooks/*.yaml`, compiled
//! in) until an admin edits them, and those admins add. Each is one YAML
//! document, read into [`Playbook`] and checked on save; a refusal names the
//! line and column, as template errors do.

use crate::db::{Database, DbError};
use app::domain::playbook::Playbook;

/// The shipped playbooks, in the order the admin page lists them.
pub const SHIPPED: [(&str, &str); 9] = [
    ("crash-loop", include_str!("../playbooks/crash-loop.yaml")),
    ("image-pull", include_str!("../playbooks/image-pull.yaml")),
    ("oom-killed", include_str!("../playbooks/oom-killed.yaml")),
    ("failed-scheduling", include_str!("../playbooks/failed-scheduling.yaml")),
    ("node-not-ready", include_str!("../playbooks/node-not-ready.yaml")),
    ("node-pressure", include_str!("../playbooks/node-pressure.yaml")),
    ("control-plane", include_str!("../playbooks/control-plane.yaml")),
    ("event-storm", include_str!("../playbooks/event-storm.yaml")),
    ("no-endpoints", include_str!("../playbooks/no-endpoints.yaml")),
];

/// Longest playbook source, in bytes.
pub const MAX_SOURCE_BYTES: usize = 64 * 1024;

/// Why a playbook's source was refused, with where when known (1-based).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", .location.map(|(line, column)| format!("line {line}, column {column}: ")).unwrap_or_default())]
pub struct SourceError {
    pub message: String,
    pub location: Option<(usize, usize)>,
}

/// Reads and checks one playbook's YAML.
pub fn parse(source: &str) -> Result<Playbook, SourceError> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(SourceError {
            message: format!("a playbook is at most {} KiB of YAML.", MAX_SOURCE_BYTES / 1024),
            location: None,
        });
    }
    let playbook: Playbook = serde_yaml_ng::from_str(source).map_err(|error| SourceError {
        location: error.location().map(|l| (l.line(), l.column())),
        message: error.to_string().split(" at line ").next().unwrap_or_default().to_owned(),
    })?;
    playbook.check().map_err(|error| {
        // Point at the field the check names (`steps[2]: …` → the `steps:` key).
        let key = error.message.split([':', '[']).next().unwrap_or_default();
        let location = source
            .lines()
            .position(|line| line.trim_start().starts_with(&format!("{key}:")))
            .map(|line| (line + 1, 1));
        SourceError { message: error.message, location }
    })?;
    Ok(playbook)
}

/// A playbook as the admin page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlaybookEntry {
    pub playbook: Playbook,
    pub source: String,
    pub shipped: bool,
    /// A shipped playbook an admin changed, or one an admin added.
    pub customised: bool,
    pub updated_by: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Playbooks {
    db: Database,
}

impl Playbooks {
    pub fn new(db: Database) -> Playbooks {
        Playbooks { db }
    }

    /// Every playbook: the shipped ones (as edited, if they were), then the added ones by id.
    pub async fn list(&self) -> Result<Vec<PlaybookEntry>, DbError> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT id, source, updated_by FROM playbooks ORDER BY id")
                .fetch_all(&self.db.pool)
                .await?;
        let mut entries = Vec::new();
        for (id, shipped_source) in SHIPPED {
            let edited = rows.iter().find(|(row_id, _, _)| row_id == id);
            let source = edited.map_or(shipped_source, |(_, source, _)| source.as_str());
            match parse(source) {
                Ok(playbook) => entries.push(PlaybookEntry {
                    playbook,
                    source: source.to_owned(),
                    shipped: true,
                    customised: edited.is_some(),
                    updated_by: edited.map(|(_, _, by)| by.clone()),
                }),
                Err(error) => {
                    tracing::error!(playbook = id, %error, "a stored playbook no longer reads; skipped")
                }
            }
        }
        for (id, source, by) in rows.iter().filter(|(id, _, _)| !SHIPPED.iter().any(|(s, _)| s == id)) {
            match parse(source) {
                Ok(playbook) => entries.push(PlaybookEntry {
                    playbook,
                    source: source.clone(),
                    shipped: false,
                    customised: true,
                    updated_by: Some(by.clone()),
                }),
                Err(error) => {
                    tracing::error!(playbook = %id, %error, "a stored playbook no longer reads; skipped")
                }
            }
        }
        Ok(entries)
    }

    /// Saves an edited or new playbook under its id (already checked by [`parse`]).
    pub async fn save(&self, playbook: &Playbook, source: &str, by: &str, now: i64) -> Result<(), DbError> {
        let mut tx = self.db.pool.begin().await?;
        sqlx::query("DELETE FROM playbooks WHERE id = $1").bind(&playbook.id).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO playbooks (id, source, updated_at, updated_by) VALUES ($1, $2, $3, $4)")
            .bind(&playbook.id)
            .bind(source)
            .bind(now)
            .bind(by)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes an admin's version: a shipped playbook returns to its shipped
    /// text, an added one is gone. Returns whether there was one.
    pub async fn reset(&self, id: &str) -> Result<bool, DbError> {
        let done = sqlx::query("DELETE FROM playbooks WHERE id = $1").bind(id).execute(&self.db.pool).await?;
        Ok(done.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_playbooks_read_and_carry_their_file_names_as_ids() {
        for (id, source) in SHIPPED {
            let playbook = parse(source).unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(playbook.id, id);
        }
    }

    #[test]
    fn a_refusal_names_the_line_and_column() {
        let error = parse("id: x\ntitle: X\nwhen:\n  signals: [meteor_strike]\nsteps: [a]\n").unwrap_err();
        assert_eq!(error.location.map(|l| l.0), Some(4), "{error}");
        assert!(error.message.contains("unknown variant `meteor_strike`"), "{error}");
        let error = parse("id: x\ntitle: X\nwhen:\n  signals: [event_storm]\nsteps: []\n").unwrap_err();
        assert_eq!(error.to_string(), "line 5, column 1: steps: write between 1 and 30 steps.");
        let error = parse("id: x\ntitle: X\nwhen: {}\nsteps: [a]\ncolour: red\n").unwrap_err();
        assert!(error.message.contains("unknown field `colour`"), "{error}");
    }
}
