//! systemd integration: readiness and watchdog notifications (sd_notify), the unit file, and
//! log lines journald understands.
//!
//! - `notify_ready`/`notify_watchdog`/`notify_stopping`/`notify_status` send sd_notify
//!   datagrams to `$NOTIFY_SOCKET` (a path, or an abstract socket written `@name`). Without
//!   `$NOTIFY_SOCKET` (not under systemd) they do nothing; they never fail or panic: a
//!   notification that cannot be sent must not stop a failover.
//! - `watchdog_interval` reads `$WATCHDOG_USEC` (and `$WATCHDOG_PID`); the watch loop pings at
//!   half of it, so one slow poll does not get the daemon killed, a hung loop does.
//! - `unit_file`/`install` write a `Type=notify` unit with a watchdog, restart and hardening.
//! - `under_journald` + `JournaldFormat`: under journald, log lines carry a `<N>` syslog
//!   priority prefix (sd-daemon(3)) and no timestamp (journald adds its own).

use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tracing::{debug, Level};

/// Where `service install` writes by default: the admin's unit directory (takes precedence
/// over units shipped by packages).
pub const DEFAULT_UNIT_PATH: &str = "/etc/systemd/system/radix-failover.service";
/// The least `recommended_watchdog_sec` gives: a minute keeps a restart loop of a daemon
/// that hangs at once from spinning, and is short against a 5-minute epoch.
pub const WATCHDOG_FLOOR_SEC: u64 = 60;
/// Below this a watchdog would fire on an ordinary slow poll.
pub const MIN_WATCHDOG_SEC: u64 = 10;

// ---------------------------------------------------------------------------------------
// sd_notify

/// Sends one sd_notify message to `socket`: a filesystem path (`/run/systemd/notify`) or an
/// abstract socket (`@name`, Linux only).
pub fn notify_to(socket: &str, message: &str) -> io::Result<()> {
    let sock = UnixDatagram::unbound()?;
    if let Some(name) = socket.strip_prefix('@') {
        #[cfg(target_os = "linux")]
        {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
            sock.send_to_addr(message.as_bytes(), &addr)?;
            return Ok(());
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = name;
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "abstract unix sockets exist only on Linux",
            ));
        }
    }
    if !socket.starts_with('/') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("NOTIFY_SOCKET {socket:?} is neither an absolute path nor @abstract"),
        ));
    }
    sock.send_to(message.as_bytes(), socket)?;
    Ok(())
}

/// Sends `message` to `$NOTIFY_SOCKET`. `Ok(false)`: not running under a notify-aware
/// service manager (no `$NOTIFY_SOCKET`).
pub fn notify(message: &str) -> io::Result<bool> {
    match std::env::var("NOTIFY_SOCKET") {
        Ok(s) if !s.is_empty() => notify_to(&s, message).map(|()| true),
        _ => Ok(false),
    }
}

fn notify_quietly(message: &str) {
    if let Err(e) = notify(message) {
        // Debug, not warn: this repeats every poll with the watchdog, and the daemon works
        // without it (systemd would say so itself if the watchdog expired).
        debug!("sd_notify {message:?} failed: {e}");
    }
}

/// `READY=1`: start-up is done (send it after the first pre-flight).
pub fn notify_ready() {
    notify_quietly("READY=1");
}

/// `WATCHDOG=1`: the loop is alive.
pub fn notify_watchdog() {
    notify_quietly("WATCHDOG=1");
}

/// `STOPPING=1`: shutting down.
pub fn notify_stopping() {
    notify_quietly("STOPPING=1");
}

/// `STATUS=<text>`: shown by `systemctl status`. Newlines become spaces (a newline would start
/// another assignment, e.g. a `READY=1` hidden in a source's error text).
pub fn notify_status(status: &str) {
    let one_line: String = status
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    notify_quietly(&format!("STATUS={one_line}"));
}

/// The watchdog interval systemd expects pings within, if the watchdog is on for this process.
pub fn watchdog_interval() -> Option<Duration> {
    watchdog_from(
        std::env::var("WATCHDOG_USEC").ok().as_deref(),
        std::env::var("WATCHDOG_PID").ok().as_deref(),
        std::process::id(),
    )
}

