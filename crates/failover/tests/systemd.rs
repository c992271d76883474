//! systemd integration: sd_notify datagrams over real unix sockets (path and abstract, and
//! from a child process that only has the environment systemd would give it), the watchdog
//! variables, the unit file (each directive once, `systemd-analyze verify` where it exists),
//! install, and journald detection and priority prefixes.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use radix_failover::systemd::{
    install, journal_stream_matches, notify_to, priority_prefix, recommended_watchdog_sec,
    unit_file, watchdog_from, JournaldFormat, SystemdError, UnitOptions, WATCHDOG_FLOOR_SEC,
};

/// Set in the environment of the child processes these tests start (see `child`).
const CHILD_MODE: &str = "RADIX_FAILOVER_SYSTEMD_TEST_CHILD";

fn recv(sock: &UnixDatagram) -> String {
    let mut buf = [0u8; 4096];
    let n = sock.recv(&mut buf).expect("a datagram within the timeout");
    String::from_utf8(buf[..n].to_vec()).unwrap()
}

fn listener(dir: &Path) -> (UnixDatagram, String) {
    let path = dir.join("notify.sock");
    let sock = UnixDatagram::bind(&path).unwrap();
    // Far above a local datagram's latency; bounds the test if nothing comes.
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    (sock, path.to_str().unwrap().to_string())
}

