//! HTTPS for the standalone drill cluster. kubectl (client-go) sends bearer
//! tokens only over TLS, so `drill serve` makes a certificate authority and a
//! server certificate for localhost at start, and puts the authority in the
//! kubeconfig it writes — the way a real cluster's kubeconfig carries its CA.

use crate::{Error, Result};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types::PrivateKeyDer};
use tokio_rustls::server::TlsStream;

/// A fresh authority and the server configuration it signed.
pub struct Certificates {
    /// The authority's certificate, PEM, for clients to trust.
    pub ca_pem: String,
    pub server: Arc<rustls::ServerConfig>,
}

/// Makes a CA and a certificate for `localhost`, `127.0.0.1` and `::1`.
pub fn self_signed() -> Result<Certificates> {
    make_certificates().map_err(Error::Certificates)
}

fn make_certificates() -> Result<Certificates, String> {
    let text = |error: rcgen::Error| error.to_string();
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(text)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "wheelhouse-drill-ca");
    ca.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().map_err(text)?).map_err(text)?;

    let mut params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()])
            .map_err(text)?;
    params.distinguished_name.push(DnType::CommonName, "wheelhouse-drill-apiserver");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().map_err(text)?;
    let cert = params.signed_by(&key, &ca).map_err(text)?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| format!("TLS protocol versions: {error}"))?
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone(), ca.der().clone()],
            PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .map_err(|error| format!("the generated server certificate: {error}"))?;
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Certificates { ca_pem: ca.pem(), server: Arc::new(server) })
}

/// A listener that hands axum TLS connections. Handshakes run concurrently, so
/// one slow client cannot hold up the others.
pub struct TlsListener {
    connections: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, config: Arc<rustls::ServerConfig>) -> std::io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let acceptor = TlsAcceptor::from(config);
        let (tx, connections) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let (stream, peer) = match tcp.accept().await {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::warn!(error = %error, "drill cluster could not accept a connection");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                if tx.is_closed() {
                    return;
                }
                // As the Kubernetes API server does (Go sets it on every TCP
                // connection): without it, the last part of each answer waits for
                // the client's delayed ACK, a few milliseconds per LIST page.
                if let Err(error) = stream.set_nodelay(true) {
                    tracing::debug!(error = %error, client.address = %peer, "cannot turn off Nagle's algorithm");
                }
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(error)) => {
                            tracing::debug!(error = %error, client.address = %peer, "TLS handshake failed")
                        }
                        Err(_) => tracing::debug!(client.address = %peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { connections, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.connections.recv().await {
            Some(connection) => connection,
            // The accept loop only ends when this listener is gone.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
