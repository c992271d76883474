//! The real `radix-sim` binary: starts, prints every URL, writes the info file and a ready
//! failover config, runs its round clock while serving, takes faults on the control port, and
//! shuts down cleanly on SIGTERM.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Genesis on the real engine in a debug build takes a few seconds; leave room on a busy
/// 2-core machine.
const START_TIMEOUT: Duration = Duration::from_secs(120);

fn wait_for_file(path: &std::path::Path) -> String {
    let start = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            if serde_json::from_str::<Value>(&text).is_ok() {
                return text;
            }
        }
        assert!(
            start.elapsed() < START_TIMEOUT,
            "radix-sim did not write {} in time",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_runs_serves_and_shuts_down_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let info_path = dir.path().join("info.json");
    let config_path = dir.path().join("failover.toml");
    let scenario = dir.path().join("scenario.toml");
    std::fs::write(
        &scenario,
        "seed = 9\n[[event]]\nat_round = 3\naction = \"gateway_slow\"\nlatency_ms = 1\n",
    )
    .expect("write scenario");
    let mut child = Command::new(env!("CARGO_BIN_EXE_radix-sim"))
        .args([
            "run",
            "--validators",
            "6",
            "--round-ms",
            "50",
            "--rounds-per-epoch",
            "10",
        ])
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .arg("--info-file")
        .arg(&info_path)
        .arg("--write-config")
        .arg(&config_path)
        .arg("--scenario")
        .arg(&scenario)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("radix-sim starts");

    let info: Value = serde_json::from_str(&wait_for_file(&info_path)).expect("info JSON");
    assert_eq!(info["network_id"], 242);
    assert_eq!(info["seed"], 9, "the scenario's seed overrides --seed");
    let nodes = info["nodes"].as_array().expect("nodes").clone();
    assert_eq!(
        nodes.len(),
        7,
        "six validators, ours with primary and backup"
    );
    let key_file = info["key_file"].as_str().expect("key file").to_string();
    assert!(std::path::Path::new(&key_file).is_absolute());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file)
            .expect("key file exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "owner key file must be private");
    }

    // The written config names exactly the expected keys, with the running network's values.
    let cfg: toml::Table = std::fs::read_to_string(&config_path)
        .expect("config written")
        .parse()
        .expect("config is TOML");
    assert_eq!(cfg["network"].as_str(), Some("simulator"));
    assert_eq!(cfg["validator"].as_str(), info["our_validator"].as_str());
    assert_eq!(
        cfg["backup_public_key"].as_str(),
        info["backup_public_key_hex"].as_str()
    );
    assert_eq!(cfg["key_file"].as_str(), Some(key_file.as_str()));
    assert_eq!(cfg["fee_lock_xrd"].as_str(), Some("10"));

    // The clock runs while the gateway serves.
    let http = reqwest::Client::new();
    let gateway = info["gateway_url"]
        .as_str()
        .expect("gateway url")
        .to_string();
    let status = |http: reqwest::Client, gateway: String| async move {
        let v: Value = http
            .post(format!("{gateway}/status/gateway-status"))
            .json(&json!({}))
            .send()
            .await
            .expect("gateway answers")
            .json()
            .await
            .expect("json");
        v["ledger_state"]["state_version"]
            .as_u64()
            .expect("state version")
    };
    let first = status(http.clone(), gateway.clone()).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let second = status(http.clone(), gateway.clone()).await;
    assert!(second > first, "rounds advance: {first} -> {second}");

    // Control API: same info, and faults are applied.
    let control = info["control_url"]
        .as_str()
        .expect("control url")
        .to_string();
    let served: Value = http
        .get(format!("{control}/info"))
        .send()
        .await
        .expect("control answers")
        .json()
        .await
        .expect("json");
    assert_eq!(served, info);
    let r = http
        .post(format!("{control}/faults"))
        .json(&json!({"action": "node_down", "node": "backup"}))
        .send()
        .await
        .expect("control answers");
    assert!(r.status().is_success());
    let backup_system = nodes
        .iter()
        .find(|n| n["name"] == "backup")
        .and_then(|n| n["system_api_url"].as_str())
        .expect("backup url")
        .to_string();
    let err = http
        .get(format!("{backup_system}/health"))
        .send()
        .await
        .expect_err("backup is down");
    assert!(err.is_connect());

    // `radix-sim config` turns the info file into the same config.
    let out = dir.path().join("again.toml");
    let st = Command::new(env!("CARGO_BIN_EXE_radix-sim"))
        .args(["config", "--info-file"])
        .arg(&info_path)
        .arg("--out")
        .arg(&out)
        .status()
        .expect("config runs");
    assert!(st.success());
    assert_eq!(
        std::fs::read_to_string(&out).expect("written"),
        std::fs::read_to_string(&config_path).expect("written")
    );
    // ... and so does asking the running network's control API.
    let out2 = dir.path().join("from-control.toml");
    let st = Command::new(env!("CARGO_BIN_EXE_radix-sim"))
        .args(["config", "--control-url", &control, "--out"])
        .arg(&out2)
        .status()
        .expect("config runs");
    assert!(st.success());
    assert_eq!(
        std::fs::read_to_string(&out2).expect("written"),
        std::fs::read_to_string(&config_path).expect("written")
    );

    // SIGTERM: clean exit, and the printout listed every URL.
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let start = Instant::now();
    let exit = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "radix-sim did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "exit status {exit:?}");
    let mut printed = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut printed)
        .expect("read stdout");
    assert!(printed.contains(&gateway), "{printed}");
    assert!(printed.contains(&control));
    for n in &nodes {
        assert!(
            printed.contains(n["core_api_url"].as_str().unwrap_or("?")),
            "{printed}"
        );
        assert!(
            printed.contains(n["system_api_url"].as_str().unwrap_or("?")),
            "{printed}"
        );
    }
    for k in [
        "our_validator",
        "owner_account",
        "primary_public_key_hex",
        "backup_public_key_hex",
    ] {
        assert!(
            printed.contains(info[k].as_str().unwrap_or("?")),
            "{k} missing from:\n{printed}"
        );
    }
    assert!(printed.contains(&key_file));
    assert!(printed.contains("242"));
}