#[test]
fn notify_reaches_a_path_socket_and_an_abstract_socket() {
    let dir = tempfile::tempdir().unwrap();
    let (sock, path) = listener(dir.path());
    notify_to(&path, "READY=1").unwrap();
    assert_eq!(recv(&sock), "READY=1");

    #[cfg(target_os = "linux")]
    {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("radix-failover-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let abs = UnixDatagram::bind_addr(&addr).unwrap();
        abs.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        notify_to(&format!("@{name}"), "WATCHDOG=1").unwrap();
        assert_eq!(recv(&abs), "WATCHDOG=1");
    }

    // No listener, or not a socket path: an error, never a panic.
    assert!(notify_to(dir.path().join("none").to_str().unwrap(), "READY=1").is_err());
    assert!(notify_to("relative/path", "READY=1").is_err());
}

/// Runs this test binary again, only the `child` test, with `env`; returns its stdout.
fn run_child(mode: &str, env: &[(&str, &str)], stderr: Option<std::fs::File>) -> String {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "child",
        "--include-ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_MODE, mode)
    .env_remove("NOTIFY_SOCKET")
    .env_remove("WATCHDOG_USEC")
    .env_remove("WATCHDOG_PID")
    .env_remove("JOURNAL_STREAM");
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(f) = stderr {
        cmd.stderr(f);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The child's side: only does something when started by `run_child`.
#[test]
#[ignore = "runs as a child process of the tests below"]
fn child() {
    use radix_failover::systemd::*;
    match std::env::var(CHILD_MODE).as_deref() {
        Ok("notify") => {
            notify_ready();
            notify_status(&format!("watchdog {:?}\nREADY=1", watchdog_interval()));
            notify_watchdog();
            notify_stopping();
        }
        Ok("journald") => println!("under_journald={}", under_journald()),
        _ => {}
    }
}

#[test]
fn a_process_under_systemd_notifies_through_its_environment() {
    let dir = tempfile::tempdir().unwrap();
    let (sock, path) = listener(dir.path());
    run_child(
        "notify",
        &[("NOTIFY_SOCKET", &path), ("WATCHDOG_USEC", "20000000")],
        None,
    );
    assert_eq!(recv(&sock), "READY=1");
    // The status is one line: an embedded newline cannot smuggle in another assignment.
    assert_eq!(recv(&sock), "STATUS=watchdog Some(20s) READY=1");
    assert_eq!(recv(&sock), "WATCHDOG=1");
    assert_eq!(recv(&sock), "STOPPING=1");

    // WATCHDOG_PID names another process (inherited variables): the watchdog is not ours.
    run_child(
        "notify",
        &[
            ("NOTIFY_SOCKET", &path),
            ("WATCHDOG_USEC", "20000000"),
            ("WATCHDOG_PID", "1"),
        ],
        None,
    );
    assert_eq!(recv(&sock), "READY=1");
    assert_eq!(recv(&sock), "STATUS=watchdog None READY=1");
    assert_eq!(recv(&sock), "WATCHDOG=1");
    assert_eq!(recv(&sock), "STOPPING=1");

    // Without NOTIFY_SOCKET nothing is sent and nothing fails.
    run_child("notify", &[], None);
    sock.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 64];
    assert!(
        sock.recv(&mut buf).is_err(),
        "nothing may arrive without NOTIFY_SOCKET"
    );
}

#[test]
fn watchdog_interval_from_the_environment_values() {
    assert_eq!(
        watchdog_from(Some("30000000"), None, 7),
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        watchdog_from(Some("30000000"), Some("7"), 7),
        Some(Duration::from_secs(30))
    );
    assert_eq!(watchdog_from(Some("30000000"), Some("8"), 7), None);
    assert_eq!(watchdog_from(Some("0"), None, 7), None);
    assert_eq!(watchdog_from(Some("soon"), None, 7), None);
    assert_eq!(watchdog_from(None, Some("7"), 7), None);
    // Default timing (5 s polls, 3 s requests): 2 x (5 + 30) s = 70 s.
    assert_eq!(
        recommended_watchdog_sec(Duration::from_secs(5), Duration::from_secs(3)),
        70
    );
    // A fast-polling test network still gets the default floor.
    assert_eq!(
        recommended_watchdog_sec(Duration::from_millis(200), Duration::from_millis(500)),
        WATCHDOG_FLOOR_SEC
    );
}

fn opts() -> UnitOptions {
    UnitOptions {
        binary: "/usr/local/bin/radix-failover".into(),
        config: "/etc/radix-failover/config.toml".into(),
        user: "radix-failover".into(),
        group: "radix-failover".into(),
        state_dir: "/var/lib/radix-failover".into(),
        watchdog_sec: 70,
        key_credential: None,
    }
}

/// `Key=Value` lines by section (comments and blanks skipped), as systemd reads them.
fn directives(unit: &str) -> BTreeMap<(String, String), Vec<String>> {
    let mut section = String::new();
    let mut out: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for line in unit.lines() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if l.starts_with('[') {
            section = l.trim_matches(['[', ']']).to_string();
            continue;
        }
        let (k, v) = l
            .split_once('=')
            .unwrap_or_else(|| panic!("not a directive: {l}"));
        out.entry((section.clone(), k.to_string()))
            .or_default()
            .push(v.to_string());
    }
    out
}

#[test]
fn unit_file_has_each_required_directive_exactly_once() {
    let unit = unit_file(&opts());
    println!("{unit}");
    let d = directives(&unit);
    let want: &[(&str, &str, &str)] = &[
        ("Unit", "After", "network-online.target time-sync.target"),
        ("Unit", "Wants", "network-online.target"),
        ("Service", "Type", "notify"),
        ("Service", "NotifyAccess", "main"),
        (
            "Service",
            "ExecStart",
            "/usr/local/bin/radix-failover run --config /etc/radix-failover/config.toml",
        ),
        ("Service", "WatchdogSec", "70"),
        ("Service", "Restart", "always"),
        ("Service", "RestartSec", "5"),
        ("Service", "User", "radix-failover"),
        ("Service", "Group", "radix-failover"),
        ("Service", "NoNewPrivileges", "yes"),
        ("Service", "ProtectSystem", "strict"),
        ("Service", "ProtectHome", "yes"),
        ("Service", "PrivateTmp", "yes"),
        ("Service", "CapabilityBoundingSet", ""),
        ("Service", "AmbientCapabilities", ""),
        ("Service", "ReadWritePaths", "/var/lib/radix-failover"),
        ("Service", "StateDirectory", "radix-failover"),
        ("Service", "ProtectKernelTunables", "yes"),
        ("Service", "ProtectControlGroups", "yes"),
        (
            "Service",
            "RestrictAddressFamilies",
            "AF_UNIX AF_INET AF_INET6",
        ),
        ("Service", "LockPersonality", "yes"),
        ("Service", "MemoryDenyWriteExecute", "yes"),
        ("Service", "SystemCallArchitectures", "native"),
        ("Service", "UMask", "0077"),
        ("Service", "ProtectProc", "invisible"),
        ("Service", "ProcSubset", "pid"),
        ("Service", "RemoveIPC", "yes"),
        ("Service", "LimitCORE", "0"),
        ("Install", "WantedBy", "multi-user.target"),
    ];
    for (section, key, value) in want {
        let got = d.get(&(section.to_string(), key.to_string()));
        assert_eq!(
            got.map(|v| v.as_slice()),
            Some(&[value.to_string()][..]),
            "[{section}] {key}"
        );
    }
    // The system-call allow-list, then what is taken out of it, in that order (systemd applies
    // the lines one after the other).
    assert_eq!(
        d[&("Service".into(), "SystemCallFilter".into())],
        ["@system-service", "~@privileged @resources"]
    );
    // No other directive appears twice anywhere.
    for ((s, k), v) in &d {
        if k != "SystemCallFilter" {
            assert_eq!(v.len(), 1, "[{s}] {k} appears {} times", v.len());
        }
    }
    // A key file given as a credential: one LoadCredential line; none without.
    assert!(!d.contains_key(&("Service".into(), "LoadCredential".into())));
    let mut c = opts();
    c.key_credential = Some(radix_failover::systemd::KeyCredential {
        name: "owner.key".into(),
        source: "/etc/radix-failover/owner.key".into(),
    });
    let dc = directives(&unit_file(&c));
    assert_eq!(
        dc[&("Service".into(), "LoadCredential".into())],
        ["owner.key:/etc/radix-failover/owner.key"]
    );
    // Outside /var/lib the directory is only made writable, not created.
    let mut o = opts();
    o.state_dir = "/srv/radix/state".into();
    let d = directives(&unit_file(&o));
    assert!(!d.contains_key(&("Service".into(), "StateDirectory".into())));
    assert_eq!(
        d[&("Service".into(), "ReadWritePaths".into())],
        ["/srv/radix/state"]
    );
}

#[test]
fn systemd_analyze_verifies_the_unit() {
    let Ok(out) = Command::new("which").arg("systemd-analyze").output() else {
        println!("NOTE: `which` is not available; skipping systemd-analyze verify");
        return;
    };
    if !out.status.success() {
        println!("NOTE: systemd-analyze is not installed here; skipping the unit verification");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // ExecStart must name an existing executable for verify; the test binary is one.
    let mut o = opts();
    o.binary = std::env::current_exe().unwrap();
    if o.validate().is_err() {
        // e.g. the build directory is under /home: use a system binary instead.
        o.binary = PathBuf::from("/bin/true");
    }
    // Plain, and with the key file as a systemd credential.
    let mut with_credential = o.clone();
    with_credential.key_credential = Some(radix_failover::systemd::KeyCredential {
        name: "owner.key".into(),
        source: "/etc/radix-failover/owner.key".into(),
    });
    for o in [o, with_credential] {
        let path = dir.path().join("radix-failover.service");
        install(&o, &path, false).unwrap();
        let out = Command::new("systemd-analyze")
            .args(["verify", "--man=no"])
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        println!("systemd-analyze verify: status {:?}\n{stderr}", out.status);
        // Lines about the unit itself (not the host's other units or a missing system bus).
        let ours: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains("radix-failover.service"))
            .collect();
        assert!(
            out.status.success() && ours.is_empty(),
            "systemd-analyze verify complains: {stderr}"
        );
    }
}

#[test]
fn install_writes_0644_or_shows_with_dry_run_and_refuses_bad_options() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("radix-failover.service");
    let text = install(&opts(), &path, true).unwrap();
    assert!(!path.exists(), "dry run writes nothing");
    assert_eq!(install(&opts(), &path, false).unwrap(), text);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o644
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );

    let e = install(&opts(), &dir.path().join("missing/x.service"), false).unwrap_err();
    assert!(matches!(e, SystemdError::Write { .. }));
    assert!(
        e.to_string().contains("missing") && e.to_string().contains("fix:"),
        "{e}"
    );

    let cases: Vec<(UnitOptions, &str)> = vec![
        (
            UnitOptions {
                binary: "radix-failover".into(),
                ..opts()
            },
            "absolute",
        ),
        (
            UnitOptions {
                binary: "/root/.cargo/bin/radix-failover".into(),
                ..opts()
            },
            "ProtectHome",
        ),
        (
            UnitOptions {
                config: "/home/op/config.toml".into(),
                ..opts()
            },
            "ProtectHome",
        ),
        (
            UnitOptions {
                state_dir: "/var/lib/radix failover".into(),
                ..opts()
            },
            "' '",
        ),
        (
            UnitOptions {
                state_dir: "/var/lib/%n".into(),
                ..opts()
            },
            "'%'",
        ),
        (
            UnitOptions {
                state_dir: "/".into(),
                ..opts()
            },
            "whole file system",
        ),
        (
            UnitOptions {
                user: "root".into(),
                ..opts()
            },
            "root",
        ),
        (
            UnitOptions {
                group: "bad group".into(),
                ..opts()
            },
            "not a valid",
        ),
        (
            UnitOptions {
                watchdog_sec: 3,
                ..opts()
            },
            "slow poll",
        ),
    ];
    for (o, needle) in cases {
        let e = install(&o, &path, true).unwrap_err().to_string();
        assert!(e.contains(needle) && e.contains("fix:"), "{needle}: {e}");
    }
}

