//! Durable daemon state: the phase and the transaction in flight, in one small JSON file.
//!
//! Why a file at all: a crash or restart at any moment must resume the SAME intent, never build
//! a second, different `update_key` transaction while the first could still commit. So the
//! runner writes the intent here before it submits it (see `submit.rs`).
//!
//! How it stays intact:
//! - [`StateFile::save`] is atomic: it writes `<file>.tmp` in the same directory (mode 0600),
//!   fsyncs it, renames it over the file and fsyncs the directory. A reader (or a restart after
//!   SIGKILL or power loss) sees the old state or the new one, never half of one. A `.tmp` left
//!   by a crash is ignored by [`StateFile::load`] and removed by [`StateFile::lock`].
//! - [`StateFile::load`] never replaces a file it cannot read with a fresh state: a corrupt,
//!   truncated, unknown-format or other validator's file is an error that names the file, the
//!   problem and the fix. Acting blind (e.g. failing over again while a transaction from before
//!   the crash may still commit) is worse than stopping.
//! - [`StateFile::lock`] takes an exclusive advisory lock on `<file>.lock` for the daemon's life,
//!   so two daemons on one host cannot share a state file. (Daemons on different hosts are made
//!   safe by the deterministic intent and the ledger-key check, not by this lock.)
//!
//! Write errors (disk full, permissions) come back as [`StateError`]; the runner alerts and
//! carries on with the state in memory, which stays right. No secret is ever written here: the
//! notarized transaction is public once submitted.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The file format this build reads and writes. Bump it when a change is not backward
/// compatible; an older build then refuses the file instead of misreading it.
pub const STATE_FORMAT: u32 = 1;

/// Events kept in the file's log. Enough for the story of one failover (decision, rebuilds,
/// commit, confirmation) while keeping every write one small block.
pub const MAX_LOG_EVENTS: usize = 50;

/// Largest state file we read. A real one is a few kB (one notarized transaction and 50 short
/// events); anything far bigger is not ours, and reading it whole would be a waste.
const MAX_FILE_BYTES: u64 = 1 << 20;

/// What the daemon must remember across restarts.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct DaemonState {
    /// [`STATE_FORMAT`].
    pub format: u32,
    /// Our validator's address; a file for another validator is refused.
    pub validator: String,
    /// Network name (as in the config); a file for another network is refused.
    pub network: String,
    pub phase: Phase,
    /// Unix milliseconds of the last change.
    pub updated_at_ms: i64,
    /// The last [`MAX_LOG_EVENTS`] notable events, oldest first.
    #[serde(default)]
    pub log: Vec<StateEvent>,
    /// The maintenance pause, if one was set (`radix-failover pause`); kept here so it
    /// survives a restart. Absent in files written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause: Option<crate::maintenance::Pause>,
    /// An intent an operator cancelled (`radix-failover cancel`) whose window is still open:
    /// it is no longer sent, but it may still commit, so the daemon keeps watching for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled: Option<Cancelled>,
    /// The configured node that is watched as the active one (`roles.rs`): `primary` until a
    /// re-armed pair swapped the roles after a failover. Absent in older files: primary.
    #[serde(default)]
    pub active: crate::roles::Node,
    /// The epoch of the last automatic switch decided (the flap limit, rule 10b).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_auto_switch_epoch: Option<u64>,
    /// The last switch seen through to the new node validating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_switch: Option<Switch>,
    /// The authority tripwire's baseline (rule 11, `tripwire.rs`): what the validator looked
    /// like when last checked, so a change made while the daemon was stopped is seen too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tripwire: Option<crate::tripwire::Tripwire>,
}

/// A switch that took effect, for `status` and the metrics.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Switch {
    /// The node that validates since.
    pub to: crate::roles::Node,
    /// The epoch from which it validates.
    pub epoch: u64,
    pub intent_hash: Option<String>,
    pub at_ms: i64,
}

