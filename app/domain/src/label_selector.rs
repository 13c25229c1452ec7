//! Kubernetes label selectors, as `kubectl -l` and the API's `labelSelector`
//! parameter write them: equality (`app=web`, `tier!=db`), set-based
//! (`env in (prod,staging)`, `env notin (dev)`), existence (`app`, `!canary`),
//! joined by commas. Service components use them to pick their workloads; the
//! drill cluster uses them to filter lists and watches.

use std::collections::BTreeMap;
use std::fmt;

/// One requirement of a selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

/// A parsed selector. The empty selector matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

/// Why a selector was refused, with the offending part.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    #[error("'{0}' is not a valid label key")]
    InvalidKey(String),
    #[error("'{0}' is not a valid label value")]
    InvalidValue(String),
    #[error("unexpected '{0}' in the selector")]
    Unexpected(String),
    #[error("the set after '{0}' must be written as (a,b,…) and close with ')'")]
    UnclosedSet(String),
    #[error("the selector ends where a value was expected")]
    MissingValue,
}

impl Requirement {
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|v| vs.contains(v)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|v| !vs.contains(v)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::DoesNotExist(k) => !labels.contains_key(k),
        }
    }
}

/// A label key: an optional DNS-subdomain prefix and `/`, then a name of at most
/// 63 characters of alphanumerics, `-`, `_` and `.`, starting and ending alphanumeric.
fn valid_key(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|part| {
                !part.is_empty()
                    && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !part.starts_with('-')
                    && !part.ends_with('-')
            })
    });
    prefix_ok && !name.is_empty() && valid_value(name)
}

/// A label value: empty, or at most 63 characters as for a key's name.
fn valid_value(value: &str) -> bool {
    value.is_empty()
        || (value.len() <= 63
            && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && value.starts_with(|c: char| c.is_ascii_alphanumeric())
            && value.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

fn key(raw: &str) -> Result<String, SelectorError> {
    let raw = raw.trim();
    if valid_key(raw) { Ok(raw.to_owned()) } else { Err(SelectorError::InvalidKey(raw.to_owned())) }
}

fn value(raw: &str) -> Result<String, SelectorError> {
    let raw = raw.trim();
    if valid_value(raw) { Ok(raw.to_owned()) } else { Err(SelectorError::InvalidValue(raw.to_owned())) }
}

/// Splits on commas that are not inside parentheses.
fn split_top_level(raw: &str) -> Result<Vec<&str>, SelectorError> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in raw.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err(SelectorError::Unexpected(")".into()));
                }
            }
            ',' if depth == 0 => {
                parts.push(&raw[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(SelectorError::UnclosedSet(raw[start..].trim().to_owned()));
    }
    parts.push(&raw[start..]);
    Ok(parts)
}

fn parse_set(key_part: &str, rest: &str) -> Result<Vec<String>, SelectorError> {
    let rest = rest.trim();
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| SelectorError::UnclosedSet(key_part.trim().to_owned()))?;
    inner.split(',').map(value).collect()
}

fn parse_requirement(part: &str) -> Result<Requirement, SelectorError> {
    let part = part.trim();
    if part.is_empty() {
        return Err(SelectorError::Unexpected(",".into()));
    }
    if let Some(name) = part.strip_prefix('!') {
        return Ok(Requirement::DoesNotExist(key(name)?));
    }
    if let Some((k, v)) = part.split_once("!=") {
        return Ok(Requirement::NotEquals(key(k)?, value(v)?));
    }
    if let Some((k, v)) = part.split_once("==") {
        return Ok(Requirement::Equals(key(k)?, value(v)?));
    }
    if let Some((k, v)) = part.split_once('=') {
        return Ok(Requirement::Equals(key(k)?, value(v)?));
    }
    let words: Vec<&str> = part.splitn(2, char::is_whitespace).collect();
    match words.as_slice() {
        [k] => Ok(Requirement::Exists(key(k)?)),
        [k, rest] => {
            let rest = rest.trim_start();
            if let Some(set) = rest.strip_prefix("notin") {
                Ok(Requirement::NotIn(key(k)?, parse_set(k, set)?))
            } else if let Some(set) = rest.strip_prefix("in") {
                Ok(Requirement::In(key(k)?, parse_set(k, set)?))
            } else if rest.is_empty() {
                Err(SelectorError::MissingValue)
            } else {
                Err(SelectorError::Unexpected(rest.to_owned()))
            }
        }
        _ => Err(SelectorError::MissingValue),
    }
}

