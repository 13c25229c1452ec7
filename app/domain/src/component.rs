//! Components: what Wheelhouse shows the health of. Platform components come
//! from the cluster itself; service components are defined by an admin as a
//! namespace plus a label selector over its workloads. This module holds their
//! identities and the validated definition of a service component.

use super::label_selector::{LabelSelector, SelectorError};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The control-plane components every cluster has, in the order pages show them.
pub const CONTROL_PLANE: [&str; 4] = ["kube-apiserver", "etcd", "kube-scheduler", "kube-controller-manager"];

/// A component's stable identity, used in storage, events and URLs:
/// `platform/etcd`, `node/worker-2`, `service/7`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ComponentKey(String);

impl ComponentKey {
    pub fn platform(name: &str) -> ComponentKey {
        ComponentKey(format!("platform/{name}"))
    }

    pub fn node(name: &str) -> ComponentKey {
        ComponentKey(format!("node/{name}"))
    }

    pub fn service(id: i64) -> ComponentKey {
        ComponentKey(format!("service/{id}"))
    }

    /// Reads a key back from storage or an event; `None` if it has no known kind.
    pub fn parse(raw: &str) -> Option<ComponentKey> {
        let (kind, rest) = raw.split_once('/')?;
        (matches!(kind, "platform" | "node" | "service") && !rest.is_empty())
            .then(|| ComponentKey(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn kind(&self) -> ComponentKind {
        match self.0.split_once('/').map(|(kind, _)| kind) {
            Some("node") => ComponentKind::Node,
            Some("service") => ComponentKind::Service,
            _ => ComponentKind::Platform,
        }
    }
}

impl fmt::Display for ComponentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentKind {
    /// A control-plane part or a cluster add-on (CoreDNS, kube-proxy).
    Platform,
    /// One node: its kubelet and runtime.
    Node,
    /// A business service an admin defined.
    Service,
}

/// Who may see a component: public ones appear on the status page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    Public,
    Internal,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Internal => "internal",
        }
    }
}

/// A service component as stored: its id and its validated definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceComponent {
    pub id: i64,
    pub definition: ComponentDefinition,
}

impl ServiceComponent {
    pub fn key(&self) -> ComponentKey {
        ComponentKey::service(self.id)
    }
}

/// What an admin defines: every field valid, built only by [`ComponentDefinition::parse`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentDefinition {
    pub name: String,
    pub description: String,
    pub group: String,
    pub namespace: String,
    pub selector: LabelSelector,
    pub visibility: Visibility,
}

/// The fields of the component form, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentForm {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub group: String,
    pub namespace: String,
    #[serde(default)]
    pub selector: String,
    /// `public` or `internal`; a checkbox sends `on` for public.
    #[serde(default)]
    pub visibility: String,
}

impl From<&ComponentDefinition> for ComponentForm {
    fn from(definition: &ComponentDefinition) -> ComponentForm {
        ComponentForm {
            name: definition.name.clone(),
            description: definition.description.clone(),
            group: definition.group.clone(),
            namespace: definition.namespace.clone(),
            selector: definition.selector.to_string(),
            visibility: definition.visibility.as_str().to_owned(),
        }
    }
}

/// Why a component definition was refused, naming the field at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ComponentError {
    #[error("Give the component a name.")]
    NameMissing,
    #[error("The name is {0} characters long; at most {MAX_NAME} are allowed.")]
    NameTooLong(usize),
    #[error("The description is {0} characters long; at most {MAX_DESCRIPTION} are allowed.")]
    DescriptionTooLong(usize),
    #[error("The group is {0} characters long; at most {MAX_NAME} are allowed.")]
    GroupTooLong(usize),
    #[error("Give the namespace the component's workloads run in.")]
    NamespaceMissing,
    #[error(
        "'{0}' is not a namespace name: use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit."
    )]
    NamespaceInvalid(String),
    #[error("The selector does not parse: {0}")]
    Selector(#[from] SelectorError),
    #[error("Visibility must be public or internal, not '{0}'.")]
    Visibility(String),
    #[error("A component named '{0}' already exists.")]
    DuplicateName(String),
}

impl ComponentError {
    /// The form field the message is about.
    pub fn field(&self) -> &'static str {
        match self {
            ComponentError::NameMissing
            | ComponentError::NameTooLong(_)
            | ComponentError::DuplicateName(_) => "name",
            ComponentError::DescriptionTooLong(_) => "description",
            ComponentError::GroupTooLong(_) => "group",
            ComponentError::NamespaceMissing | ComponentError::NamespaceInvalid(_) => "namespace",
            ComponentError::Selector(_) => "selector",
            ComponentError::Visibility(_) => "visibility",
        }
    }
}

