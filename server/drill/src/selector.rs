//! Label selectors written as Kubernetes objects (`matchLabels` and
//! `matchExpressions`), converted to the domain's [`LabelSelector`].

use domain::label_selector::LabelSelector;
use serde_json::Value;

/// The selector an object describes. A missing or empty selector selects
/// nothing for workloads, so callers decide what empty means; this returns the
/// empty selector, which matches everything.
pub fn from_json(selector: &Value) -> LabelSelector {
    let mut parts: Vec<String> = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect())
        .unwrap_or_default();
    for expression in selector.get("matchExpressions").and_then(Value::as_array).into_iter().flatten() {
        let key = expression["key"].as_str().unwrap_or_default();
        let values: Vec<&str> = expression["values"]
            .as_array()
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        parts.push(match expression["operator"].as_str().unwrap_or_default() {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_owned(),
            "DoesNotExist" => format!("!{key}"),
            _ => continue,
        });
    }
    LabelSelector::parse(&parts.join(",")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    #[test]
    fn match_labels_and_expressions_combine() {
        let s = from_json(&json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "edge"]}, {"key": "canary", "operator": "DoesNotExist"}]
        }));
        let labels: BTreeMap<String, String> =
            [("app", "web"), ("tier", "edge")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert!(s.matches(&labels));
        let mut canary = labels.clone();
        canary.insert("canary".into(), "yes".into());
        assert!(!s.matches(&canary));
    }
}