/// `watchdog_interval` on given values: `WATCHDOG_USEC` must be a positive integer, and
/// `WATCHDOG_PID`, when set, must be our pid (else the variables were inherited from a parent
/// and are not ours to serve).
pub fn watchdog_from(usec: Option<&str>, pid: Option<&str>, my_pid: u32) -> Option<Duration> {
    let usec: u64 = usec?.trim().parse().ok().filter(|u| *u > 0)?;
    if let Some(p) = pid {
        if p.trim().parse::<u32>().ok() != Some(my_pid) {
            return None;
        }
    }
    Some(Duration::from_micros(usec))
}

// ---------------------------------------------------------------------------------------
// The unit file

/// What the unit runs and as whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitOptions {
    /// Absolute path of the `radix-failover` binary.
    pub binary: PathBuf,
    /// Absolute path of the config file.
    pub config: PathBuf,
    pub user: String,
    pub group: String,
    /// The directory of the state file: the only place the service may write.
    pub state_dir: PathBuf,
    pub watchdog_sec: u64,
    /// The key file as a systemd credential (`LoadCredential=`), if the config's `key_file` is
    /// `$CREDENTIALS_DIRECTORY/<name>`.
    pub key_credential: Option<KeyCredential>,
}

/// `LoadCredential=<name>:<source>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCredential {
    pub name: String,
    /// Absolute path of the key file systemd reads.
    pub source: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum SystemdError {
    #[error("service {what} {value:?}: {problem}; fix: {fix}")]
    Option {
        what: &'static str,
        value: String,
        problem: String,
        fix: String,
    },
    #[error("cannot write the unit file {path}: {error}; fix: {fix}")]
    Write {
        path: PathBuf,
        error: io::Error,
        fix: String,
    },
}

/// Directories the unit hides from the service: a binary, config, key file or state directory
/// there would be invisible to it (or, for the temporary directories, a different, empty one).
const HIDDEN_DIRS: [(&str, &str); 5] = [
    ("/home", "ProtectHome=yes"),
    ("/root", "ProtectHome=yes"),
    ("/run/user", "ProtectHome=yes"),
    ("/tmp", "PrivateTmp=yes"),
    ("/var/tmp", "PrivateTmp=yes"),
];

/// Why the service could not see `path` under this unit's sandbox, if it could not.
pub fn hidden_by_unit(path: &Path) -> Option<String> {
    HIDDEN_DIRS
        .iter()
        .find(|(d, _)| path.starts_with(d))
        .map(|(d, why)| format!("{d} is hidden from the service ({why})"))
}

fn option_err(
    what: &'static str,
    value: &str,
    problem: impl Into<String>,
    fix: impl Into<String>,
) -> SystemdError {
    SystemdError::Option {
        what,
        value: value.to_string(),
        problem: problem.into(),
        fix: fix.into(),
    }
}

fn check_path(what: &'static str, p: &Path, fix_place: &str) -> Result<(), SystemdError> {
    let shown = p.display().to_string();
    if !p.is_absolute() {
        return Err(option_err(
            what,
            &shown,
            "is not an absolute path (systemd needs one)",
            format!("give the full path, such as {fix_place}"),
        ));
    }
    // The unit's lists are space-separated and `%`/`$` are systemd specifiers/variables:
    // refusing them keeps the unit exactly what it looks like.
    if let Some(c) = shown.chars().find(|c| {
        c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '\\' | '%' | '$' | ';')
    }) {
        return Err(option_err(
            what,
            &shown,
            format!("contains {c:?}, which a unit file would interpret"),
            format!("use a path without spaces or special characters, such as {fix_place}"),
        ));
    }
    if let Some(why) = hidden_by_unit(p) {
        return Err(option_err(
            what,
            &shown,
            why,
            format!("move it, such as to {fix_place}"),
        ));
    }
    Ok(())
}

fn valid_name(s: &str) -> bool {
    // systemd's portable user/group names: a letter or _ first, then letters, digits, _ or -.
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && s.len() <= 31
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_' || x == '-')
}

