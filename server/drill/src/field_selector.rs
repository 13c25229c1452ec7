//! Field selectors (`fieldSelector=spec.nodeName=node-1,status.phase!=Running`):
//! equality and inequality on dotted paths into an object.

use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldRequirement {
    pub path: String,
    pub value: String,
    pub equal: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector {
    requirements: Vec<FieldRequirement>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid field selector '{0}': expected FIELD=VALUE or FIELD!=VALUE, joined by commas")]
pub struct FieldSelectorError(pub String);

impl FieldSelector {
    pub fn parse(raw: &str) -> Result<FieldSelector, FieldSelectorError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(FieldSelector::default());
        }
        let requirements = raw
            .split(',')
            .map(|part| {
                let part = part.trim();
                let (path, value, equal) = if let Some((p, v)) = part.split_once("!=") {
                    (p, v, false)
                } else if let Some((p, v)) = part.split_once("==") {
                    (p, v, true)
                } else if let Some((p, v)) = part.split_once('=') {
                    (p, v, true)
                } else {
                    return Err(FieldSelectorError(raw.to_owned()));
                };
                let path = path.trim();
                if path.is_empty() || !path.chars().all(|c| c.is_ascii_alphanumeric() || c == '.') {
                    return Err(FieldSelectorError(raw.to_owned()));
                }
                Ok(FieldRequirement { path: path.to_owned(), value: value.trim().to_owned(), equal })
            })
            .collect::<Result<_, _>>()?;
        Ok(FieldSelector { requirements })
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// The value of a selector on `metadata.name`, if it pins one name (as
    /// `kubectl get pod NAME --watch` does).
    pub fn pinned_name(&self) -> Option<&str> {
        self.requirements.iter().find(|r| r.equal && r.path == "metadata.name").map(|r| r.value.as_str())
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.requirements.iter().all(|r| {
            let found = r.path.split('.').try_fold(object, |v, key| v.get(key));
            let text = match found {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            (text == r.value) == r.equal
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equality_and_inequality_on_nested_fields() {
        let pod = json!({"metadata": {"name": "web-1"}, "spec": {"nodeName": "node-2"}, "status": {"phase": "Running"}});
        assert!(FieldSelector::parse("spec.nodeName=node-2").unwrap().matches(&pod));
        assert!(FieldSelector::parse("spec.nodeName==node-2,status.phase!=Pending").unwrap().matches(&pod));
        assert!(!FieldSelector::parse("status.phase!=Running").unwrap().matches(&pod));
    }

    #[test]
    fn a_missing_field_compares_as_empty() {
        let pod = json!({"metadata": {"name": "web-1"}});
        assert!(FieldSelector::parse("spec.nodeName=").unwrap().matches(&pod));
        assert!(!FieldSelector::parse("spec.nodeName=node-1").unwrap().matches(&pod));
    }

    #[test]
    fn a_pinned_name_is_found() {
        let s = FieldSelector::parse("metadata.name=web-1").unwrap();
        assert_eq!(s.pinned_name(), Some("web-1"));
    }

    #[test]
    fn malformed_selectors_are_refused() {
        assert!(FieldSelector::parse("spec.nodeName").is_err());
        assert!(FieldSelector::parse("spec node=1").is_err());
    }
}
