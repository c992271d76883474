//! How to connect to one node or source: TLS trust, basic auth and extra headers.
//!
//! A node set up by the Radix node CLI (`babylonnode`) serves its Core and System API only
//! through its nginx, at `https://HOST/core` and `https://HOST/system`, with basic auth (user
//! `admin`) and a self-signed certificate (CN=localhost, no subjectAltName). So the settings
//! go per node (`[primary]`, `[backup]`: one nginx serves both APIs) and per `[sources]` entry.
//!
//! Secrets (the password, header values, URL userinfo) are held as [`SecretString`]: they are
//! never printed by `Debug`, never part of an error, and only exposed when a request is built.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use super::sections::{problem, FieldProblem};
use crate::secret_file::load_password_file;

/// The connection keys as written, shared by `[primary]`, `[backup]` and a `[sources]` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConn {
    pub tls_ca_file: Option<PathBuf>,
    pub tls_pin_sha256: Option<String>,
    pub basic_auth_user: Option<String>,
    pub basic_auth_password_file: Option<PathBuf>,
    /// Values are secrets (an API key, a token); `Debug` of the raw config is never logged.
    pub headers: Option<BTreeMap<String, String>>,
    pub insecure_skip_tls_verify: Option<bool>,
}

/// Where a basic-auth password came from, for messages (never the password itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordFrom {
    File(PathBuf),
    /// `user:password@` in the URL (the password file is the better place: the config file
    /// then holds no secret).
    UrlUserinfo,
}

#[derive(Clone)]
pub struct BasicAuth {
    pub user: String,
    pub password: SecretString,
    pub from: PasswordFrom,
}

/// Validated connection settings of one node or source. `Default`: verify TLS against the
/// bundled and the system roots, no auth, no extra headers.
#[derive(Clone, Default)]
pub struct Conn {
    pub ca_file: Option<PathBuf>,
    /// The certificates of `ca_file`, read and parsed when the config is loaded.
    pub ca_certs: Vec<CertificateDer<'static>>,
    pub pin_sha256: Option<[u8; 32]>,
    pub basic_auth: Option<BasicAuth>,
    /// Extra request headers: names as written, values secret.
    pub headers: Vec<(String, SecretString)>,
    pub insecure_skip_tls_verify: bool,
}

impl Conn {
    /// True when nothing differs from the default (plain verification, no auth, no headers).
    pub fn is_default(&self) -> bool {
        self.ca_file.is_none()
            && self.pin_sha256.is_none()
            && self.basic_auth.is_none()
            && self.headers.is_empty()
            && !self.insecure_skip_tls_verify
    }

    /// How TLS is checked, for messages: "pinned certificate AB:CD:…", "system and bundled
    /// roots", ….
    pub fn tls_mode(&self) -> String {
        if self.insecure_skip_tls_verify {
            return "NOT VERIFIED (insecure_skip_tls_verify = true)".into();
        }
        if let Some(pin) = &self.pin_sha256 {
            return format!(
                "pinned certificate (tls_pin_sha256 {})",
                fingerprint_text(pin)
            );
        }
        match &self.ca_file {
            Some(p) => format!(
                "the bundled Mozilla roots, the system store and tls_ca_file {}",
                p.display()
            ),
            None => "the bundled Mozilla roots and the system store".into(),
        }
    }

    /// How the source is authenticated, for messages (the user and the file, never the password).
    pub fn auth_mode(&self) -> String {
        let mut parts = Vec::new();
        match &self.basic_auth {
            Some(BasicAuth {
                user,
                from: PasswordFrom::File(p),
                ..
            }) => parts.push(format!(
                "basic auth as {user:?} (password from {})",
                p.display()
            )),
            Some(BasicAuth { user, .. }) => {
                parts.push(format!("basic auth as {user:?} (password from the URL)"))
            }
            None => {}
        }
        if !self.headers.is_empty() {
            let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
            parts.push(format!("headers {} (values hidden)", names.join(", ")));
        }
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(", ")
        }
    }

    /// True when the settings hold a secret that lives in the config file itself (a header
    /// value or URL userinfo): then the config file must not be readable by others.
    pub fn secret_in_config(&self) -> bool {
        !self.headers.is_empty()
            || matches!(
                self.basic_auth,
                Some(BasicAuth {
                    from: PasswordFrom::UrlUserinfo,
                    ..
                })
            )
    }
}