impl UnitOptions {
    /// The unit for a loaded config: the config file itself (`Config::source`, absolute), the
    /// state file's directory, the running binary unless `binary` is given, and
    /// `recommended_watchdog_sec` for the config's timing unless `watchdog_sec` is given.
    /// Also refuses a key file the sandbox would hide. Validated.
    pub fn for_config(
        config: &crate::config::Config,
        user: &str,
        group: &str,
        binary: Option<&Path>,
        watchdog_sec: Option<u64>,
        key_credential: Option<&Path>,
    ) -> Result<UnitOptions, SystemdError> {
        let binary = match binary {
            Some(b) => b.to_path_buf(),
            None => std::env::current_exe()
                .and_then(|p| p.canonicalize())
                .map_err(|e| {
                    option_err(
                        "binary",
                        "(this program)",
                        format!("cannot find the running binary's path ({e})"),
                        "give it with --binary /usr/local/bin/radix-failover",
                    )
                })?,
        };
        let state_dir = config
            .daemon
            .state_file
            .as_deref()
            .and_then(Path::parent)
            .filter(|d| !d.as_os_str().is_empty())
            .ok_or_else(|| {
                option_err(
                    "state directory",
                    "",
                    "the config sets no [daemon] state_file, so the unit does not know which directory to make writable",
                    "add [daemon] state_file = \"/var/lib/radix-failover/state.json\" to the config",
                )
            })?
            .to_path_buf();
        let key_credential = key_credential_for(&config.key_file, key_credential)?;
        if key_credential.is_some() {
            // systemd reads a credential itself, outside the sandbox: no hidden-path check.
        } else if let Some(why) = hidden_by_unit(&config.key_file) {
            return Err(option_err(
                "key file",
                &config.key_file.display().to_string(),
                why,
                "move the key file (mode 0600, owned by the service's user), such as to /etc/radix-failover/owner.key, and update key_file in the config",
            ));
        }
        let opts = UnitOptions {
            binary,
            config: config.source.clone(),
            user: user.to_string(),
            group: group.to_string(),
            state_dir,
            watchdog_sec: watchdog_sec.unwrap_or_else(|| {
                recommended_watchdog_sec(config.policy.poll_interval, config.daemon.request_timeout)
            }),
            key_credential,
        };
        opts.validate()?;
        Ok(opts)
    }

    /// Checks what would make the unit wrong or fail at start, with the fix.
    pub fn validate(&self) -> Result<(), SystemdError> {
        check_path("binary", &self.binary, "/usr/local/bin/radix-failover")?;
        check_path("config", &self.config, "/etc/radix-failover/config.toml")?;
        check_path(
            "state directory",
            &self.state_dir,
            "/var/lib/radix-failover",
        )?;
        if self.state_dir == Path::new("/") {
            return Err(option_err(
                "state directory",
                "/",
                "would make the whole file system writable",
                "use a directory of its own, such as /var/lib/radix-failover",
            ));
        }
        for (what, v) in [("user", &self.user), ("group", &self.group)] {
            if !valid_name(v) {
                return Err(option_err(what, v, "is not a valid user/group name", "use a system account such as radix-failover (create it: useradd --system --home-dir /var/lib/radix-failover --shell /usr/sbin/nologin radix-failover)"));
            }
            if v == "root" {
                return Err(option_err(what, v, "the daemon needs no privileges, and root would undo the sandbox", "run it as a system account such as radix-failover (useradd --system --shell /usr/sbin/nologin radix-failover) that can read the config and key file"));
            }
        }
        if let Some(c) = &self.key_credential {
            check_path("key credential", &c.source, "/etc/radix-failover/owner.key")?;
            if !crate::keyfile::valid_credential_name(&c.name) {
                return Err(option_err(
                    "key credential name",
                    &c.name,
                    "is not a valid credential name",
                    "name the file after $CREDENTIALS_DIRECTORY/ with letters, digits, '.', '_' or '-', such as owner.key",
                ));
            }
        }
        if self.watchdog_sec < MIN_WATCHDOG_SEC {
            return Err(option_err("watchdog", &self.watchdog_sec.to_string(), format!("is under {MIN_WATCHDOG_SEC} s: an ordinary slow poll would get the daemon killed"), "use at least 60 s; 70 s suits the default timing (two polls that wait out all their request timeouts)"));
        }
        Ok(())
    }
}