#[test]
fn journald_is_detected_by_the_stderr_file_identity() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("stderr.log");
    let f = std::fs::File::create(&log).unwrap();
    let m = f.metadata().unwrap();
    assert!(journal_stream_matches(
        &format!("{}:{}", m.dev(), m.ino()),
        m.dev(),
        m.ino()
    ));
    assert!(!journal_stream_matches(
        &format!("{}:{}", m.dev(), m.ino() + 1),
        m.dev(),
        m.ino()
    ));
    assert!(!journal_stream_matches("garbage", m.dev(), m.ino()));

    // A child whose stderr is that file, told JOURNAL_STREAM names it: under journald.
    let stream = format!("{}:{}", m.dev(), m.ino());
    let out = run_child(
        "journald",
        &[("JOURNAL_STREAM", &stream)],
        Some(f.try_clone().unwrap()),
    );
    assert!(out.contains("under_journald=true"), "{out}");
    // The same variable with stderr elsewhere (inherited from a parent): not under journald.
    let other = std::fs::File::create(dir.path().join("other.log")).unwrap();
    let out = run_child("journald", &[("JOURNAL_STREAM", &stream)], Some(other));
    assert!(out.contains("under_journald=false"), "{out}");
    let out = run_child("journald", &[], Some(f));
    assert!(out.contains("under_journald=false"), "{out}");
}

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn journald_lines_carry_priorities_and_no_timestamps() {
    assert_eq!(priority_prefix(&tracing::Level::ERROR), "<3>");
    assert_eq!(priority_prefix(&tracing::Level::WARN), "<4>");
    assert_eq!(priority_prefix(&tracing::Level::INFO), "<6>");
    assert_eq!(priority_prefix(&tracing::Level::DEBUG), "<7>");
    assert_eq!(priority_prefix(&tracing::Level::TRACE), "<7>");

    let buf = Buf::default();
    let sink = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .event_format(JournaldFormat)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        tracing::error!("cannot write the state file");
        tracing::warn!("FAILOVER DECIDED\nmanifest line 2");
        tracing::info!(epoch = 42, "poll");
        tracing::debug!("details");
        tracing::trace!("not shown at debug");
    });
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert_eq!(
        text,
        "<3>cannot write the state file\n<4>FAILOVER DECIDED\n<4>manifest line 2\n<6>poll epoch=42\n<7>details\n"
    );
}

