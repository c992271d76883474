//! The control socket: how `radix-failover status/pause/resume/failover/failback/cancel` talk
//! to the running daemon.
//!
//! A unix socket beside the state file (`<state_file>.sock`), owned by the service user, mode
//! 0600, or 0660 with `[daemon] control_group` (then owned by that group). Nothing listens on
//! the network: whoever can connect can pause the daemon or switch the validator, so the
//! socket's permissions are its only access control (see docs/safety.md).
//!
//! The protocol: one JSON object per line, one request and one response per connection
//! ([`Request`], [`Response`]). The server only reads and forwards: the runner answers each
//! request between two polls, so a command and a poll never act at once and only one intent
//! is ever in flight.
//!
//! Which daemon owns the socket is settled by the state file's lock: the daemon binds only
//! while it holds the lock, so a socket file found then is a dead daemon's and is replaced. A
//! path that is not a socket (a file, a directory, a symlink) is never removed: that is a
//! misconfiguration, and the daemon refuses to start, naming it.

use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};

/// Largest request line: a request is a few hundred bytes (a reason text); more is not ours.
const MAX_REQUEST_BYTES: u64 = 16 * 1024;
/// Largest response line a client reads: `status` is a few kB.
const MAX_RESPONSE_BYTES: u64 = 1 << 20;
/// A client must send its request within this: a connection that says nothing must not hold
/// the server (any real client writes at once).
const REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// The runner answers between polls; a poll is bounded by its deadline (a few seconds), and a
/// manual switch runs a pre-flight (a few requests). 60 s leaves room for both on a slow host.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// The socket beside a state file: `<state_file>.sock`, like its `.lock` and `.tmp`.
pub fn socket_path(state_file: &Path) -> PathBuf {
    let mut s = state_file.as_os_str().to_os_string();
    s.push(".sock");
    PathBuf::from(s)
}

/// One request to the daemon.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Request {
    /// The daemon's phase, pause, intent in flight.
    Status,
    /// Maintenance: no automatic switch for `for_ms` (or `[daemon] max_pause`).
    Pause {
        #[serde(default)]
        for_ms: Option<u64>,
        #[serde(default)]
        reason: Option<String>,
    },
    /// End the pause now.
    Resume,
    /// Switch to the backup now (the daemon builds, sends and follows the intent).
    Failover,
    /// Switch back to the primary's key.
    Failback,
    /// Stop sending the intent in flight.
    Cancel,
}

impl Request {
    pub fn name(&self) -> &'static str {
        match self {
            Request::Status => "status",
            Request::Pause { .. } => "pause",
            Request::Resume => "resume",
            Request::Failover => "failover",
            Request::Failback => "failback",
            Request::Cancel => "cancel",
        }
    }
}

/// The daemon's answer. `ok = false`: refused, and `message` says why and what to do.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Response {
    pub ok: bool,
    pub message: String,
    /// Machine-readable details (`status`: the phase, the pause, the intent in flight).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub data: serde_json::Value,
}

impl Response {
    pub fn ok(message: impl Into<String>) -> Response {
        Response {
            ok: true,
            message: message.into(),
            data: serde_json::Value::Null,
        }
    }

    pub fn refused(message: impl Into<String>) -> Response {
        Response {
            ok: false,
            message: message.into(),
            data: serde_json::Value::Null,
        }
    }

    pub fn with_data(mut self, data: serde_json::Value) -> Response {
        self.data = data;
        self
    }
}

/// A request waiting for the runner's answer.
pub struct Pending {
    pub request: Request,
    pub reply: oneshot::Sender<Response>,
}

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("control socket {}: the path exists and is {what}, not a socket; the daemon never removes it; fix: move it away (or set [daemon] state_file elsewhere: the socket is <state_file>.sock)", path.display())]
    NotASocket { path: PathBuf, what: &'static str },
    #[error("control socket {}: cannot {op}: {source}; fix: make the state file's directory writable by the daemon's user", path.display())]
    Bind {
        path: PathBuf,
        op: &'static str,
        source: io::Error,
    },
    #[error("control socket {}: [daemon] control_group {group:?}: {problem}; fix: create the group (groupadd {group}) and add the daemon's user to it, or remove control_group", path.display())]
    Group {
        path: PathBuf,
        group: String,
        problem: String,
    },
    #[error("no daemon answers on {}: {source}", path.display())]
    NotRunning { path: PathBuf, source: io::Error },
    #[error("control socket {}: permission denied; fix: run the command as the daemon's user (sudo -u radix-failover ...), or set [daemon] control_group and join that group", path.display())]
    PermissionDenied { path: PathBuf },
    #[error("control socket {}: {problem}", path.display())]
    Protocol { path: PathBuf, problem: String },
}