// By hand: never the password or a header value.
impl fmt::Debug for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conn")
            .field("tls", &self.tls_mode())
            .field("auth", &self.auth_mode())
            .finish()
    }
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuth")
            .field("user", &self.user)
            .field("password", &"[hidden]")
            .field("from", &self.from)
            .finish()
    }
}

// Equal settings (same files, same pin, same user, same header names); secrets not compared.
impl PartialEq for Conn {
    fn eq(&self, o: &Conn) -> bool {
        let auth = |c: &Conn| {
            c.basic_auth
                .as_ref()
                .map(|a| (a.user.clone(), a.from.clone()))
        };
        let names = |c: &Conn| c.headers.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        self.ca_file == o.ca_file
            && self.pin_sha256 == o.pin_sha256
            && auth(self) == auth(o)
            && names(self) == names(o)
            && self.insecure_skip_tls_verify == o.insecure_skip_tls_verify
    }
}
impl Eq for Conn {}

/// `AB:CD:…` (upper case, colons), as `openssl x509 -noout -fingerprint -sha256` prints it.
pub fn fingerprint_text(fp: &[u8; 32]) -> String {
    fp.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Parses a SHA-256 fingerprint: 64 hex digits, colons optional, an optional
/// `sha256 Fingerprint=` prefix (openssl's whole output line) allowed.
pub fn parse_pin(s: &str) -> Result<[u8; 32], String> {
    let t = s.trim();
    let t = t
        .split_once('=')
        .filter(|(k, _)| k.to_ascii_lowercase().contains("fingerprint"))
        .map(|(_, v)| v)
        .unwrap_or(t);
    let hex_only: String = t.chars().filter(|c| *c != ':').collect();
    let mut out = [0u8; 32];
    if hex_only.len() != 64 {
        return Err(format!(
            "{} hex digits; a SHA-256 fingerprint has 64",
            hex_only.len()
        ));
    }
    hex::decode_to_slice(&hex_only, &mut out).map_err(|_| "not hexadecimal".to_string())?;
    Ok(out)
}

/// Field names of one place's keys, e.g. `primary.tls_pin_sha256` (static, for errors).
pub(super) struct ConnFields {
    pub ca: &'static str,
    pub pin: &'static str,
    pub user: &'static str,
    pub password: &'static str,
    pub headers: &'static str,
    pub insecure: &'static str,
}

macro_rules! conn_fields {
    ($prefix:literal) => {
        $crate::config::conn::ConnFields {
            ca: concat!($prefix, ".tls_ca_file"),
            pin: concat!($prefix, ".tls_pin_sha256"),
            user: concat!($prefix, ".basic_auth_user"),
            password: concat!($prefix, ".basic_auth_password_file"),
            headers: concat!($prefix, ".headers"),
            insecure: concat!($prefix, ".insecure_skip_tls_verify"),
        }
    };
}
pub(super) use conn_fields;

/// Validates one place's connection keys; `url_auth` is userinfo taken out of its URL(s);
/// `base` resolves relative paths (the config file's directory).
pub(super) fn conn(
    raw: &RawConn,
    f: &ConnFields,
    url_auth: Option<(String, SecretString)>,
    base: &Path,
) -> Result<Conn, FieldProblem> {
    let mut c = Conn::default();
    if let Some(p) = &raw.tls_ca_file {
        let path = super::resolve(base, p);
        c.ca_certs = read_ca_file(&path).map_err(|why| {
            problem(
                f.ca,
                &p.display().to_string(),
                why,
                "give a PEM file with the CA certificate (or the server's own certificate) that signed the server's certificate",
            )
        })?;
        c.ca_file = Some(path);
    }
    if let Some(s) = &raw.tls_pin_sha256 {
        c.pin_sha256 = Some(parse_pin(s).map_err(|why| {
            problem(
                f.pin,
                s,
                why,
                "paste what `openssl x509 -noout -fingerprint -sha256 -in CERT.pem` prints, e.g. \"AB:CD:…\" (colons optional)",
            )
        })?);
    }
    if c.pin_sha256.is_some() && c.ca_file.is_some() {
        return Err(problem(
            f.pin,
            raw.tls_pin_sha256.as_deref().unwrap_or_default(),
            format!("is set together with {}", f.ca),
            "give one: a pin already names the one certificate trusted, so remove tls_ca_file",
        ));
    }
    c.insecure_skip_tls_verify = raw.insecure_skip_tls_verify.unwrap_or(false);
    if c.insecure_skip_tls_verify && (c.pin_sha256.is_some() || c.ca_file.is_some()) {
        return Err(problem(
            f.insecure,
            "true",
            "is set together with a pin or a CA file",
            "remove insecure_skip_tls_verify: the pin or the CA file already makes the certificate trusted",
        ));
    }
    c.basic_auth = basic_auth(raw, f, url_auth, base)?;
    for (name, value) in raw.headers.iter().flatten() {
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(problem(
                f.headers,
                name,
                "is not a valid HTTP header name",
                "use letters, digits and '-', e.g. x-api-key",
            ));
        }
        if reqwest::header::HeaderValue::from_str(value).is_err() {
            // The value is a secret: the error names the header only.
            return Err(problem(
                f.headers,
                name,
                "has a value that is not a valid HTTP header value (control characters or non-ASCII)",
                "give the value as plain printable text, without line breaks",
            ));
        }
        let lower = name.to_ascii_lowercase();
        if lower == "authorization" && c.basic_auth.is_some() {
            return Err(problem(
                f.headers,
                name,
                "clashes with basic_auth_user",
                "give either basic_auth_user + basic_auth_password_file or an Authorization header",
            ));
        }
        if ["host", "content-length", "content-type", "user-agent"].contains(&lower.as_str()) {
            return Err(problem(
                f.headers,
                name,
                "is set by radix-failover itself",
                "remove it; headers is for extra headers such as an API key",
            ));
        }
        c.headers
            .push((name.clone(), SecretString::from(value.clone())));
    }
    Ok(c)
}