fn write_config(dir: &Path, key_file: &str, daemon: bool) -> PathBuf {
    use radix_common::network::NetworkDefinition;
    use radix_common::types::EntityType;
    // Any node id with the validator entity byte is a well-formed validator address.
    let mut node_id = [7u8; 30];
    node_id[0] = EntityType::GlobalValidator as u8;
    let validator = radix_failover::keys::encode_address(&node_id, &NetworkDefinition::mainnet());
    let mut text = format!(
        "network = \"mainnet\"\nvalidator = \"{validator}\"\nbackup_public_key = \"029932e6683332a3c0d8cd2862c129e0c2501f45c17c88eecac27cc22baf7f80ed\"\nkey_file = \"{key_file}\"\n\n[policy]\npoll_interval = \"2s\"\n"
    );
    if daemon {
        text.push_str("\n[daemon]\nstate_file = \"/var/lib/radix-failover/state.json\"\n");
    }
    let p = dir.join("config.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn unit_options_follow_the_loaded_config() {
    use radix_failover::config::Config;
    // Not under /tmp: the unit's PrivateTmp would hide a config there (checked below).
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let path = write_config(dir.path(), "/etc/radix-failover/owner.key", true);
    let config = Config::load(&path).unwrap();
    let exe = std::env::current_exe().unwrap();
    if let Some(why) = radix_failover::systemd::hidden_by_unit(&path)
        .or(radix_failover::systemd::hidden_by_unit(&exe))
    {
        // A checkout under /home (say): the unit could not see this build, and says so.
        let e = UnitOptions::for_config(
            &config,
            "radix-failover",
            "radix-failover",
            None,
            None,
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains(&why), "{e}");
        println!(
            "NOTE: this build lives where the unit hides it ({why}); only the refusal was checked"
        );
        return;
    }
    let o = UnitOptions::for_config(
        &config,
        "radix-failover",
        "radix-failover",
        None,
        None,
        None,
    )
    .unwrap();
    assert_eq!(o.config, std::path::absolute(&path).unwrap());
    assert_eq!(o.state_dir, Path::new("/var/lib/radix-failover"));
    assert_eq!(
        o.binary,
        std::env::current_exe().unwrap().canonicalize().unwrap()
    );
    // 2 s polls, 3 s default request timeout: 2 x (2 + 30) s.
    assert_eq!(o.watchdog_sec, 64);
    let unit = unit_file(&o);
    assert!(
        unit.contains(&format!(
            "ExecStart={} run --config {}\n",
            o.binary.display(),
            o.config.display()
        )),
        "{unit}"
    );
    let given = UnitOptions::for_config(
        &config,
        "svc",
        "svc",
        Some(Path::new("/usr/bin/radix-failover")),
        Some(90),
        None,
    )
    .unwrap();
    assert_eq!(
        (given.binary.to_str(), given.watchdog_sec),
        (Some("/usr/bin/radix-failover"), 90)
    );

    let err = |p: &Path| {
        let c = Config::load(p).unwrap();
        UnitOptions::for_config(&c, "radix-failover", "radix-failover", None, None, None)
            .unwrap_err()
            .to_string()
    };
    let e = err(&write_config(dir.path(), "/root/owner.key", true));
    assert!(
        e.contains("key file") && e.contains("ProtectHome") && e.contains("fix:"),
        "{e}"
    );
    let e = err(&write_config(
        dir.path(),
        "/etc/radix-failover/owner.key",
        false,
    ));
    assert!(e.contains("state_file") && e.contains("fix:"), "{e}");
    let tmp = tempfile::tempdir_in("/tmp").unwrap();
    let e = err(&write_config(
        tmp.path(),
        "/etc/radix-failover/owner.key",
        true,
    ));
    assert!(e.contains("PrivateTmp") && e.contains("fix:"), "{e}");

    // key_file as a systemd credential: --key-credential names the file systemd loads.
    let cred = write_config(dir.path(), "$CREDENTIALS_DIRECTORY/owner.key", true);
    let c = Config::load(&cred).unwrap();
    assert_eq!(c.key_file, Path::new("$CREDENTIALS_DIRECTORY/owner.key"));
    let e = err(&cred);
    assert!(e.contains("--key-credential") && e.contains("fix:"), "{e}");
    let source = Path::new("/etc/radix-failover/owner.key");
    let o = UnitOptions::for_config(
        &c,
        "svc",
        "svc",
        Some(Path::new("/usr/bin/radix-failover")),
        None,
        Some(source),
    )
    .unwrap();
    assert!(
        unit_file(&o).contains("\nLoadCredential=owner.key:/etc/radix-failover/owner.key\n"),
        "{}",
        unit_file(&o)
    );
    let plain = Config::load(&write_config(
        dir.path(),
        "/etc/radix-failover/owner.key",
        true,
    ))
    .unwrap();
    let e = UnitOptions::for_config(
        &plain,
        "svc",
        "svc",
        Some(Path::new("/usr/bin/radix-failover")),
        None,
        Some(source),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("$CREDENTIALS_DIRECTORY") && e.contains("fix:"),
        "{e}"
    );
}

/// The real `radix-failover run` against a radix-sim network, started the way systemd starts
/// the unit: NOTIFY_SOCKET, WATCHDOG_USEC and stderr connected to "the journal" (a file whose
/// identity JOURNAL_STREAM gives). It says READY after its first poll, pings the watchdog,
/// reports a STATUS, logs `<N>`-prefixed lines without timestamps, serves /metrics and
/// /healthz, and says STOPPING on SIGTERM before a clean exit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_daemon_under_a_systemd_like_environment() {
    use std::os::unix::fs::MetadataExt;
    use std::time::Instant;
    let h = common::Harness::start(41).await;
    let dir = tempfile::tempdir().unwrap();
    let (sock, path) = listener(dir.path());
    let journal = dir.path().join("journal.log");
    let stderr = std::fs::File::create(&journal).unwrap();
    let m = stderr.metadata().unwrap();
    // Let the child inherit a non-zero core limit, so the check below sees the daemon lower it.
    let core = rustix::process::getrlimit(rustix::process::Resource::Core);
    let raised = rustix::process::setrlimit(
        rustix::process::Resource::Core,
        rustix::process::Rlimit {
            current: Some(1 << 20).max(core.current),
            maximum: core.maximum.map(|m| m.max(1 << 20)),
        },
    );
    let mut child = Command::new(common::BIN)
        .args(["run", "--config"])
        .arg(&h.config)
        .env("NOTIFY_SOCKET", &path)
        // 2 s: pings every second, several within the test.
        .env("WATCHDOG_USEC", "2000000")
        .env("JOURNAL_STREAM", format!("{}:{}", m.dev(), m.ino()))
        .env_remove("WATCHDOG_PID")
        .env_remove("RADIX_FAILOVER_LOG")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap();

    // READY within a minute (genesis is done; the first poll and pre-flight take seconds).
    let start = Instant::now();
    sock.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut before_ready = Vec::new();
    loop {
        let msg = recv(&sock);
        if msg == "READY=1" {
            break;
        }
        before_ready.push(msg);
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no READY: {before_ready:?}"
        );
    }
    // Core dumps are off in the running daemon: soft and hard core limits 0.
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    let core_line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap_or_else(|| panic!("no core line in {limits}"));
    let fields: Vec<&str> = core_line.split_whitespace().collect();
    assert_eq!(&fields[4..6], ["0", "0"], "{core_line}");
    if raised.is_err() {
        println!("NOTE: could not raise the core limit for the child (not root); the check above may pass trivially");
    }

    // After READY: watchdog pings and status lines keep coming.
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut after = Vec::new();
    while after
        .iter()
        .filter(|m: &&String| *m == "WATCHDOG=1")
        .count()
        < 3
    {
        after.push(recv(&sock));
    }
    let status = after
        .iter()
        .chain(&before_ready)
        .find(|m| m.starts_with("STATUS="))
        .cloned()
        .unwrap_or_else(|| panic!("no STATUS in {before_ready:?} {after:?}"));
    assert!(status.contains("phase watching"), "{status}");

    // Journal lines: every line carries a priority, none a timestamp of its own.
    let text = std::fs::read_to_string(&journal).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(!lines.is_empty());
    for l in &lines {
        let (prio, rest) = l.split_at(3.min(l.len()));
        assert!(
            ["<3>", "<4>", "<6>", "<7>"].contains(&prio),
            "no priority: {l}"
        );
        assert!(
            !rest.starts_with("20") && !rest.contains("Z  INFO"),
            "timestamped: {l}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("<6>") && l.contains("starting")),
        "{text}"
    );

    // The metrics endpoint the log names.
    let addr = lines
        .iter()
        .find_map(|l| l.split("metrics on http://").nth(1))
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("no metrics address in the log:\n{text}"))
        .to_string();
    // Scraped until a poll saw the primary's Core API answer (one slow answer on a loaded
    // machine is a timeout, not a failure of this test).
    let up = "radix_failover_source_up{source=\"core primary\",kind=\"core\"} 1";
    let deadline = Instant::now() + Duration::from_secs(20);
    let body = loop {
        let body = reqwest::get(format!("http://{addr}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if body.contains(up) || Instant::now() > deadline {
            break body;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(body.contains(up), "{body}");
    assert!(
        body.contains("radix_failover_phase{phase=\"watching\"} 1"),
        "{body}"
    );
    let health = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    // SIGTERM: STOPPING, then a clean exit.
    let st = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    // Pings may still come first; STOPPING=1 must follow within the read timeout.
    let mut stopping = false;
    for _ in 0..50 {
        let mut buf = [0u8; 256];
        match sock.recv(&mut buf) {
            Ok(n) if &buf[..n] == b"STOPPING=1" => {
                stopping = true;
                break;
            }
            Ok(_) => continue,
            Err(_) => break,
        }
    }
    let status = child.wait().unwrap();
    assert!(stopping, "no STOPPING=1 after SIGTERM");
    assert!(
        status.success(),
        "exit {status}:\n{}",
        std::fs::read_to_string(&journal).unwrap()
    );
}

/// A complete daemon config (the watching commands need every section); nothing is contacted.
fn daemon_config(dir: &Path, key_file: &str) -> PathBuf {
    let base = write_config(dir, key_file, true);
    let mut text = std::fs::read_to_string(&base).unwrap();
    text = text.replace(
        "\n[policy]",
        "primary_public_key = \"02ce938064729003a391c5bbf50c5b1968958eb2dd56c8f22c8accdf7502cc3004\"\n\n\
         [primary]\nsystem_api = \"http://10.0.0.1:3334/system\"\ncore_api = \"http://10.0.0.1:3333/core\"\n\n\
         [backup]\nsystem_api = \"http://10.0.0.2:3334/system\"\ncore_api = \"http://10.0.0.2:3333/core\"\n\n\
         [sources]\ngateways = [\"https://mainnet.radixdlt.com\"]\n\n[policy]",
    );
    std::fs::write(&base, text).unwrap();
    base
}

/// `radix-failover service print|install` of the real binary: the printed unit passes
/// `systemd-analyze verify` (where it exists) and names this binary and config; install writes
/// it (0644), `--dry-run` writes nothing, and a key file the sandbox would hide is refused.
#[test]
fn service_commands_of_the_real_binary() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let config = daemon_config(dir.path(), "/etc/radix-failover/owner.key");
    if radix_failover::systemd::hidden_by_unit(&config).is_some()
        || radix_failover::systemd::hidden_by_unit(Path::new(common::BIN)).is_some()
    {
        println!("NOTE: this build lives where the unit hides it; skipping the service commands");
        return;
    }
    let run = |args: &[&str]| {
        Command::new(common::BIN)
            .args(args)
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap()
    };
    let out = run(&["service", "print"]);
    let unit = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = directives(&unit);
    let exec = &d[&("Service".to_string(), "ExecStart".to_string())][0];
    let bin = Path::new(common::BIN).canonicalize().unwrap();
    assert_eq!(
        exec,
        &format!(
            "{} run --config {}",
            bin.display(),
            std::path::absolute(&config).unwrap().display()
        )
    );
    assert_eq!(d[&("Service".to_string(), "Type".to_string())], ["notify"]);
    // 2 s polls, 3 s requests: 2 x (2 + 30) s.
    assert_eq!(
        d[&("Service".to_string(), "WatchdogSec".to_string())],
        ["64"]
    );

    let unit_path = dir.path().join("radix-failover.service");
    let out = run(&[
        "service",
        "install",
        "--dry-run",
        "--path",
        unit_path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success() && !unit_path.exists(),
        "dry run writes nothing"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&unit));
    let out = run(&["service", "install", "--path", unit_path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&unit_path).unwrap(), unit);
    assert_eq!(
        std::fs::metadata(&unit_path).unwrap().permissions().mode() & 0o777,
        0o644
    );

    if Command::new("which")
        .arg("systemd-analyze")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        let out = Command::new("systemd-analyze")
            .args(["verify", "--man=no"])
            .arg(&unit_path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && !stderr.contains("radix-failover.service"),
            "systemd-analyze verify: {stderr}"
        );
    } else {
        println!("NOTE: systemd-analyze is not installed here; the printed unit was not verified");
    }

    // A key file under /root would be invisible to the service: refused with the fix.
    let hidden = daemon_config(dir.path(), "/root/owner.key");
    let out = Command::new(common::BIN)
        .args(["service", "print", "--config"])
        .arg(&hidden)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("ProtectHome") && err.contains("fix:"),
        "{err}"
    );
}
