//! Issue 10: a REAL nginx in front of radix-sim's plain node APIs, configured as the Radix node
//! CLI (`babylonnode`) configures a node's nginx: HTTPS with a self-signed certificate
//! (CN=localhost, no subjectAltName, made with `openssl req -x509`), basic auth for the user
//! `admin` (an htpasswd file), `location /core` and `location /system` proxied to the node's
//! Core and System API. A node that is down answers 502 through it. The daemon, pinned to each
//! certificate with the fingerprint `openssl x509 -noout -fingerprint -sha256` prints, fails
//! the dead primary over through it.
//!
//! nginx runs as a child process of the test (no daemon, no master process, no system
//! service), on loopback ports of its own, with its own prefix, config and temp directories.
//! On CI (`CI=true`) the test runs and fails if nginx is missing (`.ci/run` installs it);
//! elsewhere it is skipped with a message saying how to run it.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Harness;
use radix_sim::front::{FrontInfo, FRONT_USER};

/// nginx, when installed: on PATH, or where Debian puts it (`/usr/sbin` is not on every
/// user's PATH).
fn nginx_binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("nginx"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let p = PathBuf::from("/usr/sbin/nginx");
        p.is_file().then_some(p)
    })
}

/// nginx and openssl, or `None` with the skip message printed (never on CI: there a missing
/// tool fails the test).
fn tools() -> Option<PathBuf> {
    let nginx = nginx_binary();
    let openssl = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    match nginx {
        Some(n) if openssl => Some(n),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => panic!(
            "CI=true but nginx or openssl is missing: .ci/run installs them (apt-get install -y nginx openssl)"
        ),
        _ => {
            eprintln!(
                "SKIPPED: tests/nginx.rs needs nginx and openssl (apt-get install -y nginx openssl); \
                 run it with `cargo test -p radix-failover --test nginx` once they are installed \
                 (with CI=true it runs and never skips)"
            );
            None
        }
    }
}

fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn write_0600(path: &Path, text: &str) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .expect("create a 0600 file");
    f.write_all(text.as_bytes()).expect("write");
}

/// A loopback port nothing listens on now (the kernel's pick; nginx binds it a moment later).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// One node's nginx site, as `babylonnode` sets it up: its certificate, password and port.
struct Site {
    node: String,
    port: u16,
    cert: PathBuf,
    key: PathBuf,
    htpasswd: PathBuf,
    password_file: PathBuf,
    /// As `openssl x509 -noout -fingerprint -sha256` prints it.
    fingerprint: String,
    core: String,
    system: String,
}