/// The listening socket. Dropping it removes the socket file.
pub struct ControlServer {
    listener: UnixListener,
    path: PathBuf,
}

fn what_is(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}

/// The gid of a group name (or a numeric gid), from /etc/group.
fn group_id(name: &str) -> Result<u32, String> {
    if let Ok(n) = name.parse::<u32>() {
        return Ok(n);
    }
    let text = std::fs::read_to_string("/etc/group")
        .map_err(|e| format!("cannot read /etc/group ({e})"))?;
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let n = f.next()?;
            let gid = f.nth(1)?.parse::<u32>().ok()?;
            (n == name).then_some(gid)
        })
        .next()
        .ok_or_else(|| "no such group in /etc/group".to_string())
}

/// Why members of the control group cannot reach the socket, if they cannot: they need to
/// search (x) its directory, which is 0700 by default (the package, systemd's StateDirectory).
fn unreachable_for_group(path: &Path, gid: u32, group: &str) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty())?;
    let meta = std::fs::metadata(dir).ok()?;
    let mode = meta.mode();
    let reachable = mode & 0o001 != 0 || (meta.gid() == gid && mode & 0o010 != 0);
    (!reachable).then(|| format!(
        "control socket {}: [daemon] control_group {group:?} is set, but its members cannot reach the socket: the directory {} is mode {:04o}, group {}; fix: chgrp {group} {} && chmod 0710 {} (under systemd: StateDirectoryMode=0710 and Group={group}, or a drop-in with ExecStartPre=)",
        path.display(), dir.display(), mode & 0o7777, meta.gid(), dir.display(), dir.display()
    ))
}

