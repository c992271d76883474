//! The dedupe map kept across restarts: `<state file>.alerts.json`, `{"<dedupe key>": <unix
//! ms last sent>}`, mode 0600, written atomically (temporary file, then rename) on every alert
//! that goes out. Without it, a daemon in a crash loop (systemd restarts it every few seconds)
//! would send "started" and every condition that holds on each start.
//!
//! What can go wrong: an unreadable or corrupt file is warned about (path and fix) and the map
//! starts empty, so at worst a condition is alerted once more; a failed write is warned about,
//! and the alert still goes out. Neither stops the daemon: alerts are never worth a missed
//! failover.

use std::collections::HashMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use tracing::warn;

/// The dedupe file beside a state file.
pub fn beside(state_file: &Path) -> PathBuf {
    let mut s = state_file.as_os_str().to_os_string();
    s.push(".alerts.json");
    PathBuf::from(s)
}

/// The map as last written; empty when there is no file yet, or (warned) a bad one.
pub fn load(path: &Path) -> HashMap<String, i64> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return HashMap::new(),
        Err(e) => {
            warn!(
                "alerts: cannot read the dedupe file {}: {e}; starting without it (a condition that holds may be alerted once more). Fix: give the service user read and write access to it",
                path.display()
            );
            return HashMap::new();
        }
    };
    match serde_json::from_str::<HashMap<String, i64>>(&text) {
        Ok(m) => m,
        Err(e) => {
            warn!(
                "alerts: the dedupe file {} is not valid ({e}); starting without it and rewriting it on the next alert. Fix: nothing, unless something else writes there",
                path.display()
            );
            HashMap::new()
        }
    }
}

/// Writes the map atomically, mode 0600. A failure is warned about, never fatal.
pub fn save(path: &Path, sent: &HashMap<String, i64>) {
    if let Err(e) = try_save(path, sent) {
        warn!(
            "alerts: cannot write the dedupe file {}: {e}; alerts still go out, but a restart may resend some. Fix: free disk space or give the service user write access to the state directory",
            path.display()
        );
    }
}

fn try_save(path: &Path, sent: &HashMap<String, i64>) -> std::io::Result<()> {
    let text = serde_json::to_vec(sent).map_err(std::io::Error::other)?;
    let mut tmp_name = path.as_os_str().to_os_string();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(&text)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn the_map_round_trips_through_a_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = beside(&dir.path().join("state.json"));
        assert!(load(&path).is_empty(), "no file yet: an empty map");
        let mut m = HashMap::new();
        m.insert("started".to_string(), 1_700_000_000_000_i64);
        m.insert("source:core primary".to_string(), 42);
        save(&path, &m);
        assert_eq!(load(&path), m);
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the file is not world-readable");
    }

    #[test]
    fn a_corrupt_file_starts_afresh_and_is_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = beside(&dir.path().join("state.json"));
        fs::write(&path, "{not json").unwrap();
        assert!(load(&path).is_empty());
        let mut m = HashMap::new();
        m.insert("started".to_string(), 7);
        save(&path, &m);
        assert_eq!(load(&path), m);
    }
}
