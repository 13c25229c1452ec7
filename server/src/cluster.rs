//! Deciding which cluster Wheelhouse watches.

use crate::config::ClusterMode;
use app::page_context::ClusterSource;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[error(
    "--cluster kubeconfig: no cluster configuration found (not running in a cluster, KUBECONFIG unset or missing, no ~/.kube/config)"
)]
pub struct NoClusterConfig;

/// Whether a real cluster is configured: in-cluster service account, the files
/// `KUBECONFIG` names, or `~/.kube/config`.
pub fn kube_config_present() -> bool {
    if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
        return true;
    }
    if let Some(paths) = std::env::var_os("KUBECONFIG") {
        return std::env::split_paths(&paths).any(|p| p.is_file());
    }
    std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".kube").join("config"))
        .is_some_and(|p| p.is_file())
}

pub fn resolve(mode: ClusterMode) -> Result<ClusterSource, NoClusterConfig> {
    match mode {
        ClusterMode::Sim => Ok(ClusterSource::Drill),
        ClusterMode::Auto if kube_config_present() => Ok(ClusterSource::Kubeconfig),
        ClusterMode::Auto => Ok(ClusterSource::Drill),
        ClusterMode::Kubeconfig if kube_config_present() => Ok(ClusterSource::Kubeconfig),
        ClusterMode::Kubeconfig => Err(NoClusterConfig),
    }
}