/// A cancelled intent that may still commit until its window ends.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Cancelled {
    /// The intent last sent, and the earlier ones of the same switch.
    pub intent_hash: String,
    #[serde(default)]
    pub previous_intents: Vec<String>,
    /// The key it rotates to, 66 hex.
    pub new_key_hex: String,
    /// It can commit until this epoch (exclusive).
    pub end_epoch: u64,
    /// At least one submit was started: it may have reached a mempool.
    pub submitted: bool,
    pub at_ms: i64,
}

/// One line of the state file's log.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct StateEvent {
    pub at_ms: i64,
    pub message: String,
}

/// Where the daemon is in a failover.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// Watching; no transaction in flight.
    Watching,
    /// Decided to fail over; the transaction is built and maybe submitted.
    FailingOver(InFlight),
    /// The transaction committed; waiting for the next epoch and the confirmations.
    Committed {
        intent_hash: String,
        commit_epoch: u64,
        committed_at_ms: i64,
    },
    /// The backup validates (or the key on ledger was already the backup's at start).
    FailedOver {
        intent_hash: Option<String>,
        since_epoch: u64,
    },
    /// Stopped: CommittedFailure or the submit deadline passed. The operator must act.
    Halted {
        reason: String,
        intent_hash: Option<String>,
    },
    /// Rotating back to the primary's key; same life cycle as `FailingOver`.
    FailingBack(InFlight),
}

impl Phase {
    /// Short name for logs and `status` (the `phase` tag in the file).
    pub fn name(&self) -> &'static str {
        match self {
            Phase::Watching => "watching",
            Phase::FailingOver(_) => "failing_over",
            Phase::Committed { .. } => "committed",
            Phase::FailedOver { .. } => "failed_over",
            Phase::Halted { .. } => "halted",
            Phase::FailingBack(_) => "failing_back",
        }
    }

    /// The transaction in flight, if the phase has one.
    pub fn inflight(&self) -> Option<&InFlight> {
        match self {
            Phase::FailingOver(f) | Phase::FailingBack(f) => Some(f),
            _ => None,
        }
    }

    pub fn inflight_mut(&mut self) -> Option<&mut InFlight> {
        match self {
            Phase::FailingOver(f) | Phase::FailingBack(f) => Some(f),
            _ => None,
        }
    }
}

/// A key-rotation transaction being followed to a commit. Everything needed to resume it after
/// a restart without building a different one.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct InFlight {
    /// Bech32m intent hash (`txid_…`) of the current attempt.
    pub intent_hash: String,
    /// The compiled notarized transaction (hex), re-sent as is.
    pub notarized_hex: String,
    /// The key it rotates to, 66 hex.
    pub new_key_hex: String,
    /// Epoch window `[start_epoch, end_epoch)`.
    pub start_epoch: u64,
    pub end_epoch: u64,
    /// 1 for the first intent, +1 for each rebuild.
    pub attempt: u32,
    /// When the failover was decided (the submit deadline counts from here), unix ms.
    pub decided_at_ms: i64,
    /// Why (the policy's reason), for logs and `status`.
    pub reason: String,
    /// At least one submit of this intent was started (it may have reached a node).
    pub submitted: bool,
    /// Earlier intents of this failover, each one that can never commit, oldest first.
    pub previous_intents: Vec<String>,
    /// Earliest time for the next submit of this intent, unix ms (re-send or backoff).
    pub next_try_at_ms: i64,
    /// Last status each source reported (source name -> short text), to log changes only.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub last_status: std::collections::BTreeMap<String, String>,
}

impl DaemonState {
    /// A fresh state in [`Phase::Watching`].
    pub fn new(validator: &str, network: &str, now_ms: i64) -> DaemonState {
        DaemonState {
            format: STATE_FORMAT,
            validator: validator.to_string(),
            network: network.to_string(),
            phase: Phase::Watching,
            updated_at_ms: now_ms,
            log: Vec::new(),
            pause: None,
            cancelled: None,
            active: crate::roles::Node::Primary,
            last_auto_switch_epoch: None,
            last_switch: None,
            tripwire: None,
        }
    }