pub const MAX_NAME: usize = 80;
pub const MAX_DESCRIPTION: usize = 500;
/// The group a service component lands in when none is given.
pub const DEFAULT_GROUP: &str = "Services";

impl ComponentDefinition {
    pub fn parse(form: &ComponentForm) -> Result<ComponentDefinition, ComponentError> {
        let name = form.name.trim();
        if name.is_empty() {
            return Err(ComponentError::NameMissing);
        }
        let length = name.chars().count();
        if length > MAX_NAME {
            return Err(ComponentError::NameTooLong(length));
        }
        let description = form.description.trim();
        let length = description.chars().count();
        if length > MAX_DESCRIPTION {
            return Err(ComponentError::DescriptionTooLong(length));
        }
        let group = match form.group.trim() {
            "" => DEFAULT_GROUP,
            group => group,
        };
        let length = group.chars().count();
        if length > MAX_NAME {
            return Err(ComponentError::GroupTooLong(length));
        }
        let namespace = parse_namespace(&form.namespace)?;
        let selector = LabelSelector::parse(form.selector.trim())?;
        let visibility = match form.visibility.trim() {
            "public" | "on" | "true" => Visibility::Public,
            "internal" | "" => Visibility::Internal,
            other => return Err(ComponentError::Visibility(other.to_owned())),
        };
        Ok(ComponentDefinition {
            name: name.to_owned(),
            description: description.to_owned(),
            group: group.to_owned(),
            namespace,
            selector,
            visibility,
        })
    }
}

/// A namespace name as Kubernetes allows it (an RFC 1123 label).
pub fn parse_namespace(raw: &str) -> Result<String, ComponentError> {
    let namespace = raw.trim();
    if namespace.is_empty() {
        return Err(ComponentError::NamespaceMissing);
    }
    let valid_chars = namespace.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let valid_ends = !namespace.starts_with('-') && !namespace.ends_with('-');
    if namespace.len() > 63 || !valid_chars || !valid_ends {
        return Err(ComponentError::NamespaceInvalid(namespace.to_owned()));
    }
    Ok(namespace.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(name: &str, namespace: &str, selector: &str) -> ComponentForm {
        ComponentForm {
            name: name.into(),
            namespace: namespace.into(),
            selector: selector.into(),
            ..ComponentForm::default()
        }
    }

    #[test]
    fn a_complete_form_becomes_a_definition_with_defaults_filled_in() {
        let definition = ComponentDefinition::parse(&form(" Checkout ", "shop", "app=checkout")).unwrap();
        assert_eq!(definition.name, "Checkout");
        assert_eq!(definition.group, DEFAULT_GROUP);
        assert_eq!(definition.visibility, Visibility::Internal);
        assert_eq!(definition.selector.to_string(), "app=checkout");
    }

    #[test]
    fn a_selector_that_does_not_parse_is_refused_with_the_reason() {
        let error = ComponentDefinition::parse(&form("Checkout", "shop", "app in (a")).unwrap_err();
        assert_eq!(error.field(), "selector");
        assert!(error.to_string().starts_with("The selector does not parse: "), "{error}");
    }

    #[test]
    fn names_and_namespaces_are_checked() {
        assert_eq!(ComponentDefinition::parse(&form("  ", "shop", "")), Err(ComponentError::NameMissing));
        assert_eq!(
            ComponentDefinition::parse(&form(&"x".repeat(81), "shop", "")),
            Err(ComponentError::NameTooLong(81))
        );
        assert_eq!(ComponentDefinition::parse(&form("A", "", "")), Err(ComponentError::NamespaceMissing));
        for bad in ["Shop", "-shop", "shop-", "sh_op", &"a".repeat(64)] {
            assert_eq!(
                ComponentDefinition::parse(&form("A", bad, "")).unwrap_err().field(),
                "namespace",
                "{bad}"
            );
        }
    }

    #[test]
    fn visibility_accepts_a_checkbox_or_the_word() {
        let mut public = form("A", "shop", "");
        public.visibility = "on".into();
        assert_eq!(ComponentDefinition::parse(&public).unwrap().visibility, Visibility::Public);
        public.visibility = "secret".into();
        assert_eq!(ComponentDefinition::parse(&public).unwrap_err().field(), "visibility");
    }

    #[test]
    fn keys_say_what_kind_of_component_they_name() {
        assert_eq!(ComponentKey::node("worker-1").kind(), ComponentKind::Node);
        assert_eq!(ComponentKey::service(7).as_str(), "service/7");
        assert_eq!(ComponentKey::parse("platform/etcd"), Some(ComponentKey::platform("etcd")));
        assert_eq!(ComponentKey::parse("pod/x"), None);
        assert_eq!(ComponentKey::parse("node/"), None);
    }
}
