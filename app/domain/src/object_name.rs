//! Values that name things in Kubernetes, checked once at the boundary:
//! object names (nodes, namespaces, workloads, pods) and replica counts.

use crate::incident::FieldError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::Deref;

/// A DNS-1123 subdomain name: what Kubernetes accepts for nodes, namespaces
/// and most objects (lower-case letters, digits, '-' and '.', starting and
/// ending with a letter or digit, at most 253 characters).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ObjectName(String);

impl ObjectName {
    pub const MAX_LEN: usize = 253;

    /// `raw` trimmed, if it is a valid name.
    pub fn parse(raw: &str) -> Option<ObjectName> {
        let name = raw.trim();
        let valid = !name.is_empty()
            && name.len() <= Self::MAX_LEN
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
            && name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name.ends_with(|c: char| c.is_ascii_alphanumeric());
        valid.then(|| ObjectName(name.to_owned()))
    }

    /// Like [`ObjectName::parse`], refusing with a sentence about `field` (the `what` it names).
    pub fn parse_field(field: &'static str, what: &str, raw: &str) -> Result<ObjectName, FieldError> {
        ObjectName::parse(raw).ok_or_else(|| {
            let name = raw.trim();
            if name.is_empty() {
                FieldError::new(field, format!("Choose the {what}."))
            } else {
                FieldError::new(
                    field,
                    format!("'{}' is not a valid {what} name.", name.chars().take(80).collect::<String>()),
                )
            }
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for ObjectName {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ObjectName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ObjectName {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        ObjectName::parse(&raw).ok_or_else(|| format!("'{raw}' is not a valid Kubernetes object name"))
    }
}

impl From<ObjectName> for String {
    fn from(name: ObjectName) -> String {
        name.0
    }
}

impl PartialEq<str> for ObjectName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<ObjectName> for String {
    fn eq(&self, other: &ObjectName) -> bool {
        *self == other.0
    }
}

/// A replica count for scaling. Typed counts are at most [`Replicas::MAX`], a
/// guard against a typo; a recorded count (the undo of a scale) may be any.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Replicas(u32);

impl Replicas {
    pub const MAX: u32 = 1000;

    /// A count read from the cluster (e.g. before scaling), whatever its size.
    pub fn recorded(count: u32) -> Replicas {
        Replicas(count)
    }

    /// A count as typed into a form or a request.
    pub fn parse(raw: &str) -> Result<Replicas, FieldError> {
        raw.trim().parse::<u32>().ok().filter(|count| *count <= Self::MAX).map(Replicas).ok_or_else(|| {
            FieldError::new("replicas", format!("Replicas is a whole number from 0 to {}.", Self::MAX))
        })
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Replicas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_name_is_trimmed_and_must_be_dns_1123() {
        assert_eq!(ObjectName::parse(" worker-1 ").unwrap().as_str(), "worker-1");
        for bad in ["", "Worker_1", "-x", "x-", "a/b", &"a".repeat(254)] {
            assert!(ObjectName::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_stored_name_that_is_not_valid_does_not_deserialise() {
        assert!(serde_json::from_str::<ObjectName>("\"ok.name\"").is_ok());
        assert!(serde_json::from_str::<ObjectName>("\"Not OK\"").is_err());
    }

    #[test]
    fn typed_replicas_are_zero_to_a_thousand() {
        assert_eq!(Replicas::parse("0").unwrap().get(), 0);
        assert_eq!(Replicas::parse("1000").unwrap().get(), 1000);
        assert_eq!(Replicas::parse("1001").unwrap_err().field, "replicas");
        assert_eq!(Replicas::parse("-1").unwrap_err().field, "replicas");
        assert_eq!(
            serde_json::from_str::<Replicas>("5000").unwrap(),
            Replicas::recorded(5000),
            "a recorded count"
        );
    }
}