    /// `cancel`: stops following the intent in flight. The phase goes back to where the switch
    /// started (watching for a failover, failed over for a failback), and the intent is kept
    /// in [`DaemonState::cancelled`] so the daemon watches for a late commit. `None` when
    /// nothing is in flight.
    pub fn cancel_inflight(&mut self, at_ms: i64, epoch: Option<u64>) -> Option<Cancelled> {
        let (inflight, back) = match &self.phase {
            Phase::FailingOver(f) => (f.clone(), false),
            Phase::FailingBack(f) => (f.clone(), true),
            _ => return None,
        };
        let c = Cancelled {
            intent_hash: inflight.intent_hash.clone(),
            previous_intents: inflight.previous_intents.clone(),
            new_key_hex: inflight.new_key_hex.clone(),
            end_epoch: inflight.end_epoch,
            submitted: inflight.submitted,
            at_ms,
        };
        let back_to = if back {
            Phase::FailedOver {
                intent_hash: None,
                since_epoch: epoch.unwrap_or(inflight.start_epoch),
            }
        } else {
            Phase::Watching
        };
        self.set_phase(
            back_to,
            at_ms,
            format!("intent {} cancelled by an operator", inflight.intent_hash),
        );
        self.cancelled = Some(c.clone());
        Some(c)
    }

    /// Appends an event, dropping the oldest beyond [`MAX_LOG_EVENTS`].
    pub fn record(&mut self, at_ms: i64, message: impl Into<String>) {
        self.log.push(StateEvent {
            at_ms,
            message: message.into(),
        });
        if self.log.len() > MAX_LOG_EVENTS {
            let excess = self.log.len() - MAX_LOG_EVENTS;
            self.log.drain(..excess);
        }
        self.updated_at_ms = self.updated_at_ms.max(at_ms);
    }

    /// The daemon (or a manual switch holding the lock) rotates to `key_hex`: when the
    /// tripwire then sees that key on ledger, it is our own change (rule 11).
    pub fn note_own_key(&mut self, key_hex: &str) {
        if let Some(t) = self.tripwire.as_mut() {
            let k = key_hex.to_ascii_lowercase();
            if !t.own_keys.contains(&k) {
                t.own_keys.push(k);
            }
        }
    }

    /// Moves to `phase` and records why.
    pub fn set_phase(&mut self, phase: Phase, at_ms: i64, message: impl Into<String>) {
        let message = message.into();
        let line = format!("{} -> {}: {message}", self.phase.name(), phase.name());
        self.phase = phase;
        self.record(at_ms, line);
        self.updated_at_ms = at_ms;
    }
}

/// Why the state file could not be used. Every message names the file and the fix.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state file {}: the directory {} does not exist; fix: create it (writable by the daemon's user) or set [daemon] state_file to a path in an existing directory", path.display(), dir.display())]
    MissingDir { path: PathBuf, dir: PathBuf },
    #[error("state file {}: cannot read it: {source}; fix: make it readable by the daemon's user", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("state file {}: {problem}; the daemon will not guess what it was doing; fix: if no failover is in progress, move the file away and start again (a fresh state is created); otherwise repair it or restore it from a backup", path.display())]
    Corrupt { path: PathBuf, problem: String },
    #[error("state file {}: format {found} is not the format {STATE_FORMAT} this radix-failover reads; fix: run the radix-failover version that wrote it, or move the file away if no failover is in progress", path.display())]
    UnknownFormat { path: PathBuf, found: u64 },
    #[error("state file {}: it belongs to validator {found_validator} on {found_network}, not to validator {validator} on {network}; fix: give each validator its own [daemon] state_file", path.display())]
    OtherValidator {
        path: PathBuf,
        found_validator: String,
        found_network: String,
        validator: String,
        network: String,
    },
    #[error("state file {}: cannot {op}: {source}; {}", path.display(), write_fix(source))]
    Write {
        path: PathBuf,
        op: &'static str,
        source: io::Error,
    },
    #[error("state file {}: cannot encode the state: {source}", path.display())]
    Encode {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("state file {}: another radix-failover holds its lock file {}{holder}; fix: stop the other daemon, or give this one its own [daemon] state_file", path.display(), lock_path.display())]
    Locked {
        path: PathBuf,
        lock_path: PathBuf,
        /// ` (pid N)` when the holder wrote its pid, else empty.
        holder: String,
    },
    #[error("state file {}: cannot lock {}: {source}; fix: make the directory writable by the daemon's user", path.display(), lock_path.display())]
    Lock {
        path: PathBuf,
        lock_path: PathBuf,
        source: io::Error,
    },
}

