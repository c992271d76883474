//! The example configs in docs/examples/ (issue 10: a `babylonnode` Docker setup and a systemd
//! setup, the watcher on the backup host) load as they are, once their files exist: every key
//! is known, the pins parse, the password files are read, and `config check` passes. Paths
//! under /etc/radix-failover/ are moved into a temp dir, where the test creates the files.

use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use radix_failover::config::Config;

fn example(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/examples")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn write_0600(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .expect("create a 0600 file");
    f.write_all(text.as_bytes()).expect("write");
}

/// The example with its /etc/radix-failover/ files made in `dir`; returns the config path.
fn materialise(dir: &Path, name: &str) -> PathBuf {
    let text = example(name).replace("/etc/radix-failover/", &format!("{}/", dir.display()));
    for line in text.lines() {
        for part in line.split('"') {
            if part.starts_with(&dir.display().to_string())
                && part.ends_with(".password")
                && !Path::new(part).exists()
            {
                write_0600(Path::new(part), "a-password\n");
            }
        }
    }
    write_0600(&dir.join("owner.key"), &format!("{}\n", "11".repeat(32)));
    let p = dir.join(name);
    write_0600(&p, &text);
    p
}

fn check(name: &str) -> Config {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = materialise(dir.path(), name);
    let config = Config::load(&path).unwrap_or_else(|e| panic!("{name} does not load: {e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_radix-failover"))
        .args(["config", "check", "--config"])
        .arg(&path)
        .output()
        .expect("run config check");
    assert!(
        out.status.success(),
        "config check {name}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    config
}

#[test]
fn the_babylonnode_docker_example_loads_both_nodes_through_their_nginx() {
    let c = check("babylonnode-docker.toml");
    for (role, node) in [("primary", &c.primary), ("backup", &c.backup)] {
        assert!(node.conn.pin_sha256.is_some(), "{role} is pinned");
        assert!(node.conn.basic_auth.is_some(), "{role} uses basic auth");
        let sys = node.system_api.as_ref().expect("system_api");
        assert_eq!(sys.scheme(), "https", "{role}");
        assert_eq!(sys.path(), "/system", "{role}");
    }
    // Gateway, two more Core APIs, the primary's and the backup's.
    assert_eq!(c.sources.len(), 5, "{:?}", c.sources);
}

#[test]
fn the_systemd_example_loads_the_remote_primary_pinned_and_the_local_backup_plain() {
    let c = check("systemd.toml");
    assert!(c.primary.conn.pin_sha256.is_some());
    assert!(c.primary.conn.basic_auth.is_some());
    assert!(c.backup.conn.is_default(), "the backup is on loopback");
    let sys = c.backup.system_api.as_ref().expect("system_api");
    assert_eq!(sys.host_str(), Some("127.0.0.1"));
    assert_eq!(c.sources.len(), 4, "{:?}", c.sources);
}
