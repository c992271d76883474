//! `radix-failover init` on the real binary: flags only (no terminal), each answer checked,
//! and the written config loads as the daemon will load it.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use radix_common::network::NetworkDefinition;
use radix_failover::config::Config;

const BIN: &str = env!("CARGO_BIN_EXE_radix-failover");
const PRIMARY: &str = "02ce938064729003a391c5bbf50c5b1968958eb2dd56c8f22c8accdf7502cc3004";
const BACKUP: &str = "029932e6683332a3c0d8cd2862c129e0c2501f45c17c88eecac27cc22baf7f80ed";
/// A stokenet validator address (a real one's shape: bech32m of the validator entity type).
fn validator() -> String {
    let mut node_id = [7u8; 30];
    node_id[0] = radix_common::types::EntityType::GlobalValidator as u8;
    radix_failover::keys::encode_address(&node_id, &NetworkDefinition::stokenet())
}

fn key_file(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("owner.key");
    std::fs::write(&p, format!("{}\n", "11".repeat(32))).expect("write key");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    p
}

fn init(dir: &Path, extra: &[&str]) -> Output {
    let out = dir.join("failover.toml");
    let key = key_file(dir);
    let v = validator();
    let mut args: Vec<String> = vec![
        "init".into(),
        "--no-input".into(),
        "--out".into(),
        out.display().to_string(),
        "--network".into(),
        "stokenet".into(),
        "--validator".into(),
        v,
        "--primary-key".into(),
        PRIMARY.into(),
        "--backup-key".into(),
        BACKUP.into(),
        "--key-file".into(),
        key.display().to_string(),
        "--backup-system-api".into(),
        "http://10.0.0.2:3334/system".into(),
        "--backup-core-api".into(),
        "http://10.0.0.2:3333/core".into(),
        "--primary-system-api".into(),
        "http://10.0.0.1:3334/system".into(),
        "--core-api".into(),
        "http://10.0.0.3:3333/core".into(),
        "--state-file".into(),
        dir.join("state.json").display().to_string(),
    ];
    // A flag given in `extra` replaces the default one (with its value).
    let mut i = 0;
    while i < extra.len() {
        if let Some(pos) = args.iter().position(|a| a == extra[i]) {
            if extra[i].starts_with("--") && i + 1 < extra.len() && !extra[i + 1].starts_with("--")
            {
                args[pos + 1] = extra[i + 1].to_string();
                i += 2;
                continue;
            }
        }
        args.push(extra[i].to_string());
        i += 1;
    }
    Command::new(BIN)
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .expect("run init")
}

fn drop_flag(dir: &Path, flag: &str) -> Output {
    drop_flag_with(dir, flag, &[])
}

/// As `drop_flag`, with these flags and values added.
fn drop_flag_with(dir: &Path, flag: &str, extra: &[(&str, &str)]) -> Output {
    let out = init(dir, &[]);
    let _ = std::fs::remove_file(dir.join("failover.toml"));
    assert!(out.status.success());
    // Re-run without the flag and its value.
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let _ = text;
    let key = key_file(dir);
    let v = validator();
    let all = [
        ("--network", "stokenet".to_string()),
        ("--validator", v),
        ("--primary-key", PRIMARY.into()),
        ("--backup-key", BACKUP.into()),
        ("--key-file", key.display().to_string()),
        ("--backup-system-api", "http://10.0.0.2:3334/system".into()),
        ("--state-file", dir.join("state.json").display().to_string()),
    ];
    let mut args = vec![
        "init".to_string(),
        "--no-input".into(),
        "--out".into(),
        dir.join("failover.toml").display().to_string(),
    ];
    for (f, val) in all {
        if f != flag {
            args.push(f.into());
            args.push(val);
        }
    }
    for (f, val) in extra {
        args.push(f.to_string());
        args.push(val.to_string());
    }
    Command::new(BIN)
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .expect("run init")
}

