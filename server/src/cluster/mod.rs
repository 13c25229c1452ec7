//! The cluster Wheelhouse watches: which one (a real cluster through a kube
//! config, or the built-in drill cluster started in-process), the watchers
//! that keep a slim copy of its state in memory, and the health engine that
//! turns that state into component statuses.

pub mod engine;
pub mod state;
pub mod watch;
pub mod watched;

use crate::config::{ClusterMode, Settings};
use crate::drill::serve::DrillServer;
use anyhow::Context;
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

/// Which cluster the settings ask for. An explicit kubeconfig file means a real
/// cluster unless `--cluster sim` says otherwise.
pub fn resolve(mode: ClusterMode, explicit_kubeconfig: bool) -> Result<ClusterSource, NoClusterConfig> {
    let configured = explicit_kubeconfig || kube_config_present();
    match mode {
        ClusterMode::Sim => Ok(ClusterSource::Drill),
        ClusterMode::Auto | ClusterMode::Kubeconfig if configured => Ok(ClusterSource::Kubeconfig),
        ClusterMode::Auto => Ok(ClusterSource::Drill),
        ClusterMode::Kubeconfig => Err(NoClusterConfig),
    }
}

/// A connected client, and the drill cluster behind it when there is one.
pub struct Connected {
    pub client: kube::Client,
    pub drill: Option<EmbeddedDrill>,
}

/// The drill cluster running inside this process, on its own loopback port.
pub struct EmbeddedDrill {
    pub url: String,
    pub kubeconfig: String,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Drop for EmbeddedDrill {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Builds the client for `source`: the kube config (explicit file, or the
/// usual search), or a drill cluster started here with the default scenario.
pub async fn connect(source: ClusterSource, settings: &Settings) -> anyhow::Result<Connected> {
    match source {
        ClusterSource::Kubeconfig => {
            let config = match &settings.kubeconfig {
                Some(path) => {
                    let file = kube::config::Kubeconfig::read_from(path)
                        .with_context(|| format!("cannot read the kubeconfig {}", path.display()))?;
                    kube::Config::from_custom_kubeconfig(file, &Default::default())
                        .await
                        .with_context(|| format!("cannot use the kubeconfig {}", path.display()))?
                }
                None => kube::Config::infer().await.context("cannot load the cluster configuration")?,
            };
            Ok(Connected { client: client_for(config)?, drill: None })
        }
        ClusterSource::Drill => {
            let scenario = crate::drill::scenario::Scenario::default_scenario();
            let token = crate::accounts::generate_secret(24);
            let listen = "127.0.0.1:0".parse().expect("a valid loopback address");
            let server = DrillServer::bind(listen, &scenario, token).await?;
            let url = server.url();
            let kubeconfig = server.kubeconfig();
            let file = kube::config::Kubeconfig::from_yaml(&kubeconfig)?;
            let config = kube::Config::from_custom_kubeconfig(file, &Default::default()).await?;
            let task = tokio::spawn(server.run());
            let path = std::env::temp_dir()
                .join(format!("wheelhouse-drill-{}.kubeconfig", url.rsplit(':').next().unwrap_or("0")));
            match crate::drill::serve::write_kubeconfig(&path, &kubeconfig) {
                Ok(()) => tracing::info!(
                    drill.url = %url,
                    "drill cluster started in-process; inject a fault with: wheelhouse drill fault crashloop shop/checkout --kubeconfig {}",
                    path.display()
                ),
                Err(error) => {
                    tracing::warn!(drill.url = %url, error = %error, "drill cluster started; its kubeconfig could not be written")
                }
            }
            Ok(Connected {
                client: client_for(config)?,
                drill: Some(EmbeddedDrill { url, kubeconfig, task }),
            })
        }
    }
}

/// A client that leaves retrying to the watchers' own back-off, so that an
/// outage is noticed at once instead of after the client's retries.
fn client_for(mut config: kube::Config) -> anyhow::Result<kube::Client> {
    config.default_retry = false;
    kube::Client::try_from(config).context("cannot build the Kubernetes client")
}
