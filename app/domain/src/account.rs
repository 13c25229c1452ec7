//! Account input that is valid by construction: e-mail addresses and passwords.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A syntactically plausible e-mail address, trimmed and lower-cased so that one
/// person cannot hold two accounts that differ only in case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Email(String);

/// Why an account field was refused, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountInputError {
    #[error("enter an e-mail address such as oncall@example.com")]
    EmailMalformed,
    #[error("the e-mail address is longer than {max} characters")]
    EmailTooLong { max: usize },
    #[error("the password must have at least {min} characters")]
    PasswordTooShort { min: usize },
    #[error("the password must have at most {max} characters")]
    PasswordTooLong { max: usize },
    #[error("the two passwords do not match")]
    PasswordsDiffer,
}

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, AccountInputError> {
        let email = raw.trim().to_lowercase();
        if email.chars().count() > Self::MAX_LEN {
            return Err(AccountInputError::EmailTooLong { max: Self::MAX_LEN });
        }
        let (local, domain) = email.split_once('@').ok_or(AccountInputError::EmailMalformed)?;
        let plausible = !local.is_empty()
            && !domain.is_empty()
            && !domain.contains('@')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if plausible { Ok(Email(email)) } else { Err(AccountInputError::EmailMalformed) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password that meets the length policy. Its `Debug` never shows the text.
#[derive(Clone)]
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_LEN: usize = 12;
    pub const MAX_LEN: usize = 1024;

    pub fn parse(raw: &str) -> Result<Self, AccountInputError> {
        let len = raw.chars().count();
        if len < Self::MIN_LEN {
            Err(AccountInputError::PasswordTooShort { min: Self::MIN_LEN })
        } else if len > Self::MAX_LEN {
            Err(AccountInputError::PasswordTooLong { max: Self::MAX_LEN })
        } else {
            Ok(NewPassword(raw.to_owned()))
        }
    }

    /// Parses a password typed twice, as on the setup form.
    pub fn parse_confirmed(raw: &str, again: &str) -> Result<Self, AccountInputError> {
        if raw != again {
            return Err(AccountInputError::PasswordsDiffer);
        }
        Self::parse(raw)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(<hidden>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_trimmed_and_lower_cased() {
        let email = Email::parse("  Alice@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "alice@example.com");
    }

    #[test]
    fn an_email_without_at_sign_or_domain_is_refused() {
        for raw in ["alice", "alice@", "@example.com", "a@b@c", "a b@c.d", "a@.com"] {
            assert_eq!(Email::parse(raw), Err(AccountInputError::EmailMalformed), "{raw}");
        }
    }

    #[test]
    fn a_short_password_is_refused_with_the_minimum() {
        let err = NewPassword::parse("short").unwrap_err();
        assert_eq!(err, AccountInputError::PasswordTooShort { min: 12 });
        assert!(err.to_string().contains("12"));
    }

    #[test]
    fn passwords_typed_differently_are_refused() {
        let err =
            NewPassword::parse_confirmed("correct horse battery", "correct horse battery!").unwrap_err();
        assert_eq!(err, AccountInputError::PasswordsDiffer);
    }

    #[test]
    fn a_password_is_never_shown_by_debug() {
        let password = NewPassword::parse("correct horse battery").unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }
}