/// The credential for the config's `key_file` and `--key-credential SOURCE`: both or neither.
fn key_credential_for(
    key_file: &Path,
    source: Option<&Path>,
) -> Result<Option<KeyCredential>, SystemdError> {
    let name = crate::keyfile::credential_name(key_file);
    match (name, source) {
        (None, None) => Ok(None),
        (Some(name), Some(source)) => Ok(Some(KeyCredential {
            name: name.to_string(),
            source: source.to_path_buf(),
        })),
        (Some(name), None) => Err(option_err(
            "key file",
            &key_file.display().to_string(),
            "is a systemd credential, but no file is given for systemd to load it from",
            format!("pass --key-credential /etc/radix-failover/{name} (the key file; systemd gives the service a copy)"),
        )),
        (None, Some(source)) => Err(option_err(
            "key credential",
            &source.display().to_string(),
            format!("the config's key_file is {}, not a credential", key_file.display()),
            "set key_file = \"$CREDENTIALS_DIRECTORY/owner.key\" in the config, or drop --key-credential",
        )),
    }
}

/// `WatchdogSec` for a poll interval and request timeout: two worst-case polls, each waiting
/// out ten request timeouts in a row (sources, pre-flight and submit requests), must fit, so a
/// slow poll never gets the daemon killed and a hung loop does. At least `WATCHDOG_FLOOR_SEC`.
/// Defaults (5 s polls, 3 s requests): 2 x (5 + 30) s = 70 s.
pub fn recommended_watchdog_sec(poll_interval: Duration, request_timeout: Duration) -> u64 {
    let worst_poll = poll_interval + request_timeout * 10;
    (worst_poll * 2).as_secs().max(WATCHDOG_FLOOR_SEC)
}

/// The unit file. Call `UnitOptions::validate` first (`install` does).
pub fn unit_file(o: &UnitOptions) -> String {
    let state = o.state_dir.display();
    // /var/lib/<name>: let systemd create it, owned by the service's user, mode 0700.
    let state_directory = o
        .state_dir
        .strip_prefix("/var/lib")
        .ok()
        .filter(|rel| rel.components().count() == 1)
        .map(|rel| {
            format!(
                "# systemd creates {state} owned by {user}, private to it.\nStateDirectory={}\nStateDirectoryMode=0700\n",
                rel.display(),
                user = o.user
            )
        })
        .unwrap_or_default();
    format!(
        r#"# radix-failover: automatic key failover for a Radix validator.
# Written by `radix-failover service` {version}. Install: copy to /etc/systemd/system/,
# then `systemctl daemon-reload && systemctl enable --now radix-failover`.

[Unit]
Description=radix-failover: automatic key failover for a Radix validator
# The first poll and the pre-flight need the network. Start after the clock is synchronised
# where a time-sync service provides the target: the policy compares ledger timestamps with
# the clock. No Wants= for it: the target is pulled in by the time-sync service itself, as
# systemd.special(7) says; a unit must not start one.
After=network-online.target time-sync.target
Wants=network-online.target
# Never give up restarting: a daemon that stopped cannot fail over.
StartLimitIntervalSec=0

[Service]
# The daemon says READY after its first pre-flight, and pings the watchdog from its loop.
Type=notify
NotifyAccess=main
ExecStart={binary} run --config {config}
# A watch loop silent for this long is hung: systemd kills and restarts it. Keep it well
# above the poll interval (and a slow poll's request timeouts): the loop pings at half of it.
WatchdogSec={watchdog}
Restart=always
# Back fast (an outage may be under way), without hot-looping on a bad config.
RestartSec=5
# Start-up waits for the first poll and pre-flight over the network: a slow source at boot
# must not count as a failed start.
TimeoutStartSec=120
# Shutdown is taken between polls, and a poll ends within its request timeouts.
TimeoutStopSec=30
User={user}
Group={group}
{state_directory}{credential}
# Hardening: the daemon reads its config and key file, writes its state directory, and
# talks HTTP(S). Nothing else. The config and key file must not be under /home or /root.
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ReadWritePaths={state}
CapabilityBoundingSet=
AmbientCapabilities=
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
# Minus changing users, file owners, limits or scheduling: the daemon does none of it.
SystemCallFilter=~@privileged @resources
# Other processes are invisible in /proc, and of /proc only the process part is visible.
ProtectProc=invisible
ProcSubset=pid
# System V / POSIX IPC objects of the user are removed when the service stops.
RemoveIPC=yes
# No core files: a crash must not write the key to disk (the daemon also sets this itself).
LimitCORE=0
# An unexpected system call fails with EPERM (and is logged by the daemon) instead of killing it.
SystemCallErrorNumber=EPERM
# State and lock files are created private (the state names the validator and intents).
UMask=0077

[Install]
WantedBy=multi-user.target
"#,
        version = env!("CARGO_PKG_VERSION"),
        binary = o.binary.display(),
        config = o.config.display(),
        watchdog = o.watchdog_sec,
        user = o.user,
        group = o.group,
        credential = credential_lines(o),
    )
}

