//! `--tls-front`: each node's Core and System API behind one HTTPS port, at `/core` and
//! `/system`, with basic auth: the way a node set up by the Radix node CLI (`babylonnode`) is
//! reached through its nginx.
//!
//! As that nginx: the certificate is self-signed with CN=localhost and no subjectAltName (so
//! only a pin can make a client trust it), the user is `admin`, a wrong or missing password is
//! `401` with `WWW-Authenticate: Basic`, and a node whose API is down answers `502 Bad
//! Gateway` through its front while the front's own port stays open.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::body::Body;
use base64::Engine;
use hyper::body::Incoming;
use hyper::service::Service;
use hyper::{Request, Response, StatusCode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;

use crate::api::Servers;

/// The user the node CLI's nginx asks for.
pub const FRONT_USER: &str = "admin";

/// One node's front, as the info file and the written config carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrontInfo {
    pub node: String,
    /// `https://127.0.0.1:PORT`; the APIs are at `/core` and `/system` below it.
    pub url: String,
    pub user: String,
    /// Mode 0600, the password alone on one line.
    pub password_file: PathBuf,
    /// The certificate (PEM), for `tls_ca_file` tests and `openssl x509 -fingerprint`.
    pub cert_file: PathBuf,
    /// SHA-256 of the certificate, as `openssl x509 -noout -fingerprint -sha256` prints it.
    pub cert_sha256: String,
}

/// Certificate options: the node CLI's way (CN=localhost, no SAN), or with a SAN for
/// localhost/127.0.0.1 (what a certificate from a real CA would have), for `tls_ca_file` tests.
#[derive(Debug, Clone, Copy, Default)]
pub struct FrontOptions {
    pub with_san: bool,
}

/// Starts one front per node on loopback ephemeral ports; files go to `dir`.
pub async fn start_fronts(
    servers: Arc<Servers>,
    dir: &Path,
    opts: FrontOptions,
) -> Result<Vec<FrontInfo>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut out = Vec::new();
    for (name, _, _) in &servers.nodes {
        out.push(start_front(servers.clone(), name, dir, opts).await?);
    }
    Ok(out)
}

async fn start_front(
    servers: Arc<Servers>,
    node: &str,
    dir: &Path,
    opts: FrontOptions,
) -> Result<FrontInfo> {
    let (cert_der, cert_pem, key_der) = self_signed(opts)?;
    let cert_file = dir.join(format!("front-{node}.pem"));
    std::fs::write(&cert_file, &cert_pem)
        .with_context(|| format!("cannot write {}", cert_file.display()))?;
    let password = random_password();
    let password_file = dir.join(format!("front-{node}.password"));
    write_0600(&password_file, &format!("{password}\n"))?;

    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .context("TLS versions")?
    .with_no_client_auth()
    .with_single_cert(
        vec![rustls::pki_types::CertificateDer::from(cert_der.clone())],
        rustls::pki_types::PrivateKeyDer::Pkcs8(key_der.into()),
    )
    .context("cannot use the generated certificate")?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{FRONT_USER}:{password}"))
    );
    let node_name = node.to_string();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            let servers = servers.clone();
            let expected = expected.clone();
            let node = node_name.clone();
            tokio::spawn(async move {
                // A failed handshake (a client that does not trust us) just ends the connection.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = hyper::service::service_fn(move |req| {
                    let servers = servers.clone();
                    let expected = expected.clone();
                    let node = node.clone();
                    async move { Ok::<_, Infallible>(route(&servers, &node, &expected, req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    tracing::info!(node, %addr, "TLS front up");
    Ok(FrontInfo {
        node: node.to_string(),
        url: format!("https://{addr}"),
        user: FRONT_USER.to_string(),
        password_file: std::path::absolute(&password_file).unwrap_or(password_file),
        cert_file: std::path::absolute(&cert_file).unwrap_or(cert_file),
        cert_sha256: fingerprint(&cert_der),
    })
}

/// Auth first (as nginx: even a down node's front asks for the password), then the API.
async fn route(
    servers: &Servers,
    node: &str,
    expected_auth: &str,
    req: Request<Incoming>,
) -> Response<Body> {
    let authorized = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == expected_auth);
    if !authorized {
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header("www-authenticate", "Basic realm=\"Restricted\"")
            .header("content-type", "text/html")
            .body(Body::from(nginx_page("401 Authorization Required")))
            .unwrap_or_default();
    }
    let Some((_, core, system)) = servers.node(node) else {
        return status_page(StatusCode::BAD_GATEWAY, "502 Bad Gateway");
    };
    let path = req.uri().path();
    let switch = if path == "/core" || path.starts_with("/core/") {
        core
    } else if path == "/system" || path.starts_with("/system/") {
        system
    } else {
        return status_page(StatusCode::NOT_FOUND, "404 Not Found");
    };
    if !switch.is_up().await {
        return status_page(StatusCode::BAD_GATEWAY, "502 Bad Gateway");
    }
    let svc = hyper_util::service::TowerToHyperService::new(switch.router());
    match svc.call(req).await {
        Ok(resp) => resp,
        Err(never) => match never {},
    }
}

fn status_page(status: StatusCode, title: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "text/html")
        .body(Body::from(nginx_page(title)))
        .unwrap_or_default()
}

fn nginx_page(title: &str) -> String {
    format!("<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
}

/// (certificate DER, certificate PEM, PKCS#8 key DER).
fn self_signed(opts: FrontOptions) -> Result<(Vec<u8>, String, Vec<u8>)> {
    let sans: Vec<String> = if opts.with_san {
        vec!["localhost".into(), "127.0.0.1".into()]
    } else {
        Vec::new()
    };
    let mut params = rcgen::CertificateParams::new(sans).context("certificate parameters")?;
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, "localhost");
    params.distinguished_name = dn;
    let key = rcgen::KeyPair::generate().context("cannot generate the front's key")?;
    let cert = params
        .self_signed(&key)
        .context("cannot sign the front's certificate")?;
    Ok((cert.der().to_vec(), cert.pem(), key.serialize_der()))
}

/// `AB:CD:…`, as openssl prints a fingerprint.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn random_password() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 18];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn write_0600(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let _ = std::fs::remove_file(path);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}
