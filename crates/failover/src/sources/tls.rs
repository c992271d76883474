//! TLS for one node or source: which certificates are trusted, and how.
//!
//! - Default: the bundled Mozilla roots (webpki-roots) *and* the system store
//!   (rustls-native-certs), plus the `tls_ca_file` certificates when given; hostname and chain
//!   checked by rustls' WebPKI verifier.
//! - `tls_pin_sha256`: the server's leaf certificate must have that SHA-256 fingerprint; its
//!   name and chain are not checked. This is safe: the handshake signature is still verified
//!   against the pinned certificate's public key, so only whoever holds that certificate's
//!   private key (the node's nginx) can complete the handshake. A pin names exactly one
//!   certificate, which is a stronger statement than "some CA vouches for this name", and it is
//!   the only way to trust the node CLI's self-signed certificate (CN=localhost, no
//!   subjectAltName), whose name can never match the host. Expiry is not checked under a pin
//!   either: the same key proves the same server after the date as before it.
//! - `insecure_skip_tls_verify`: any certificate (signatures still checked, which proves
//!   nothing about who the server is): for a lab only, warned about at every start.
//!
//! Each verifier records the fingerprint of the last leaf certificate it saw, so a TLS error
//! can say which certificate the server sent (and the pin to set after checking it).

use std::sync::{Arc, Mutex, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};

use crate::config::conn::{fingerprint_text, Conn};

/// The system store, read once per process (reading /etc/ssl/certs takes a few ms, and it
/// does not change under a running daemon in any way we should follow mid-run).
fn system_roots() -> &'static (Vec<CertificateDer<'static>>, Option<String>) {
    static ROOTS: OnceLock<(Vec<CertificateDer<'static>>, Option<String>)> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let r = rustls_native_certs::load_native_certs();
        let err = r.errors.first().map(|e| e.to_string());
        (r.certs, err)
    })
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A built TLS client configuration and what it trusts, in words for error texts.
pub struct Tls {
    pub config: rustls::ClientConfig,
    /// e.g. "150 bundled Mozilla roots + 140 from the system store + 1 from tls_ca_file /x".
    pub trusted: String,
    /// The leaf certificate the server sent last (SHA-256), whether or not it was accepted.
    pub seen: Arc<Mutex<Option<[u8; 32]>>>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TlsError(String);

/// The TLS client configuration for `conn`.
pub fn client_config(conn: &Conn) -> Result<Tls, TlsError> {
    let provider = provider();
    let seen: Arc<Mutex<Option<[u8; 32]>>> = Arc::default();
    let (verifier, trusted): (Arc<dyn ServerCertVerifier>, String) = if conn
        .insecure_skip_tls_verify
    {
        (
            Arc::new(Pinned {
                pin: None,
                provider: provider.clone(),
                seen: seen.clone(),
            }),
            "nothing: insecure_skip_tls_verify = true accepts any certificate".into(),
        )
    } else if let Some(pin) = conn.pin_sha256 {
        (
            Arc::new(Pinned {
                pin: Some(pin),
                provider: provider.clone(),
                seen: seen.clone(),
            }),
            format!("only the pinned certificate {}", fingerprint_text(&pin)),
        )
    } else {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let bundled = roots.len();
        let (system, system_err) = system_roots();
        let (added, _ignored) = roots.add_parsable_certificates(system.iter().cloned());
        let mut trusted = format!(
            "{bundled} bundled Mozilla roots + {added} from the system store{}",
            system_err
                .as_ref()
                .map(|e| format!(" (partly unreadable: {e})"))
                .unwrap_or_default()
        );
        if let Some(path) = &conn.ca_file {
            let before = roots.len();
            for c in &conn.ca_certs {
                roots.add(c.clone()).map_err(|e| {
                    TlsError(format!(
                        "tls_ca_file {}: a certificate cannot be used as a root: {e}",
                        path.display()
                    ))
                })?;
            }
            trusted.push_str(&format!(
                " + {} from tls_ca_file {}",
                roots.len() - before,
                path.display()
            ));
        }
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| TlsError(format!("cannot build the certificate verifier: {e}")))?;
        (
            Arc::new(Recording {
                inner,
                seen: seen.clone(),
            }),
            trusted,
        )
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError(format!("cannot set up TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Tls {
        config,
        trusted,
        seen,
    })
}

pub fn sha256(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// WebPKI verification that remembers the leaf it saw.
#[derive(Debug)]
struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    seen: Arc<Mutex<Option<[u8; 32]>>>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        record(&self.seen, end_entity);
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn record(seen: &Mutex<Option<[u8; 32]>>, end_entity: &CertificateDer<'_>) {
    if let Ok(mut s) = seen.lock() {
        *s = Some(sha256(end_entity.as_ref()));
    }
}

/// The pin check (or, with `pin: None`, the lab's accept-anything). Handshake signatures are
/// verified either way, with the same algorithms as the WebPKI verifier.
#[derive(Debug)]
struct Pinned {
    pin: Option<[u8; 32]>,
    provider: Arc<CryptoProvider>,
    seen: Arc<Mutex<Option<[u8; 32]>>>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        record(&self.seen, end_entity);
        match self.pin {
            Some(pin) if sha256(end_entity.as_ref()) != pin => Err(
                rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure),
            ),
            _ => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
