//! Running a drill cluster on a TCP port over HTTPS, and the kubeconfig that
//! reaches it.

use super::scenario::Scenario;
use super::tls::{self, TlsListener};
use super::{DrillCluster, Error, Result};
use base64::Engine;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use tokio::net::TcpListener;

/// A drill cluster listening on a port.
pub struct DrillServer {
    pub cluster: Arc<DrillCluster>,
    pub address: SocketAddr,
    /// The certificate authority clients must trust, PEM.
    pub ca_pem: String,
    listener: TlsListener,
    timeline: Vec<super::scenario::TimedFault>,
}

impl DrillServer {
    /// Loads `scenario` into a new cluster and binds `listen` (port 0 picks one).
    pub async fn bind(listen: SocketAddr, scenario: &Scenario, token: String) -> Result<DrillServer> {
        DrillServer::bind_cluster(listen, scenario, DrillCluster::new(token)).await
    }

    /// Like [`DrillServer::bind`], for a cluster made by the caller (e.g. with a short watch history).
    pub async fn bind_cluster(
        listen: SocketAddr,
        scenario: &Scenario,
        cluster: Arc<DrillCluster>,
    ) -> Result<DrillServer> {
        scenario.load(&cluster.store)?;
        cluster.faults.set_registry(scenario.registry(&cluster.store));
        let mut server = DrillServer::bind_loaded(listen, cluster).await?;
        server.timeline = scenario.faults.clone();
        Ok(server)
    }

    /// Serves a cluster whose objects the caller has already loaded.
    pub async fn bind_loaded(listen: SocketAddr, cluster: Arc<DrillCluster>) -> Result<DrillServer> {
        let listen_error = |source| Error::Listen { address: listen, source };
        let tcp = TcpListener::bind(listen).await.map_err(listen_error)?;
        let address = tcp.local_addr().map_err(listen_error)?;
        let certificates = tls::self_signed()?;
        let listener = TlsListener::new(tcp, certificates.server).map_err(listen_error)?;
        Ok(DrillServer { cluster, address, ca_pem: certificates.ca_pem, listener, timeline: Vec::new() })
    }

    pub fn url(&self) -> String {
        format!("https://{}", self.address)
    }

    /// A kubeconfig for kubectl and kube-rs: server, CA and bearer token.
    pub fn kubeconfig(&self) -> String {
        kubeconfig(&self.url(), &self.ca_pem, &self.cluster.token)
    }

    /// Serves the API and runs the controllers until the process ends.
    pub async fn run(self) -> std::io::Result<()> {
        let controllers = super::controllers::spawn(&self.cluster);
        let timeline = tokio::spawn(play_timeline(self.cluster.clone(), self.timeline));
        let result = axum::serve(self.listener, self.cluster.router()).await;
        controllers.abort();
        timeline.abort();
        result
    }

    /// Serves the API without controllers: the objects change only through
    /// requests (used by the benchmark, whose pods are loaded already running).
    pub async fn run_api_only(self) -> std::io::Result<()> {
        axum::serve(self.listener, self.cluster.router()).await
    }
}

pub fn kubeconfig(server: &str, ca_pem: &str, token: &str) -> String {
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    format!(
        "apiVersion: v1
kind: Config
clusters:
  - name: wheelhouse-drill
    cluster:
      server: {server}
      certificate-authority-data: {ca}
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
pub fn write_kubeconfig(path: &Path, contents: &str) -> Result<()> {
    let write_error = |source| Error::Write { path: path.to_owned(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(write_error)?;
    }
    std::fs::write(path, contents).map_err(write_error)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(write_error)?;
    }
    Ok(())
}

/// Injects (and, where asked, clears) the scenario's faults at their times.
async fn play_timeline(cluster: Arc<DrillCluster>, timeline: Vec<super::scenario::TimedFault>) {
    use super::fault_injection::FaultRequest;
    use super::scenario::parse_duration;
    let start = tokio::time::Instant::now();
    let mut steps: Vec<(std::time::Duration, bool, FaultRequest)> = Vec::new();
    for fault in timeline {
        let request = FaultRequest { kind: fault.kind, target: fault.target, seconds: fault.seconds };
        let at = parse_duration(&fault.at).unwrap_or_default();
        if let Some(after) = fault.clear_after.as_deref().and_then(parse_duration) {
            steps.push((at + after, false, request.clone()));
        }
        steps.push((at, true, request));
    }
    steps.sort_by_key(|(at, _, _)| *at);
    for (at, inject, request) in steps {
        tokio::time::sleep_until(start + at).await;
        let outcome = if inject { cluster.inject(&request) } else { cluster.clear(&request) };
        match outcome {
            Ok(message) => {
                tracing::info!(fault.kind = ?request.kind, fault.target = %request.target, "drill timeline: {message}")
            }
            Err(error) => {
                tracing::warn!(fault.kind = ?request.kind, error = %error, "drill timeline: fault not applied")
            }
        }
    }
}
