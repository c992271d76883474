//! Alerts that prove themselves (issue 12 item 6), with the real `radix-failover run` on a
//! real radix-sim network over loopback:
//! - the heartbeat (a dead-man's switch) is pinged while the loop is healthy, and stops when
//!   the loop does (a real SIGSTOP), then goes on (SIGCONT);
//! - every alert names the watcher;
//! - dedupe survives restarts: a daemon restarted in a loop sends "started" once.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Daemon, Harness, STEP};

/// A loopback check service: records when each ping arrived.
async fn check_service() -> (String, Arc<Mutex<Vec<(Instant, String)>>>) {
    let pings = Arc::new(Mutex::new(Vec::new()));
    let p = pings.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let p = p.clone();
        async move {
            p.lock()
                .unwrap()
                .push((Instant::now(), uri.path().to_string()));
            "OK"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), pings)
}

fn count(pings: &Arc<Mutex<Vec<(Instant, String)>>>) -> usize {
    pings.lock().unwrap().len()
}

async fn wait_pings(pings: &Arc<Mutex<Vec<(Instant, String)>>>, n: usize) {
    let deadline = Instant::now() + STEP;
    while count(pings) < n {
        assert!(Instant::now() < deadline, "only {} pings", count(pings));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn signal(d: &Daemon, sig: &str) {
    let st = std::process::Command::new("kill")
        .args([sig, &d.pid().to_string()])
        .status()
        .expect("kill");
    assert!(st.success(), "kill {sig}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_heartbeat_stops_with_the_loop_and_alerts_name_the_watcher_and_survive_restarts() {
    let h = Harness::start(71).await;
    let (base, pings) = check_service().await;
    let hook = h.webhook().await;
    // `[alerts]` is the config's last table: these keys join it.
    h.edit_config(|t| {
        format!(
            "{t}watcher = \"watcher-e2e\"\nheartbeat = {{ url = \"{base}/ping/check-uuid\", interval = \"1s\" }}\n"
        )
    });
    let mut d = h.armed("daemon").await;
    let line = d.wait_line("heartbeat: ", STEP).await;
    assert!(
        line.contains("every 1s") && !line.contains("check-uuid"),
        "the start-up line shows the heartbeat without its token: {line}"
    );
    wait_pings(&pings, 3).await;
    let got = pings.lock().unwrap().clone();
    assert!(got.iter().all(|(_, p)| p == "/ping/check-uuid"), "{got:?}");
    // About one ping a second (not one per 200 ms poll).
    let span = got[2].0 - got[0].0;
    assert!(
        span >= Duration::from_millis(1800),
        "3 pings within {span:?}"
    );

    // The loop stops (SIGSTOP: the process is alive, its loop is not): no ping.
    signal(&d, "-STOP");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = count(&pings);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(count(&pings), before, "a stopped watcher does not ping");
    signal(&d, "-CONT");
    wait_pings(&pings, before + 2).await;

    // Every alert names the watcher.
    let started = hook.wait_event("started", "", STEP).await;
    assert_eq!(started["watcher"], "watcher-e2e", "{started}");

    // A crash loop: killed and started again twice within the resend interval. The
    // pings go on, "started" is not sent again.
    for i in 0..2 {
        d.kill();
        d = Daemon::spawn(&h.config, &[], &format!("daemon-{i}"));
        d.wait_line("| phase watching", STEP).await;
    }
    let before = count(&pings);
    wait_pings(&pings, before + 2).await;
    let starts = hook.events().iter().filter(|e| *e == "started").count();
    assert_eq!(
        starts,
        1,
        "one \"started\" for three starts: {:?}",
        hook.events()
    );
    let dedupe = h.state_file().with_extension("json.alerts.json");
    assert!(dedupe.exists(), "{}", dedupe.display());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&dedupe).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the dedupe file is private");
    h.stop(&mut d).await;
    h.assert_no_secret_in_alerts(&hook);
    // The check's token is in no log line.
    assert!(!d.lines().iter().any(|l| l.contains("check-uuid")));
}
