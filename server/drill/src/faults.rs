//! Faults the drill can inject into the API server itself: an outage of the
//! whole API, and failing health checks (e.g. etcd).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Mutex;
use std::time::Instant;

/// The checks `/livez` and `/readyz` report, as a real kube-apiserver lists them.
const CHECKS: &[&str] = &[
    "ping",
    "log",
    "etcd",
    "poststarthook/start-apiserver-admission-initializer",
    "poststarthook/generic-apiserver-start-informers",
    "poststarthook/start-kube-aggregator-informers",
    "poststarthook/scheduling/bootstrap-system-priority-classes",
    "autoregister-completion",
];

/// How a container running an image behaves on the simulated kubelet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageBehaviour {
    Healthy,
    /// Starts, exits with status 1, is restarted with back-off.
    Crashes,
    /// Cannot be pulled: ErrImagePull, then ImagePullBackOff.
    Unpullable,
    /// Killed for exceeding its memory limit, restarted with back-off.
    OutOfMemory,
}

#[derive(Debug, Default)]
pub struct Faults {
    api_down_until: Mutex<Option<Instant>>,
    failing_checks: Mutex<BTreeSet<String>>,
    images: Mutex<HashMap<String, ImageBehaviour>>,
    /// The images the registry holds; `None`: every image pulls.
    registry: Mutex<Option<HashSet<String>>>,
}

impl Faults {
    /// Makes every API request answer 503 until `until`.
    pub fn set_api_down(&self, until: Option<Instant>) {
        *self.api_down_until.lock().unwrap_or_else(|e| e.into_inner()) = until;
    }

    pub fn api_down(&self) -> bool {
        self.api_down_until
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|until| Instant::now() < until)
    }

    pub fn fail_check(&self, check: &str, failing: bool) {
        let mut checks = self.failing_checks.lock().unwrap_or_else(|e| e.into_inner());
        if failing {
            checks.insert(check.to_owned());
        } else {
            checks.remove(check);
        }
    }

    pub fn check_failing(&self, check: &str) -> bool {
        self.failing_checks.lock().unwrap_or_else(|e| e.into_inner()).contains(check)
    }

    pub fn set_image(&self, image: &str, behaviour: ImageBehaviour) {
        let mut images = self.images.lock().unwrap_or_else(|e| e.into_inner());
        if behaviour == ImageBehaviour::Healthy {
            images.remove(image);
        } else {
            images.insert(image.to_owned(), behaviour);
        }
    }

    /// Which images exist: any other fails to pull, as on a real kubelet.
    pub fn set_registry(&self, images: HashSet<String>) {
        *self.registry.lock().unwrap_or_else(|e| e.into_inner()) = Some(images);
    }

    /// Adds an image to the registry (a drill "pushes" it).
    pub fn push_image(&self, image: &str) {
        if let Some(registry) = self.registry.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            registry.insert(image.to_owned());
        }
    }

    pub fn image(&self, image: &str) -> ImageBehaviour {
        if let Some(behaviour) = self.images.lock().unwrap_or_else(|e| e.into_inner()).get(image) {
            return *behaviour;
        }
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        match registry.as_ref() {
            Some(known) if !known.contains(image) => ImageBehaviour::Unpullable,
            _ => ImageBehaviour::Healthy,
        }
    }

    /// Whether any image misbehaves, so the kubelet has restarts to play out.
    pub fn any_image_faults(&self) -> bool {
        !self.images.lock().unwrap_or_else(|e| e.into_inner()).is_empty()
            || self.registry.lock().unwrap_or_else(|e| e.into_inner()).is_some()
    }

    /// The checks for `/livez` or `/readyz` and whether each passes.
    pub fn health_checks(&self, path: &str) -> Vec<(String, bool)> {
        let failing = self.failing_checks.lock().unwrap_or_else(|e| e.into_inner());
        let mut checks: Vec<&str> = CHECKS.to_vec();
        if path == "/readyz" {
            checks.push("informer-sync");
            checks.push("shutdown");
        }
        checks.into_iter().map(|c| (c.to_owned(), !failing.contains(c))).collect()
    }
}