impl ControlServer {
    /// Binds `path`. The caller holds the state file's lock: a socket already there is a dead
    /// daemon's and is replaced; anything else there is refused. The socket is created with
    /// no access for anyone but the owner (umask), then opened to `group` if given.
    pub fn bind(path: &Path, group: Option<&str>) -> Result<ControlServer, ControlError> {
        let bind_err = |op: &'static str| {
            move |source: io::Error| ControlError::Bind {
                path: path.to_path_buf(),
                op,
                source,
            }
        };
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_socket() => {
                warn!(
                    "control socket {}: removing the socket a stopped daemon left (this daemon holds the state file's lock)",
                    path.display()
                );
                std::fs::remove_file(path).map_err(bind_err("remove the stale socket"))?;
            }
            Ok(meta) => {
                return Err(ControlError::NotASocket {
                    path: path.to_path_buf(),
                    what: what_is(&meta),
                })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(bind_err("inspect the path")(e)),
        }
        let gid = match group {
            Some(g) => Some(group_id(g).map_err(|problem| ControlError::Group {
                path: path.to_path_buf(),
                group: g.to_string(),
                problem,
            })?),
            None => None,
        };
        // No window in which another user could connect: the socket is born 0600.
        let old = rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o177));
        let bound = std::os::unix::net::UnixListener::bind(path);
        rustix::process::umask(old);
        let std_listener = bound.map_err(bind_err("bind"))?;
        let server = (|| {
            if let Some(gid) = gid {
                std::os::unix::fs::chown(path, None, Some(gid)).map_err(|e| {
                    ControlError::Group {
                        path: path.to_path_buf(),
                        group: group.unwrap_or_default().to_string(),
                        problem: format!("cannot give the socket to it ({e}); the daemon's user must be a member"),
                    }
                })?;
            }
            if let (Some(gid), Some(g)) = (gid, group) {
                if let Some(w) = unreachable_for_group(path, gid, g) {
                    warn!("{w}");
                }
            }
            let mode = if gid.is_some() { 0o660 } else { 0o600 };
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                .map_err(bind_err("set its mode"))?;
            std_listener
                .set_nonblocking(true)
                .map_err(bind_err("make it non-blocking"))?;
            let listener = UnixListener::from_std(std_listener).map_err(bind_err("listen"))?;
            Ok(ControlServer {
                listener,
                path: path.to_path_buf(),
            })
        })();
        if server.is_err() {
            let _ = std::fs::remove_file(path);
        }
        server
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Accepts connections until `shutdown` resolves; each request goes to `runner`, and the
    /// runner's answer goes back. Connections are served one after another: commands are
    /// rare, and the runner answers them one at a time anyway.
    pub async fn run(
        self,
        runner: mpsc::Sender<Pending>,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        loop {
            let stream = tokio::select! {
                _ = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok((s, _)) => s,
                    Err(e) => {
                        warn!("control socket {}: accept failed: {e}", self.path.display());
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            tokio::select! {
                _ = &mut shutdown => break,
                _ = serve_one(stream, &runner) => {}
            }
        }
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        // Only our own socket: if the path was replaced meanwhile, leave it.
        if std::fs::symlink_metadata(&self.path).is_ok_and(|m| m.file_type().is_socket()) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

async fn serve_one(stream: UnixStream, runner: &mpsc::Sender<Pending>) {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut reader = BufReader::new(read).take(MAX_REQUEST_BYTES);
    let response =
        match tokio::time::timeout(REQUEST_READ_TIMEOUT, reader.read_line(&mut line)).await {
            Err(_) => Response::refused("no request within 5 s"),
            Ok(Err(e)) => Response::refused(format!("cannot read the request: {e}")),
            Ok(Ok(_)) => match serde_json::from_str::<Request>(line.trim()) {
                Err(e) => Response::refused(format!(
                    "not a request this daemon understands ({e}); fix: use the radix-failover binary of the daemon's version"
                )),
                Ok(request) => {
                    debug!("control: {} request", request.name());
                    let (reply, answer) = oneshot::channel();
                    if runner.send(Pending { request, reply }).await.is_err() {
                        Response::refused("the daemon is shutting down")
                    } else {
                        match tokio::time::timeout(ANSWER_TIMEOUT, answer).await {
                            Ok(Ok(r)) => r,
                            _ => Response::refused("the daemon did not answer in time; check its log (journalctl -u radix-failover)"),
                        }
                    }
                }
            },
        };
    let mut text = serde_json::to_string(&response)
        .unwrap_or_else(|_| r#"{"ok":false,"message":"cannot encode the answer"}"#.to_string());
    text.push('\n');
    let _ = write.write_all(text.as_bytes()).await;
    let _ = write.shutdown().await;
}

/// Sends one request to the daemon listening on `path` and returns its answer.
pub async fn request(
    path: &Path,
    req: &Request,
    timeout: Duration,
) -> Result<Response, ControlError> {
    let stream = UnixStream::connect(path)
        .await
        .map_err(|e| match e.kind() {
            io::ErrorKind::PermissionDenied => ControlError::PermissionDenied {
                path: path.to_path_buf(),
            },
            _ => ControlError::NotRunning {
                path: path.to_path_buf(),
                source: e,
            },
        })?;
    let protocol = |problem: String| ControlError::Protocol {
        path: path.to_path_buf(),
        problem,
    };
    let (read, mut write) = stream.into_split();
    let mut text = serde_json::to_string(req).map_err(|e| protocol(e.to_string()))?;
    text.push('\n');
    write
        .write_all(text.as_bytes())
        .await
        .map_err(|e| protocol(format!("cannot send the request: {e}")))?;
    let mut line = String::new();
    let mut reader = BufReader::new(read).take(MAX_RESPONSE_BYTES);
    match tokio::time::timeout(timeout, reader.read_line(&mut line)).await {
        Err(_) => Err(protocol(format!(
            "no answer within {}",
            humantime::format_duration(timeout)
        ))),
        Ok(Err(e)) => Err(protocol(format!("cannot read the answer: {e}"))),
        Ok(Ok(0)) => Err(protocol(
            "the daemon closed the connection without an answer".into(),
        )),
        Ok(Ok(_)) => serde_json::from_str(line.trim()).map_err(|e| {
            protocol(format!(
                "the answer is not JSON the client understands ({e})"
            ))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_one_json_object_each() {
        let r = Request::Pause {
            for_ms: Some(60_000),
            reason: Some("upgrade".into()),
        };
        let text = serde_json::to_string(&r).expect("json");
        assert_eq!(
            text,
            r#"{"command":"pause","for_ms":60000,"reason":"upgrade"}"#
        );
        assert_eq!(serde_json::from_str::<Request>(&text).expect("back"), r);
        assert_eq!(
            serde_json::from_str::<Request>(r#"{"command":"pause"}"#).expect("defaults"),
            Request::Pause {
                for_ms: None,
                reason: None
            }
        );
        assert!(serde_json::from_str::<Request>(r#"{"command":"explode"}"#).is_err());
    }

    #[test]
    fn a_control_group_makes_it_0660_for_that_group_and_an_unknown_group_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json.sock");
        let err = ControlServer::bind(&path, Some("no-such-group-here"))
            .err()
            .expect("unknown group");
        assert!(
            err.to_string().contains("no such group") && err.to_string().contains("fix"),
            "{err}"
        );
        assert!(!path.exists(), "nothing left behind");
        // Our own primary group: every user may give a file to it.
        let gid = rustix::process::getegid().as_raw();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let _guard = rt.enter();
        let server = ControlServer::bind(&path, Some(&gid.to_string())).expect("bind");
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(&path).expect("meta");
        assert_eq!(meta.permissions().mode() & 0o777, 0o660);
        assert_eq!(meta.gid(), gid);
        // The temp dir is 0700: the group cannot get in, and the daemon says so.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .expect("chmod");
        let w = unreachable_for_group(&path, gid, "ops").expect("unreachable");
        assert!(w.contains("chmod 0710"), "{w}");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o710))
            .expect("chmod");
        assert_eq!(unreachable_for_group(&path, gid, "ops"), None);
        drop(server);
    }

    #[test]
    fn the_socket_sits_beside_the_state_file() {
        assert_eq!(
            socket_path(Path::new("/var/lib/radix-failover/state.json")),
            PathBuf::from("/var/lib/radix-failover/state.json.sock")
        );
    }

    #[tokio::test]
    async fn bind_refuses_a_file_replaces_a_stale_socket_and_is_0600() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json.sock");
        std::fs::write(&path, b"not a socket").expect("write");
        let err = ControlServer::bind(&path, None)
            .err()
            .expect("a regular file is refused");
        let msg = err.to_string();
        assert!(msg.contains("regular file") && msg.contains("fix"), "{msg}");
        assert_eq!(std::fs::read(&path).expect("kept"), b"not a socket");
        std::fs::remove_file(&path).expect("rm");

        // A dead daemon's socket: bound once, never removed.
        let stale = std::os::unix::net::UnixListener::bind(&path).expect("stale");
        drop(stale);
        assert!(path.exists());
        let server = ControlServer::bind(&path, None).expect("stale socket replaced");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);

        // A request goes to the runner side and its answer comes back.
        let (tx, mut rx) = mpsc::channel::<Pending>(1);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(tx, async {
            let _ = stopped.await;
        }));
        let answer = tokio::spawn(async move {
            if let Some(p) = rx.recv().await {
                let _ = p
                    .reply
                    .send(Response::ok(format!("got {}", p.request.name())));
            }
        });
        let r = request(&path, &Request::Resume, Duration::from_secs(5))
            .await
            .expect("answer");
        assert_eq!(r, Response::ok("got resume"));
        answer.await.expect("answered");
        let _ = stop.send(());
        task.await.expect("server stops");
        assert!(
            !path.exists(),
            "the socket is removed when the server stops"
        );
        let err = request(&path, &Request::Status, Duration::from_secs(1))
            .await
            .expect_err("nobody listens");
        assert!(matches!(err, ControlError::NotRunning { .. }), "{err}");
    }
}