/// `LoadCredential=` for a key file given to the service as a systemd credential.
fn credential_lines(o: &UnitOptions) -> String {
    match &o.key_credential {
        None => String::new(),
        Some(c) => format!(
            "# systemd reads the key file (before the sandbox starts) and gives the service a private\n# copy, readable only by it, at $CREDENTIALS_DIRECTORY/{name}.\nLoadCredential={name}:{source}\n",
            name = c.name,
            source = c.source.display()
        ),
    }
}

/// Validates, then writes the unit to `path` (mode 0644, atomically: a temporary file renamed
/// over it) unless `dry_run`. Returns the unit's text either way.
pub fn install(opts: &UnitOptions, path: &Path, dry_run: bool) -> Result<String, SystemdError> {
    opts.validate()?;
    let text = unit_file(opts);
    if dry_run {
        return Ok(text);
    }
    let write_err = |error: io::Error| {
        let fix = match error.kind() {
            io::ErrorKind::PermissionDenied => {
                "run it as root (sudo), or write elsewhere and copy the file".to_string()
            }
            io::ErrorKind::NotFound => format!(
                "create the directory {} first, or choose another path",
                path.parent().unwrap_or(Path::new("/")).display()
            ),
            _ => "check the path and the disk".to_string(),
        };
        SystemdError::Write {
            path: path.to_path_buf(),
            error,
            fix,
        }
    };
    let name = path.file_name().ok_or_else(|| {
        write_err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path has no file name",
        ))
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.tmp", name.to_string_lossy()));
    let result = (|| {
        use std::io::Write;
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&tmp)?;
        // The umask may have narrowed the mode; systemd needs to read it, it holds no secret.
        f.set_permissions(std::fs::Permissions::from_mode(0o644))?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(write_err(e));
    }
    Ok(text)
}

// ---------------------------------------------------------------------------------------
// journald

/// True when stderr is connected to journald: `$JOURNAL_STREAM` (`<dev>:<inode>`, set by
/// systemd for services logging to the journal) names the very file stderr is. Then log lines
/// should carry `<N>` priorities and no timestamps.
pub fn under_journald() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let Ok(value) = std::env::var("JOURNAL_STREAM") else {
        return false;
    };
    let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() else {
        return false;
    };
    match std::fs::File::from(fd).metadata() {
        Ok(m) => journal_stream_matches(&value, m.dev(), m.ino()),
        Err(_) => false,
    }
}

/// Whether a `$JOURNAL_STREAM` value names the file with device `dev` and inode `ino`.
pub fn journal_stream_matches(value: &str, dev: u64, ino: u64) -> bool {
    value
        .trim()
        .split_once(':')
        .and_then(|(d, i)| Some((d.parse::<u64>().ok()?, i.parse::<u64>().ok()?)))
        == Some((dev, ino))
}

/// The sd-daemon(3) prefix for a tracing level: `<3>` error, `<4>` warning, `<6>` info,
/// `<7>` debug and trace.
pub fn priority_prefix(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "<3>",
        Level::WARN => "<4>",
        Level::INFO => "<6>",
        Level::DEBUG | Level::TRACE => "<7>",
    }
}

/// A `tracing_subscriber` event format for journald: each line of a message gets the event's
/// `<N>` priority (journald splits on newlines, and a continuation line without a prefix
/// would be logged at the default priority), no timestamp, no colours.
///
/// ```ignore
/// tracing_subscriber::fmt()
///     .with_env_filter(filter)
///     .with_writer(std::io::stderr)
///     .with_ansi(false)
///     .event_format(radix_failover::systemd::JournaldFormat)
///     .try_init()
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct JournaldFormat;

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for JournaldFormat
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let prefix = priority_prefix(event.metadata().level());
        let mut text = String::new();
        ctx.field_format().format_fields(
            tracing_subscriber::fmt::format::Writer::new(&mut text),
            event,
        )?;
        if text.is_empty() {
            return writeln!(writer, "{prefix}");
        }
        for line in text.lines() {
            writeln!(writer, "{prefix}{line}")?;
        }
        Ok(())
    }
}