impl LabelSelector {
    pub fn parse(raw: &str) -> Result<LabelSelector, SelectorError> {
        if raw.trim().is_empty() {
            return Ok(LabelSelector::default());
        }
        let requirements =
            split_top_level(raw)?.into_iter().map(parse_requirement).collect::<Result<_, _>>()?;
        Ok(LabelSelector { requirements })
    }

    /// A selector requiring every pair of `labels` (as a `matchLabels` map).
    pub fn from_match_labels<'a>(
        labels: impl IntoIterator<Item = (&'a String, &'a String)>,
    ) -> LabelSelector {
        LabelSelector {
            requirements: labels
                .into_iter()
                .map(|(k, v)| Requirement::Equals(k.clone(), v.clone()))
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }
}

impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .requirements
            .iter()
            .map(|r| match r {
                Requirement::Equals(k, v) => format!("{k}={v}"),
                Requirement::NotEquals(k, v) => format!("{k}!={v}"),
                Requirement::In(k, vs) => format!("{k} in ({})", vs.join(",")),
                Requirement::NotIn(k, vs) => format!("{k} notin ({})", vs.join(",")),
                Requirement::Exists(k) => k.clone(),
                Requirement::DoesNotExist(k) => format!("!{k}"),
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn an_empty_selector_matches_everything() {
        let s = LabelSelector::parse("  ").unwrap();
        assert!(s.is_empty());
        assert!(s.matches(&labels(&[])));
    }

    #[test]
    fn equality_requirements_must_all_hold() {
        let s = LabelSelector::parse("app=checkout,tier==web").unwrap();
        assert!(s.matches(&labels(&[("app", "checkout"), ("tier", "web"), ("x", "y")])));
        assert!(!s.matches(&labels(&[("app", "checkout")])));
    }

    #[test]
    fn inequality_matches_a_missing_label() {
        let s = LabelSelector::parse("tier!=db").unwrap();
        assert!(s.matches(&labels(&[])));
        assert!(s.matches(&labels(&[("tier", "web")])));
        assert!(!s.matches(&labels(&[("tier", "db")])));
    }

    #[test]
    fn set_based_requirements_parse_and_match() {
        let s = LabelSelector::parse("env in (prod, staging),track notin (canary),app,!legacy").unwrap();
        assert_eq!(s.requirements().len(), 4);
        assert!(s.matches(&labels(&[("env", "prod"), ("app", "x")])));
        assert!(!s.matches(&labels(&[("env", "dev"), ("app", "x")])));
        assert!(!s.matches(&labels(&[("env", "prod"), ("app", "x"), ("track", "canary")])));
        assert!(!s.matches(&labels(&[("env", "prod"), ("app", "x"), ("legacy", "")])));
        assert!(!s.matches(&labels(&[("env", "prod")])));
    }

    #[test]
    fn prefixed_keys_are_accepted() {
        let s = LabelSelector::parse("app.kubernetes.io/name=checkout").unwrap();
        assert!(s.matches(&labels(&[("app.kubernetes.io/name", "checkout")])));
    }

    #[test]
    fn malformed_selectors_are_refused_with_the_reason() {
        assert_eq!(
            LabelSelector::parse("app=che ckout"),
            Err(SelectorError::InvalidValue("che ckout".into()))
        );
        assert_eq!(LabelSelector::parse("-app=x"), Err(SelectorError::InvalidKey("-app".into())));
        assert!(matches!(LabelSelector::parse("env in (prod"), Err(SelectorError::UnclosedSet(_))));
        assert_eq!(LabelSelector::parse("app=x,,b=c"), Err(SelectorError::Unexpected(",".into())));
        assert!(matches!(LabelSelector::parse("env within (a)"), Err(SelectorError::Unexpected(_))));
        let long = "a".repeat(64);
        assert!(LabelSelector::parse(&format!("app={long}")).is_err());
    }

    #[test]
    fn a_selector_prints_back_in_canonical_form() {
        let s = LabelSelector::parse("app==web, env in (a,b),!x").unwrap();
        assert_eq!(s.to_string(), "app=web,env in (a,b),!x");
        assert_eq!(LabelSelector::parse(&s.to_string()).unwrap(), s);
    }
}