fn basic_auth(
    raw: &RawConn,
    f: &ConnFields,
    url_auth: Option<(String, SecretString)>,
    base: &Path,
) -> Result<Option<BasicAuth>, FieldProblem> {
    match (&raw.basic_auth_user, &raw.basic_auth_password_file, url_auth) {
        (None, None, None) => Ok(None),
        (None, None, Some((user, password))) => Ok(Some(BasicAuth {
            user,
            password,
            from: PasswordFrom::UrlUserinfo,
        })),
        (Some(_) | None, Some(_) | None, Some(_)) => Err(problem(
            f.user,
            raw.basic_auth_user.as_deref().unwrap_or_default(),
            "is set, and the URL carries user:password@ too",
            "remove the user and password from the URL and keep basic_auth_user + basic_auth_password_file",
        )),
        (Some(user), Some(file), None) => {
            if user.is_empty() || user.contains(':') {
                return Err(problem(
                    f.user,
                    user,
                    "is empty or has a ':'",
                    "give the user name, e.g. basic_auth_user = \"admin\" for a node's nginx",
                ));
            }
            let path = super::resolve(base, file);
            let password = load_password_file(&path).map_err(|e| {
                problem(
                    f.password,
                    &file.display().to_string(),
                    e.to_string(),
                    e.fix(),
                )
            })?;
            Ok(Some(BasicAuth {
                user: user.clone(),
                password,
                from: PasswordFrom::File(path),
            }))
        }
        (Some(user), None, None) => Err(problem(
            f.password,
            "",
            format!("is missing while basic_auth_user = {user:?} is set"),
            "add basic_auth_password_file = \"/etc/radix-failover/nginx-admin.password\" (a file holding the password, mode 0600)",
        )),
        (None, Some(file), None) => Err(problem(
            f.user,
            "",
            format!(
                "is missing while basic_auth_password_file = {:?} is set",
                file.display().to_string()
            ),
            "add basic_auth_user = \"admin\" (the node's nginx user)",
        )),
    }
}