#[test]
fn flags_only_init_writes_a_commented_config_that_loads() {
    let dir = tempfile::tempdir().expect("dir");
    let out = init(dir.path(), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = dir.path().join("failover.toml");
    let text = std::fs::read_to_string(&path).expect("written");
    assert!(
        text.lines().filter(|l| l.starts_with('#')).count() > 10,
        "commented:\n{text}"
    );
    // 0600 from the start: it names the key file and the key to switch to.
    assert_eq!(
        std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777,
        0o600
    );
    let c = Config::load(&path).expect("loads");
    c.require_watch(true).expect("has what `run` needs");
    assert_eq!(c.network.id, 2);
    assert_eq!(c.validator_bech32(), validator());
    assert_eq!(hex::encode(c.backup_public_key.0), BACKUP);
    assert_eq!(
        c.primary_public_key.map(|k| hex::encode(k.0)).as_deref(),
        Some(PRIMARY)
    );
    let names: Vec<&str> = c.sources.iter().map(|s| s.name.as_str()).collect();
    // The stokenet gateway is not added when Core APIs were given by flag.
    assert_eq!(names, ["core 10.0.0.3:3333", "core backup"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("account_tdx_2_1"),
        "shows the key's account"
    );
    // No secret in what init printed or wrote.
    let secret = "11".repeat(32);
    assert!(!text.contains(&secret) && !String::from_utf8_lossy(&out.stdout).contains(&secret));
}

#[test]
fn default_gateway_for_the_network_when_no_gateway_is_given() {
    let dir = tempfile::tempdir().expect("dir");
    // The nodes' own APIs, but no gateway: the network's public gateway is added.
    let out = drop_flag_with(
        dir.path(),
        "--none",
        &[
            ("--primary-system-api", "https://10.0.0.1/system"),
            ("--backup-core-api", "https://10.0.0.2/core"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = Config::load(&dir.path().join("failover.toml")).expect("loads");
    assert_eq!(c.sources[0].url.as_str(), "https://stokenet.radixdlt.com/");
}

#[test]
fn init_refuses_a_config_that_can_never_fail_over() {
    // The public gateway alone, no primary System API: once the primary is dead, one source
    // is left, and neither the early signal nor the miss rule can confirm anything.
    let dir = tempfile::tempdir().expect("dir");
    let out = drop_flag(dir.path(), "--none");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "refused");
    assert!(
        err.contains("can never fail over") && err.contains("core_api"),
        "names the problem and the fix: {err}"
    );
    assert!(
        !dir.path().join("failover.toml").exists(),
        "nothing is kept"
    );
}

#[test]
fn each_bad_answer_is_named_with_its_flag() {
    for (flag, bad, expect) in [
        ("--network", "mainet", "mainet"),
        ("--validator", "validator_rdx1qqq", "not a valid Radix"),
        ("--backup-key", "02abc", "not hexadecimal"),
        ("--backup-key", PRIMARY, "the primary's key"),
        ("--backup-system-api", "10.0.0.2:3334", "URL"),
        ("--key-file", "/nonexistent/owner.key", "owner.key"),
    ] {
        let dir = tempfile::tempdir().expect("dir");
        let out = init(dir.path(), &[flag, bad]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{flag} {bad} accepted");
        assert!(
            err.contains(flag) && err.contains(expect),
            "{flag} {bad}: {err}"
        );
        assert!(
            !dir.path().join("failover.toml").exists(),
            "nothing written on error"
        );
    }
}

#[test]
fn missing_required_value_without_a_terminal_names_the_flag() {
    let dir = tempfile::tempdir().expect("dir");
    let out = drop_flag(dir.path(), "--validator");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("--validator is required"), "{err}");
}

#[test]
fn an_existing_config_is_not_replaced_without_force() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("failover.toml"), "keep me").expect("write");
    let out = init(dir.path(), &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("failover.toml")).expect("read"),
        "keep me"
    );
    std::fs::set_permissions(
        dir.path().join("failover.toml"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    let out = init(dir.path(), &["--force"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Replaced by a new 0600 file, nothing left behind.
    let meta = std::fs::metadata(dir.path().join("failover.toml")).expect("meta");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("failover.toml"))
        .collect();
    assert_eq!(names, ["failover.toml"]);
}
