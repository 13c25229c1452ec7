//! Running a drill cluster on a TCP port, and the kubeconfig that reaches it.

use super::DrillCluster;
use super::scenario::Scenario;
use anyhow::Context;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use tokio::net::TcpListener;

/// A drill cluster listening on a port.
pub struct DrillServer {
    pub cluster: Arc<DrillCluster>,
    pub address: SocketAddr,
    listener: TcpListener,
}

impl DrillServer {
    /// Loads `scenario` into a new cluster and binds `listen` (port 0 picks one).
    pub async fn bind(listen: SocketAddr, scenario: &Scenario, token: String) -> anyhow::Result<DrillServer> {
        let cluster = DrillCluster::new(token);
        scenario.load(&cluster.store).context("cannot load the scenario")?;
        let listener =
            TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
        let address = listener.local_addr()?;
        Ok(DrillServer { cluster, address, listener })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// A kubeconfig for kubectl and kube-rs, with the bearer token.
    pub fn kubeconfig(&self) -> String {
        kubeconfig(&self.url(), &self.cluster.token)
    }

    pub async fn run(self) -> std::io::Result<()> {
        axum::serve(self.listener, self.cluster.router()).await
    }
}

pub fn kubeconfig(server: &str, token: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
  - name: wheelhouse-drill
    cluster:
      server: {server}
contexts:
  - name: wheelhouse-drill
    context:
      cluster: wheelhouse-drill
      user: wheelhouse-drill
      namespace: default
current-context: wheelhouse-drill
users:
  - name: wheelhouse-drill
    user:
      token: {token}
"
    )
}

/// Writes the kubeconfig readable by its owner only, since it holds the token.
pub fn write_kubeconfig(path: &Path, contents: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, contents).with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}