/// Largest CA file read: a bundle of a few hundred certificates is well under 1 MiB.
const MAX_CA_FILE: u64 = 1 << 20;

fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if meta.len() > MAX_CA_FILE {
        return Err(format!(
            "{} is larger than 1 MiB; not a CA file",
            path.display()
        ));
    }
    let certs: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .collect();
    let certs = certs.map_err(|e| format!("{} is not valid PEM: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{} holds no certificate (no -----BEGIN CERTIFICATE----- block)",
            path.display()
        ));
    }
    Ok(certs)
}

/// Takes `user:password@` out of a URL: the URL keeps no secret, the credentials become a
/// [`SecretString`].
pub(super) fn take_userinfo(url: &mut Url) -> Option<(String, SecretString)> {
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let user = percent_decode(url.username());
    let password = SecretString::from(url.password().map(percent_decode).unwrap_or_default());
    // Both only fail for URLs that cannot carry credentials, which then have none.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Some((user, password))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A URL as written with any `user:password@` replaced by `REDACTED@`, for error messages
/// about a URL that may not even parse.
pub fn redact_url_text(s: &str) -> String {
    let Some(start) = s.find("://").map(|i| i + 3) else {
        return s.to_string();
    };
    let rest = &s[start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}REDACTED{}", &s[..start], &rest[at..]),
        None => s.to_string(),
    }
}

/// Shared, so a node's System and Core API clients use the same settings.
pub type SharedConn = Arc<Conn>;

/// The exposed password, for building a request only.
pub fn expose(s: &SecretString) -> &str {
    s.expose_secret()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_parse_with_or_without_colons_and_prefix() {
        let colons = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";
        let a = parse_pin(colons).unwrap();
        assert_eq!(
            parse_pin(&colons.replace(':', "").to_lowercase()).unwrap(),
            a
        );
        assert_eq!(
            parse_pin(&format!("sha256 Fingerprint={colons}")).unwrap(),
            a
        );
        assert_eq!(fingerprint_text(&a), colons);
        assert!(parse_pin("AB:CD").unwrap_err().contains("4 hex digits"));
        assert!(parse_pin(&"zz".repeat(32))
            .unwrap_err()
            .contains("not hexadecimal"));
    }

    #[test]
    fn userinfo_is_taken_out_and_decoded() {
        let mut u = Url::parse("https://admin:p%40ss@node.example/core").unwrap();
        let (user, pw) = take_userinfo(&mut u).unwrap();
        assert_eq!(user, "admin");
        assert_eq!(pw.expose_secret(), "p@ss");
        assert_eq!(u.as_str(), "https://node.example/core");
        let mut plain = Url::parse("https://node.example/core").unwrap();
        assert!(take_userinfo(&mut plain).is_none());
    }

    #[test]
    fn url_text_redaction() {
        assert_eq!(
            redact_url_text("https://admin:hunter2@h:x/core"),
            "https://REDACTED@h:x/core"
        );
        assert_eq!(redact_url_text("https://h/a@b"), "https://h/a@b");
        assert_eq!(redact_url_text("not a url"), "not a url");
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = Conn {
            basic_auth: Some(BasicAuth {
                user: "admin".into(),
                password: SecretString::from("hunter2-secret"),
                from: PasswordFrom::UrlUserinfo,
            }),
            headers: vec![("x-api-key".into(), SecretString::from("key-secret-42"))],
            ..Conn::default()
        };
        let d = format!("{c:?} {:?}", c.basic_auth);
        assert!(
            !d.contains("hunter2") && !d.contains("key-secret-42"),
            "{d}"
        );
        assert!(d.contains("x-api-key") && d.contains("admin"), "{d}");
    }
}
