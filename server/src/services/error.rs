//! The one error type of the service layer: what went wrong, in words a
//! person can act on, with no HTTP, SQL or Kubernetes detail. Each entry point
//! maps it once (the JSON API to its error body, forms to the page again).

use std::error::Error as StdError;

/// Why a use case did not happen. Nothing was changed when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    /// The incident, action or other thing named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The caller may not do this (the reason says who may).
    #[error("{0}")]
    Forbidden(String),
    /// Not possible in the current state (e.g. resolving with an action running).
    #[error("{0}")]
    Conflict(String),
    /// An input field is not valid.
    #[error("{message}")]
    Invalid { field: &'static str, message: String },
    /// The cluster API refused the request (403, 409, 422, …); in plain words.
    #[error("{0}")]
    Refused(String),
    /// A part Wheelhouse depends on (the database, the cluster API) cannot be
    /// used right now; trying again later may work.
    #[error("{message}")]
    Unavailable { message: String, error_id: Option<String> },
    /// A fault on our side; the cause is in the log under `error_id`.
    #[error("Something went wrong on Wheelhouse's side and nothing was changed (error id {error_id}).")]
    Internal { error_id: String },
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> ServiceError {
        ServiceError::Invalid { field, message: message.into() }
    }

    /// Logs `cause` with its whole chain, once, under a fresh error id, and
    /// answers `message` (a sentence for people) with that id.
    pub fn unavailable(message: &str, cause: &(dyn StdError + 'static)) -> ServiceError {
        let error_id = log_cause(message, cause);
        ServiceError::Unavailable {
            message: format!("{message} (error id {error_id})"),
            error_id: Some(error_id),
        }
    }

    /// Logs `cause` with its whole chain, once, and answers a sentence with the error id.
    pub fn internal(what: &str, cause: &(dyn StdError + 'static)) -> ServiceError {
        ServiceError::Internal { error_id: log_cause(what, cause) }
    }

    /// The input field at fault, when there is one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            ServiceError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The id under which the cause was logged, when there is one.
    pub fn error_id(&self) -> Option<&str> {
        match self {
            ServiceError::Unavailable { error_id, .. } => error_id.as_deref(),
            ServiceError::Internal { error_id } => Some(error_id),
            _ => None,
        }
    }
}

/// A short random id that ties what a person saw to the log line with the cause.
fn new_error_id() -> String {
    let bytes: [u8; 6] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn log_cause(what: &str, cause: &(dyn StdError + 'static)) -> String {
    let error_id = new_error_id();
    let mut chain = cause.to_string();
    let mut source = cause.source();
    while let Some(next) = source {
        chain.push_str(": ");
        chain.push_str(&next.to_string());
        source = next.source();
    }
    tracing::error!(error.id = %error_id, error.chain = %chain, "{what}");
    error_id
}

impl From<domain::incident::FieldError> for ServiceError {
    fn from(error: domain::incident::FieldError) -> Self {
        ServiceError::Invalid { field: error.field, message: error.message }
    }
}

impl From<domain::incident_lifecycle::Refusal> for ServiceError {
    fn from(refusal: domain::incident_lifecycle::Refusal) -> Self {
        use domain::incident_lifecycle::Refusal;
        match refusal {
            Refusal::NotPermitted(message) => ServiceError::Forbidden(message),
            Refusal::Invalid(message) => ServiceError::Conflict(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_shows_an_id_and_not_its_cause() {
        let cause = std::io::Error::other("connection reset by peer at 10.0.0.7");
        let error = ServiceError::internal("cannot store the note", &cause);
        let shown = error.to_string();
        assert!(!shown.contains("10.0.0.7"), "{shown}");
        assert!(shown.contains(error.error_id().unwrap()), "{shown}");
    }

    #[test]
    fn a_refusal_becomes_forbidden_or_a_conflict() {
        use domain::incident_lifecycle::Refusal;
        assert_eq!(
            ServiceError::from(Refusal::NotPermitted("Only the commander.".into())),
            ServiceError::Forbidden("Only the commander.".into())
        );
        assert!(matches!(
            ServiceError::from(Refusal::Invalid("Resolved.".into())),
            ServiceError::Conflict(_)
        ));
    }
}
