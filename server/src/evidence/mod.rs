//! Evidence for incidents: captured through the Kubernetes API ([`capture`]),
//! stored as one immutable JSON document per capture with its SHA-256, and
//! announced on the incident's timeline (`evidence_captured`) in the same
//! transaction. The database refuses edits and deletions of evidence.

pub mod capture;

use crate::db::Database;
use crate::events::EventHub;
use crate::incidents::{IncidentError, append_event, live_data};
use app::domain::evidence::Evidence;
use app::domain::incident_lifecycle::{Actor, TimelineEvent};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// What the timeline and the lists say about a capture (the document apart).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct EvidenceRecord {
    pub id: i64,
    pub incident_id: i64,
    /// `deployment/shop/checkout`, `node/worker-2`, …
    pub subject: String,
    pub captured_at: i64,
    pub captured_by: String,
    pub sha256: String,
    pub bytes: u64,
}

const COLUMNS: &str = "id, incident_id, subject, captured_at, captured_by, sha256, bytes";

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    incident_id: i64,
    subject: String,
    captured_at: i64,
    captured_by: String,
    sha256: String,
    bytes: i64,
}

#[derive(sqlx::FromRow)]
struct DocumentRow {
    #[sqlx(flatten)]
    record: Row,
    document: String,
}

fn from_row(row: Row) -> EvidenceRecord {
    EvidenceRecord {
        id: row.id,
        incident_id: row.incident_id,
        subject: row.subject,
        captured_at: row.captured_at,
        captured_by: row.captured_by,
        sha256: row.sha256,
        bytes: u64::try_from(row.bytes).unwrap_or(0),
    }
}

/// The SHA-256 of a document, in lower-case hex (what `sha256sum` prints).
pub fn digest(document: &[u8]) -> String {
    Sha256::digest(document).iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Clone)]
pub struct EvidenceStore {
    db: Database,
    hub: Arc<EventHub>,
}

impl EvidenceStore {
    pub fn new(db: Database, hub: Arc<EventHub>) -> EvidenceStore {
        EvidenceStore { db, hub }
    }

    /// Keeps a capture and puts it on the incident's timeline, in one transaction.
    pub async fn record(
        &self,
        incident_id: i64,
        actor: &Actor,
        evidence: &Evidence,
    ) -> Result<EvidenceRecord, IncidentError> {
        let document = serde_json::to_string_pretty(evidence).unwrap_or_default();
        let sha256 = digest(document.as_bytes());
        let bytes = document.len() as u64;
        let subject = evidence.subject.path();
        let mut tx = self.db.pool.begin().await?;
        let exists: Option<(i64,)> = sqlx::query_as("SELECT id FROM incidents WHERE id = $1")
            .bind(incident_id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(IncidentError::NotFound(incident_id));
        }
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO evidence (incident_id, subject, captured_at, captured_by, document, sha256, bytes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(incident_id)
        .bind(&subject)
        .bind(evidence.captured_at)
        .bind(&actor.name)
        .bind(&document)
        .bind(&sha256)
        .bind(bytes as i64)
        .fetch_one(&mut *tx)
        .await?;
        let event = TimelineEvent::EvidenceCaptured {
            evidence: id,
            subject: evidence.subject.to_string(),
            sha256: sha256.clone(),
            bytes,
            summary: evidence.summary(),
        };
        let entry = append_event(&mut tx, incident_id, actor, &event, evidence.captured_at).await?;
        self.hub.append(&mut tx, "incident", &live_data(&entry)).await?;
        tx.commit().await?;
        self.hub.committed();
        Ok(EvidenceRecord {
            id,
            incident_id,
            subject,
            captured_at: evidence.captured_at,
            captured_by: actor.name.clone(),
            sha256,
            bytes,
        })
    }

    /// An incident's captures, newest first.
    pub async fn list(&self, incident_id: i64) -> Result<Vec<EvidenceRecord>, IncidentError> {
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM evidence WHERE incident_id = $1 ORDER BY id DESC"
        ))
        .bind(incident_id)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows.into_iter().map(from_row).collect())
    }

    /// One capture with its document, exactly as stored.
    pub async fn document(
        &self,
        incident_id: i64,
        id: i64,
    ) -> Result<Option<(EvidenceRecord, String)>, IncidentError> {
        let row: Option<DocumentRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS}, document FROM evidence WHERE incident_id = $1 AND id = $2"
        ))
        .bind(incident_id)
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await?;
        Ok(row.map(|row| (from_row(row.record), row.document)))
    }

    /// The newest capture of each subject, read back (what playbooks match on).
    pub async fn latest(&self, incident_id: i64) -> Result<Vec<Evidence>, IncidentError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT document FROM evidence WHERE id IN \
             (SELECT MAX(id) FROM evidence WHERE incident_id = $1 GROUP BY subject) ORDER BY id",
        )
        .bind(incident_id)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(document,)| match serde_json::from_str::<Evidence>(&document) {
                Ok(evidence) => Some(evidence),
                Err(error) => {
                    tracing::error!(incident.id = incident_id, %error, "stored evidence no longer reads");
                    None
                }
            })
            .collect())
    }
}