fn write_fix(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::StorageFull => "fix: free space on that disk (the daemon keeps its state in memory and retries at the next change)",
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => "fix: make the directory writable by the daemon's user",
        io::ErrorKind::NotFound => "fix: create the directory, or set [daemon] state_file to a path in an existing directory",
        _ => "fix: check the disk and the directory (the daemon keeps its state in memory and retries at the next change)",
    }
}

/// The state file on disk.
#[derive(Debug, Clone)]
pub struct StateFile {
    path: PathBuf,
    tmp_path: PathBuf,
    lock_path: PathBuf,
}

/// Held for the daemon's life; dropping it releases the lock.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
    path: PathBuf,
}

impl StateLock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

impl StateFile {
    pub fn new(path: PathBuf) -> StateFile {
        StateFile {
            tmp_path: with_suffix(&path, ".tmp"),
            lock_path: with_suffix(&path, ".lock"),
            path,
        }
    }

    /// Like [`StateFile::new`], with the temporary file somewhere else. For tests only: a
    /// `tmp_path` of `/dev/full` makes every save fail with ENOSPC, as on a full disk.
    #[doc(hidden)]
    pub fn with_tmp_path(path: PathBuf, tmp_path: PathBuf) -> StateFile {
        StateFile {
            lock_path: with_suffix(&path, ".lock"),
            tmp_path,
            path,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    fn missing_dir(&self) -> Option<StateError> {
        let dir = self.dir();
        match std::fs::metadata(&dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Some(StateError::MissingDir {
                path: self.path.clone(),
                dir,
            }),
            _ => None,
        }
    }

    /// `Ok(None)` when the file does not exist (first start). A file that exists but cannot be
    /// read or parsed, or is for another validator/network, is an `Err` naming the file, the
    /// problem and the fix — never silently replaced by a fresh state. A missing directory is
    /// an error too: the daemon could never save there.
    pub fn load(&self, validator: &str, network: &str) -> Result<Option<DaemonState>, StateError> {
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return match self.missing_dir() {
                    Some(err) => Err(err),
                    None => Ok(None),
                };
            }
            Err(source) => {
                return Err(StateError::Read {
                    path: self.path.clone(),
                    source,
                })
            }
        };
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| StateError::Read {
                path: self.path.clone(),
                source,
            })?;
        let state = self.parse(&bytes)?;
        if state.validator != validator || state.network != network {
            return Err(StateError::OtherValidator {
                path: self.path.clone(),
                found_validator: state.validator,
                found_network: state.network,
                validator: validator.to_string(),
                network: network.to_string(),
            });
        }
        Ok(Some(state))
    }

    fn parse(&self, bytes: &[u8]) -> Result<DaemonState, StateError> {
        let corrupt = |problem: String| StateError::Corrupt {
            path: self.path.clone(),
            problem,
        };
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(corrupt(format!(
                "it is larger than {MAX_FILE_BYTES} bytes, far more than a state file ever is"
            )));
        }
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(corrupt(
                "it is empty (a crash while something else wrote it?)".to_string(),
            ));
        }
        // Two steps, so a file from a newer version is named as such rather than as "corrupt".
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| corrupt(format!("it is not valid JSON ({e}); truncated or damaged")))?;
        let format = value.get("format").ok_or_else(|| {
            corrupt("it has no \"format\" field; not a radix-failover state file".to_string())
        })?;
        match format.as_u64() {
            Some(f) if f == u64::from(STATE_FORMAT) => {}
            Some(found) => {
                return Err(StateError::UnknownFormat {
                    path: self.path.clone(),
                    found,
                })
            }
            None => return Err(corrupt(format!("its \"format\" is {format}, not a number"))),
        }
        serde_json::from_value(value)
            .map_err(|e| corrupt(format!("it does not have the expected fields: {e}")))
    }

    /// Atomic: writes `<file>.tmp` in the same directory (mode 0600), fsyncs it, renames it over
    /// the file and fsyncs the directory. Errors (ENOSPC, EACCES) come back as `StateError`; the
    /// old file is then untouched.
    pub fn save(&self, state: &DaemonState) -> Result<(), StateError> {
        let mut text = serde_json::to_vec_pretty(state).map_err(|source| StateError::Encode {
            path: self.path.clone(),
            source,
        })?;
        text.push(b'\n');
        let write_err = |op: &'static str| {
            let path = self.path.clone();
            move |source: io::Error| StateError::Write { path, op, source }
        };
        let result = (|| {
            let mut tmp = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&self.tmp_path)
                .map_err(|e| match self.missing_dir() {
                    Some(err) => err,
                    None => write_err("create the temporary file")(e),
                })?;
            // A `.tmp` left by an older run may have another mode; `mode` only applies on create.
            // Only a regular file is ours to chmod (the test hook points tmp at /dev/full).
            let meta = tmp
                .metadata()
                .map_err(write_err("inspect the temporary file"))?;
            if meta.is_file() && meta.permissions().mode() & 0o777 != 0o600 {
                tmp.set_permissions(std::fs::Permissions::from_mode(0o600))
                    .map_err(write_err("set mode 0600 on the temporary file"))?;
            }
            tmp.write_all(&text)
                .map_err(write_err("write the temporary file"))?;
            tmp.sync_all()
                .map_err(write_err("fsync the temporary file"))?;
            drop(tmp);
            std::fs::rename(&self.tmp_path, &self.path)
                .map_err(write_err("rename the temporary file over it"))?;
            // The rename is durable only once the directory entry is on disk.
            File::open(self.dir())
                .and_then(|d| d.sync_all())
                .map_err(write_err("fsync its directory"))?;
            Ok(())
        })();
        if result.is_err() {
            self.remove_stale_tmp();
        }
        result
    }

    /// Removes `<file>.tmp` if it is a regular file (never anything else: the test hook may
    /// point it at a device).
    fn remove_stale_tmp(&self) {
        if let Ok(meta) = std::fs::symlink_metadata(&self.tmp_path) {
            if meta.file_type().is_file() {
                let _ = std::fs::remove_file(&self.tmp_path);
            }
        }
    }

    /// Takes an exclusive advisory lock on `<file>.lock`, held until the [`StateLock`] drops, so
    /// two daemons on one host cannot share a state file. Also removes a `.tmp` left by a crash
    /// (safe now: no one else writes this file).
    pub fn lock(&self) -> Result<StateLock, StateError> {
        let lock_err = |source: io::Error| StateError::Lock {
            path: self.path.clone(),
            lock_path: self.lock_path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&self.lock_path)
            .map_err(|e| match self.missing_dir() {
                Some(err) => err,
                None => lock_err(e),
            })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim();
                let holder = if !pid.is_empty() && pid.chars().all(|c| c.is_ascii_digit()) {
                    format!(" (pid {pid})")
                } else {
                    String::new()
                };
                return Err(StateError::Locked {
                    path: self.path.clone(),
                    lock_path: self.lock_path.clone(),
                    holder,
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(lock_err(e)),
        }
        // Our pid, so a second daemon's error can name us. Best effort: the lock is what counts.
        let _ = file
            .set_len(0)
            .and_then(|_| file.write_all(std::process::id().to_string().as_bytes()));
        self.remove_stale_tmp();
        Ok(StateLock {
            _file: file,
            path: self.lock_path.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: &str = "validator_sim1test";
    const N: &str = "simulator";

    fn inflight() -> InFlight {
        InFlight {
            intent_hash: "txid_sim1abc".into(),
            notarized_hex: "4d22".into(),
            new_key_hex: "02".repeat(33),
            start_epoch: 10,
            end_epoch: 12,
            attempt: 2,
            decided_at_ms: 1_000,
            reason: "missed 3 of 5".into(),
            submitted: true,
            previous_intents: vec!["txid_sim1old".into()],
            next_try_at_ms: 5_000,
            last_status: [("gateway".to_string(), "pending".to_string())].into(),
        }
    }

    fn sample() -> DaemonState {
        let mut s = DaemonState::new(V, N, 1);
        s.set_phase(Phase::FailingOver(inflight()), 2, "decided");
        s
    }

    fn is_root(dir: &Path) -> bool {
        use std::os::unix::fs::MetadataExt;
        let probe = dir.join("probe");
        std::fs::write(&probe, b"").expect("write probe");
        std::fs::metadata(&probe)
            .map(|m| m.uid() == 0)
            .unwrap_or(false)
    }

    #[test]
    fn round_trip_every_phase() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = StateFile::new(dir.path().join("state.json"));
        assert_eq!(
            f.load(V, N).expect("load"),
            None,
            "no file yet: first start"
        );
        let phases = [
            Phase::Watching,
            Phase::FailingOver(inflight()),
            Phase::Committed {
                intent_hash: "txid_sim1abc".into(),
                commit_epoch: 11,
                committed_at_ms: 3,
            },
            Phase::FailedOver {
                intent_hash: None,
                since_epoch: 12,
            },
            Phase::Halted {
                reason: "CommittedFailure: no fee".into(),
                intent_hash: Some("txid_sim1abc".into()),
            },
            Phase::FailingBack(inflight()),
        ];
        for p in phases {
            let mut s = DaemonState::new(V, N, 1);
            s.set_phase(p.clone(), 7, "test");
            f.save(&s).expect("save");
            let back = f.load(V, N).expect("load").expect("present");
            assert_eq!(back, s);
            assert_eq!(back.phase.name(), p.name());
        }
        // The tag is readable for operators and other tools.
        let text = std::fs::read_to_string(f.path()).expect("read");
        assert!(text.contains("\"phase\": \"failing_back\""), "{text}");
    }

    #[test]
    fn file_is_mode_0600_even_over_a_loose_leftover_tmp() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json");
        let tmp = with_suffix(&path, ".tmp");
        std::fs::write(&tmp, b"junk").expect("leftover");
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let f = StateFile::new(path.clone());
        f.save(&sample()).expect("save");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(!tmp.exists(), "the tmp was renamed over the file");
    }

    #[test]
    fn leftover_tmp_is_ignored_by_load_and_removed_by_lock() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json");
        let f = StateFile::new(path.clone());
        let s = sample();
        f.save(&s).expect("save");
        // A crash mid-write leaves a half-written tmp next to the good file.
        let tmp = with_suffix(&path, ".tmp");
        std::fs::write(&tmp, b"{\"format\": 1, \"valid").expect("tmp");
        assert_eq!(f.load(V, N).expect("load").as_ref(), Some(&s));
        let _lock = f.lock().expect("lock");
        assert!(!tmp.exists(), "lock cleans the leftover tmp");
        assert_eq!(f.load(V, N).expect("load").as_ref(), Some(&s));
    }

    fn load_err(content: &[u8]) -> String {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json");
        std::fs::write(&path, content).expect("write");
        let err = StateFile::new(path.clone())
            .load(V, N)
            .expect_err("must not load");
        let msg = err.to_string();
        assert!(
            msg.contains(&path.display().to_string()),
            "names the file: {msg}"
        );
        assert!(msg.contains("fix"), "says the fix: {msg}");
        // Never replaced: the bad file is still there, unchanged.
        assert_eq!(std::fs::read(&path).expect("still there"), content);
        msg
    }

    #[test]
    fn corrupt_truncated_unknown_format_and_other_validator_are_clear_errors() {
        let good = serde_json::to_vec_pretty(&sample()).expect("json");
        let msg = load_err(&good[..good.len() / 2]);
        assert!(msg.contains("not valid JSON"), "{msg}");
        let msg = load_err(b"");
        assert!(msg.contains("empty"), "{msg}");
        let msg = load_err(b"\x00\x01garbage");
        assert!(msg.contains("not valid JSON"), "{msg}");
        let msg = load_err(b"{\"hello\": 1}");
        assert!(msg.contains("no \"format\""), "{msg}");
        let msg = load_err(b"{\"format\": 1, \"validator\": \"x\"}");
        assert!(msg.contains("expected fields"), "{msg}");

        let mut v: serde_json::Value = serde_json::from_slice(&good).expect("value");
        v["format"] = 2.into();
        let msg = load_err(&serde_json::to_vec(&v).expect("json"));
        assert!(
            msg.contains("format 2") && msg.contains("format 1"),
            "{msg}"
        );

        let mut v: serde_json::Value = serde_json::from_slice(&good).expect("value");
        v["phase"]["phase"] = "exploding".into();
        let msg = load_err(&serde_json::to_vec(&v).expect("json"));
        assert!(msg.contains("exploding"), "{msg}");

        let mut other = sample();
        other.validator = "validator_sim1other".into();
        let msg = load_err(&serde_json::to_vec(&other).expect("json"));
        assert!(
            msg.contains("validator_sim1other") && msg.contains(V),
            "{msg}"
        );
        let mut other = sample();
        other.network = "stokenet".into();
        let msg = load_err(&serde_json::to_vec(&other).expect("json"));
        assert!(msg.contains("stokenet"), "{msg}");
    }

    #[test]
    fn unreadable_file_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A directory where the file should be cannot be read as a file, even by root.
        let path = dir.path().join("state.json");
        std::fs::create_dir(&path).expect("mkdir");
        let err = StateFile::new(path).load(V, N).expect_err("a directory");
        assert!(matches!(err, StateError::Read { .. }), "{err}");
    }

    #[test]
    fn missing_dir_is_a_clear_error_for_load_save_and_lock() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = StateFile::new(dir.path().join("nope").join("state.json"));
        for err in [
            f.load(V, N).expect_err("load"),
            f.save(&sample()).expect_err("save"),
            f.lock().expect_err("lock"),
        ] {
            assert!(matches!(err, StateError::MissingDir { .. }), "{err}");
            assert!(err.to_string().contains("does not exist"), "{err}");
        }
    }

    #[test]
    fn unwritable_dir_is_an_error_not_a_panic_and_keeps_the_old_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        // Parent is a regular file: ENOTDIR, for any user.
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"x").expect("write");
        let err = StateFile::new(blocker.join("state.json"))
            .save(&sample())
            .expect_err("parent is a file");
        assert!(matches!(err, StateError::Write { .. }), "{err}");

        // A read-only directory (root ignores modes, so only checked when not root).
        if !is_root(dir.path()) {
            let ro = dir.path().join("ro");
            std::fs::create_dir(&ro).expect("mkdir");
            let f = StateFile::new(ro.join("state.json"));
            f.save(&sample()).expect("first save");
            std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o500)).expect("chmod");
            let mut changed = sample();
            changed.record(9, "x");
            let err = f.save(&changed).expect_err("read-only dir");
            std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o700)).expect("chmod");
            assert!(err.to_string().contains("writable"), "{err}");
            assert_eq!(
                f.load(V, N).expect("load"),
                Some(sample()),
                "old state intact"
            );
        }
    }

    #[test]
    fn disk_full_is_an_error_and_the_old_file_stays() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json");
        StateFile::new(path.clone())
            .save(&sample())
            .expect("first save");
        let full = StateFile::with_tmp_path(path.clone(), PathBuf::from("/dev/full"));
        let mut changed = sample();
        changed.record(9, "x");
        let err = full.save(&changed).expect_err("/dev/full");
        match &err {
            StateError::Write { source, .. } => {
                assert_eq!(source.kind(), io::ErrorKind::StorageFull, "{err}")
            }
            other => panic!("expected a write error, got {other}"),
        }
        assert!(err.to_string().contains("free space"), "{err}");
        assert!(
            Path::new("/dev/full").exists(),
            "the device is never removed"
        );
        let back = StateFile::new(path).load(V, N).expect("load");
        assert_eq!(back, Some(sample()), "the old state is intact");
    }

    /// How a test of the real binary can make every save fail, even as root and without a
    /// hook: a directory where the temporary file goes. `lock` leaves it alone (not a file).
    #[test]
    fn a_directory_in_place_of_the_tmp_file_makes_saves_fail_and_lock_leaves_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json");
        let f = StateFile::new(path.clone());
        f.save(&sample()).expect("first save");
        std::fs::create_dir(with_suffix(&path, ".tmp")).expect("mkdir");
        let _lock = f.lock().expect("lock");
        assert!(with_suffix(&path, ".tmp").is_dir(), "not removed");
        let mut changed = sample();
        changed.record(9, "x");
        let err = f.save(&changed).expect_err("tmp is a directory");
        assert!(matches!(err, StateError::Write { .. }), "{err}");
        assert_eq!(
            f.load(V, N).expect("load"),
            Some(sample()),
            "old state intact"
        );
    }

    #[test]
    fn second_lock_fails_naming_the_lock_file_and_holder_until_released() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = StateFile::new(dir.path().join("state.json"));
        let lock = f.lock().expect("first lock");
        let err = f.lock().expect_err("second lock");
        let msg = err.to_string();
        assert!(matches!(err, StateError::Locked { .. }), "{msg}");
        assert!(msg.contains("state.json.lock"), "{msg}");
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        drop(lock);
        f.lock().expect("free again after the first holder stops");
    }

    #[test]
    fn a_file_without_pause_loads_and_a_pause_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json");
        // A file as the versions before the pause wrote it: no `pause`, no `cancelled`.
        let mut old = serde_json::to_value(sample()).expect("json");
        old.as_object_mut().expect("object").remove("pause");
        old.as_object_mut().expect("object").remove("cancelled");
        std::fs::write(&path, serde_json::to_vec(&old).expect("json")).expect("write");
        let f = StateFile::new(path);
        let loaded = f.load(V, N).expect("old file loads").expect("present");
        assert_eq!(loaded.pause, None);
        assert_eq!(loaded.cancelled, None);

        let mut s = loaded;
        s.pause = Some(crate::maintenance::Pause {
            since_ms: 1,
            until_ms: 60_001,
            reason: "node upgrade".into(),
        });
        f.save(&s).expect("save");
        let back = f.load(V, N).expect("load").expect("present");
        assert_eq!(back.pause, s.pause, "the pause survives a restart");
    }

    #[test]
    fn cancel_keeps_the_intent_to_watch_and_goes_back_to_where_the_switch_started() {
        let mut s = sample();
        let c = s.cancel_inflight(9, Some(11)).expect("in flight");
        assert_eq!(s.phase, Phase::Watching);
        assert_eq!(c.intent_hash, "txid_sim1abc");
        assert_eq!(c.end_epoch, 12);
        assert!(c.submitted);
        assert_eq!(s.cancelled.as_ref(), Some(&c));
        assert!(s.log.last().expect("logged").message.contains("cancelled"));
        assert_eq!(
            s.cancel_inflight(10, Some(11)),
            None,
            "nothing left in flight"
        );

        let mut s = DaemonState::new(V, N, 1);
        s.set_phase(Phase::FailingBack(inflight()), 2, "manual failback");
        s.cancel_inflight(3, Some(11)).expect("in flight");
        assert_eq!(
            s.phase,
            Phase::FailedOver {
                intent_hash: None,
                since_epoch: 11
            },
            "a cancelled failback leaves the backup validating"
        );
    }

    #[test]
    fn log_is_bounded_and_keeps_the_newest() {
        let mut s = DaemonState::new(V, N, 0);
        for i in 0..(MAX_LOG_EVENTS as i64 + 20) {
            s.record(i, format!("event {i}"));
        }
        assert_eq!(s.log.len(), MAX_LOG_EVENTS);
        assert_eq!(s.log[0].message, "event 20");
        assert_eq!(
            s.log.last().map(|e| e.at_ms),
            Some(MAX_LOG_EVENTS as i64 + 19)
        );
    }
}