fn site(dir: &Path, node: &str, core: &str, system: &str) -> Site {
    let cert = dir.join(format!("{node}.crt"));
    let key = dir.join(format!("{node}.key"));
    run(
        Command::new("openssl")
            .args(["req", "-x509", "-nodes", "-newkey", "rsa:2048"])
            .args(["-days", "365", "-subj", "/CN=localhost", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert),
        "openssl req -x509",
    );
    let fp = run(
        Command::new("openssl")
            .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
            .arg(&cert),
        "openssl x509 -fingerprint",
    );
    let fingerprint = fp
        .trim()
        .split_once('=')
        .map(|(_, f)| f.to_string())
        .expect("openssl prints NAME=FINGERPRINT");
    let password = format!("pw-{node}-{}", std::process::id());
    let hash = run(
        Command::new("openssl").args(["passwd", "-apr1", &password]),
        "openssl passwd -apr1",
    );
    let htpasswd = dir.join(format!("{node}.htpasswd"));
    std::fs::write(&htpasswd, format!("{FRONT_USER}:{}\n", hash.trim())).expect("htpasswd");
    let password_file = dir.join(format!("{node}.password"));
    write_0600(&password_file, &format!("{password}\n"));
    Site {
        node: node.to_string(),
        port: free_port(),
        cert,
        key,
        htpasswd,
        password_file,
        fingerprint,
        core: host_port(core),
        system: host_port(system),
    }
}

fn host_port(url: &str) -> String {
    let u = url::Url::parse(url).expect("node URL");
    format!(
        "{}:{}",
        u.host_str().expect("host"),
        u.port().expect("port")
    )
}

/// nginx as a child: killed (it is one process, `master_process off`) when dropped.
struct Nginx {
    child: Child,
    prefix: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Nginx {
    fn start(bin: &Path, prefix: &Path, sites: &[Site]) -> Nginx {
        for d in [
            "tmp/body",
            "tmp/proxy",
            "tmp/fastcgi",
            "tmp/uwsgi",
            "tmp/scgi",
            "logs",
        ] {
            std::fs::create_dir_all(prefix.join(d)).expect("nginx dirs");
        }
        let p = prefix.display();
        let mut servers = String::new();
        for s in sites {
            servers.push_str(&format!(
                r#"
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        auth_basic "Restricted";
        auth_basic_user_file {htpasswd};
        location /core {{ proxy_pass http://{core}; }}
        location /system {{ proxy_pass http://{system}; }}
    }}
"#,
                port = s.port,
                cert = s.cert.display(),
                key = s.key.display(),
                htpasswd = s.htpasswd.display(),
                core = s.core,
                system = s.system,
            ));
        }
        let conf = format!(
            r#"daemon off;
master_process off;
worker_processes 1;
pid {p}/nginx.pid;
error_log {p}/logs/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {p}/logs/access.log;
    client_body_temp_path {p}/tmp/body;
    proxy_temp_path {p}/tmp/proxy;
    fastcgi_temp_path {p}/tmp/fastcgi;
    uwsgi_temp_path {p}/tmp/uwsgi;
    scgi_temp_path {p}/tmp/scgi;
    proxy_connect_timeout 2s;
{servers}}}
"#
        );
        let conf_path = prefix.join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("nginx.conf");
        let child = Command::new(bin)
            .arg("-p")
            .arg(prefix)
            .arg("-e")
            .arg(prefix.join("logs/error.log"))
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        let mut n = Nginx {
            child,
            prefix: prefix.to_path_buf(),
        };
        n.wait_listening(sites);
        n
    }

    fn wait_listening(&mut self, sites: &[Site]) {
        let deadline = Instant::now() + Duration::from_secs(20);
        for s in sites {
            while std::net::TcpStream::connect(("127.0.0.1", s.port)).is_err() {
                if let Ok(Some(st)) = self.child.try_wait() {
                    panic!("nginx exited ({st}): {}", self.error_log());
                }
                assert!(
                    Instant::now() < deadline,
                    "nginx never listened on {}: {}",
                    s.port,
                    self.error_log()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.prefix.join("logs/error.log")).unwrap_or_default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fails_over_through_a_real_nginx_set_up_as_the_node_cli_does() {
    let Some(bin) = tools() else {
        return;
    };
    let mut h = Harness::start(64).await;
    let dir = h.dir.path().join("nginx");
    std::fs::create_dir_all(&dir).expect("dir");
    let sites: Vec<Site> = h
        .info
        .nodes
        .iter()
        .map(|n| site(&dir, &n.name, &n.core_api_url, &n.system_api_url))
        .collect();
    let nginx = Nginx::start(&bin, &dir, &sites);
    // The config `radix-sim run --tls-front --write-config` writes, aimed at nginx.
    h.info.fronts = sites
        .iter()
        .map(|s| FrontInfo {
            node: s.node.clone(),
            url: format!("https://127.0.0.1:{}", s.port),
            user: FRONT_USER.into(),
            password_file: s.password_file.clone(),
            cert_file: s.cert.clone(),
            cert_sha256: s.fingerprint.clone(),
        })
        .collect();
    std::fs::write(&h.config, h.info.failover_config()).expect("config");

    let (ok, check) = h.connect_check().await;
    assert!(ok, "every source connects through nginx:\n{check}");
    assert!(check.contains("pinned certificate"), "{check}");
    let mut d = h.armed("daemon").await;
    h.primary_dies_and_one_commits(&mut d).await;
    h.wait_key_change_epoch().await;
    // The dead primary's nginx answered 502 (nginx's own page), as on a real node.
    let access = std::fs::read_to_string(nginx.prefix.join("logs/access.log")).unwrap_or_default();
    assert!(access.contains("\" 502 "), "nginx proxied to the dead node");
    assert!(access.contains("\" 200 "), "nginx served the live nodes");
    h.stop(&mut d).await;
}
