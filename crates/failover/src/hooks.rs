//! Rule 12: hooks, the operator's commands around a switch (`[hooks]` in the config).
//!
//! - `pre_switch` runs after a switch is decided and before its transaction is first sent:
//!   for example to stop the old node's service, so that it can never sign again. The switch
//!   waits for it, at most its `timeout`.
//! - `post_switch` runs once the transaction has committed.
//! - `on_confirmed` runs once the new node validates.
//!
//! A failing hook (non-zero exit, killed, timed out, not startable) never blocks a switch,
//! with one exception: a `pre_switch` marked `fence = true` must succeed. Its failure is a
//! blocker that carries the hook's own last line of output, and the switch is tried again,
//! fence first, after `FENCE_RETRY`.
//!
//! Each hook runs without a shell, with an empty environment apart from `PATH`, `LANG` and
//! the `RADIX_FAILOVER_*` variables of [`env_of`] (no secret of the daemon's environment
//! leaks into it), in its own process group, which is killed when the timeout is up. Its
//! stdout and stderr are logged line by line.
//!
//! The pure parts (validation, the environment, the outcome's meaning) are here; `run` is the
//! one function that starts a process.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;

use crate::field::FieldProblem;

/// A hook's default timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest timeout accepted: a `pre_switch` delays the switch by up to its timeout.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(300);
/// After a failed fence, the switch (and the fence) is tried again this much later.
pub const FENCE_RETRY: Duration = Duration::from_secs(10);
/// Output kept per hook for the log (the rest is dropped, and the log says so).
const MAX_OUTPUT_BYTES: usize = 64 * 1024;
/// `PATH` of a hook.
const HOOK_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// `[hooks]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHooks {
    pub pre_switch: Option<RawHook>,
    pub post_switch: Option<RawHook>,
    pub on_confirmed: Option<RawHook>,
}

/// One hook as written: `{ command = ["/usr/local/bin/x", "arg"], timeout = "30s", fence = true }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHook {
    pub command: Vec<String>,
    pub timeout: Option<String>,
    pub fence: Option<bool>,
}

/// When a hook runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookKind {
    PreSwitch,
    PostSwitch,
    OnConfirmed,
}

impl HookKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HookKind::PreSwitch => "pre_switch",
            HookKind::PostSwitch => "post_switch",
            HookKind::OnConfirmed => "on_confirmed",
        }
    }
}

/// A validated hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    pub kind: HookKind,
    pub argv: Vec<String>,
    pub timeout: Duration,
    /// `pre_switch` only: its failure blocks the switch.
    pub fence: bool,
}

/// The validated `[hooks]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hooks {
    pub pre_switch: Option<Hook>,
    pub post_switch: Option<Hook>,
    pub on_confirmed: Option<Hook>,
}

impl Hooks {
    /// The hook configured for `kind`, if any.
    pub fn get(&self, kind: HookKind) -> Option<&Hook> {
        match kind {
            HookKind::PreSwitch => self.pre_switch.as_ref(),
            HookKind::PostSwitch => self.post_switch.as_ref(),
            HookKind::OnConfirmed => self.on_confirmed.as_ref(),
        }
    }
}

impl RawHooks {
    pub fn validate(&self) -> Result<Hooks, FieldProblem> {
        Ok(Hooks {
            pre_switch: self
                .pre_switch
                .as_ref()
                .map(|h| h.validate(HookKind::PreSwitch))
                .transpose()?,
            post_switch: self
                .post_switch
                .as_ref()
                .map(|h| h.validate(HookKind::PostSwitch))
                .transpose()?,
            on_confirmed: self
                .on_confirmed
                .as_ref()
                .map(|h| h.validate(HookKind::OnConfirmed))
                .transpose()?,
        })
    }
}

fn field_of(kind: HookKind) -> &'static str {
    match kind {
        HookKind::PreSwitch => "hooks.pre_switch",
        HookKind::PostSwitch => "hooks.post_switch",
        HookKind::OnConfirmed => "hooks.on_confirmed",
    }
}

impl RawHook {
    fn validate(&self, kind: HookKind) -> Result<Hook, FieldProblem> {
        let field = field_of(kind);
        let shown = format!("{:?}", self.command);
        let Some(program) = self.command.first() else {
            return Err((
                field,
                shown,
                "has an empty command".into(),
                "give the program and its arguments, e.g. command = [\"/usr/local/bin/fence-old-node\", \"--stop\"]".into(),
            ));
        };
        if !Path::new(program).is_absolute() {
            return Err((
                field,
                shown,
                format!("the program {program:?} is not an absolute path (hooks run without a shell and with a minimal PATH)"),
                format!("give its full path, e.g. command = [\"/usr/local/bin/{program}\"], or [\"/bin/sh\", \"-c\", \"...\"] for a shell line"),
            ));
        }
        program_problem(Path::new(program))
            .map_err(|(problem, fix)| (field, shown.clone(), problem, fix))?;
        let timeout = match &self.timeout {
            None => DEFAULT_TIMEOUT,
            Some(t) => humantime::parse_duration(t.trim()).map_err(|e| {
                (
                    field,
                    format!("timeout = {t:?}"),
                    format!("is not a duration ({e})"),
                    "write it like \"30s\" or \"2m\"".into(),
                )
            })?,
        };
        if timeout.is_zero() || timeout > MAX_TIMEOUT {
            return Err((
                field,
                format!("timeout = {:?}", self.timeout.clone().unwrap_or_default()),
                format!(
                    "must be more than 0 and at most {} s (a pre_switch delays the switch by up to its timeout)",
                    MAX_TIMEOUT.as_secs()
                ),
                "use a timeout such as \"30s\"".into(),
            ));
        }
        let fence = self.fence.unwrap_or(false);
        if fence && kind != HookKind::PreSwitch {
            return Err((
                field,
                "fence = true".into(),
                "only a pre_switch hook can be a fence (the others run after the transaction is sent, when nothing can be held back)".into(),
                format!("remove fence from {field}, or move the command to hooks.pre_switch"),
            ));
        }
        Ok(Hook {
            kind,
            argv: self.command.clone(),
            timeout,
            fence,
        })
    }
}

/// The program must be there, executable, and trusted like the config (`file_trust.rs`):
/// whoever can change it runs code as the daemon's user, which reads the hot key. Checked at
/// load, so a fence that could never run is found by `config check` and at start, not when
/// the validator is down. `(problem, fix)`.
fn program_problem(program: &Path) -> Result<(), (String, String)> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(program).map_err(|e| {
        (
            format!("the program {} cannot be read ({e})", program.display()),
            "install it there, or give the path where it is".to_string(),
        )
    })?;
    if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
        return Err((
            format!("{} is not an executable file", program.display()),
            format!("chmod 0755 {}", program.display()),
        ));
    }
    crate::file_trust::check_trusted(&meta, crate::file_trust::effective_uid())
        .map_err(|u| (u.problem(program), u.fix(program)))
}

/// What a hook is told about the switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchInfo {
    pub validator: String,
    pub network: String,
    pub old_node: String,
    pub new_node: String,
    /// 66 hex; empty when not configured (the old primary's key without
    /// `primary_public_key`).
    pub old_key: String,
    pub new_key: String,
    pub epoch: u64,
    pub intent_hash: String,
    pub reason: String,
}

/// What the hooks are told of a switch in `config`'s roles: to the standby
/// (`back == false`) or back to the active node.
pub fn switch_info(
    config: &crate::config::Config,
    back: bool,
    epoch: u64,
    intent: &str,
    reason: &str,
) -> SwitchInfo {
    let active_key = config
        .primary_public_key
        .map(|k| hex::encode(k.0))
        .unwrap_or_default();
    let standby_key = hex::encode(config.backup_public_key.0);
    let (active, standby) = (config.active.name(), config.active.other().name());
    let ((old_node, old_key), (new_node, new_key)) = if back {
        ((standby, standby_key), (active, active_key))
    } else {
        ((active, active_key), (standby, standby_key))
    };
    SwitchInfo {
        validator: config.validator_bech32(),
        network: config.network.logical_name.to_string(),
        old_node: old_node.into(),
        new_node: new_node.into(),
        old_key,
        new_key,
        epoch,
        intent_hash: intent.into(),
        reason: reason.into(),
    }
}

/// The hook's environment: nothing else of the daemon's.
pub fn env_of(kind: HookKind, s: &SwitchInfo) -> Vec<(&'static str, String)> {
    vec![
        ("PATH", HOOK_PATH.into()),
        ("LANG", "C.UTF-8".into()),
        ("RADIX_FAILOVER_HOOK", kind.as_str().into()),
        ("RADIX_FAILOVER_VALIDATOR", s.validator.clone()),
        ("RADIX_FAILOVER_NETWORK", s.network.clone()),
        ("RADIX_FAILOVER_OLD_NODE", s.old_node.clone()),
        ("RADIX_FAILOVER_NEW_NODE", s.new_node.clone()),
        ("RADIX_FAILOVER_OLD_KEY", s.old_key.clone()),
        ("RADIX_FAILOVER_NEW_KEY", s.new_key.clone()),
        ("RADIX_FAILOVER_EPOCH", s.epoch.to_string()),
        ("RADIX_FAILOVER_INTENT_HASH", s.intent_hash.clone()),
        ("RADIX_FAILOVER_REASON", s.reason.clone()),
    ]
}

/// How a hook ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    Exited(i32),
    Killed(i32),
    TimedOut(Duration),
    NotStarted(String),
}

/// A finished hook: how it ended and what it printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub ending: Ending,
    pub lines: Vec<String>,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.ending == Ending::Exited(0)
    }

    /// One line: how it ended, and its last line of output (the hook's own message).
    pub fn summary(&self) -> String {
        let how = match &self.ending {
            Ending::Exited(c) => format!("exited with status {c}"),
            Ending::Killed(s) => format!("was killed by signal {s}"),
            Ending::TimedOut(t) => format!("timed out after {} s and was killed", t.as_secs()),
            Ending::NotStarted(e) => format!("could not be started: {e}"),
        };
        match self.lines.iter().rev().find(|l| !l.trim().is_empty()) {
            Some(last) => format!("{how}: {}", last.trim()),
            None => how,
        }
    }
}

/// The line that says how a hook ended: `(failed, line)`, the same in the daemon's log and
/// a manual switch's output.
pub fn ending_line(hook: &Hook, outcome: &Outcome) -> (bool, String) {
    let kind = hook.kind.as_str();
    if outcome.ok() {
        return (
            false,
            format!("hook {kind} succeeded ({})", outcome.summary()),
        );
    }
    (
        true,
        format!(
            "hook {kind} FAILED: the {kind} hook {} {}{}",
            hook.argv[0],
            outcome.summary(),
            if hook.fence {
                ""
            } else {
                " (a plain hook: the switch goes on)"
            }
        ),
    )
}

/// A fence that did not succeed blocks the switch: the blocker's text, else `None`.
pub fn fence_blocker(hook: &Hook, outcome: &Outcome) -> Option<String> {
    (hook.fence && !outcome.ok()).then(|| {
        format!(
            "the pre_switch fence {} {}; fix what it reports (the switch is tried again, fence first, every {} s)",
            hook.argv[0],
            outcome.summary(),
            FENCE_RETRY.as_secs()
        )
    })
}

/// Runs `hook` to its end or its timeout (then its whole process group is killed).
pub async fn run(hook: &Hook, info: &SwitchInfo) -> Outcome {
    use tokio::io::AsyncReadExt;

    let mut cmd = tokio::process::Command::new(&hook.argv[0]);
    cmd.args(&hook.argv[1..])
        .env_clear()
        .envs(env_of(hook.kind, info))
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Outcome {
                ending: Ending::NotStarted(e.to_string()),
                lines: Vec::new(),
            }
        }
    };
    let pgid = child.id();
    let (mut out, mut err) = (child.stdout.take(), child.stderr.take());
    let work = async {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let read_out = async {
            if let Some(o) = out.as_mut() {
                let _ = o.take(MAX_OUTPUT_BYTES as u64).read_to_end(&mut a).await;
            }
        };
        let read_err = async {
            if let Some(e) = err.as_mut() {
                let _ = e.take(MAX_OUTPUT_BYTES as u64).read_to_end(&mut b).await;
            }
        };
        tokio::join!(read_out, read_err);
        let status = child.wait().await;
        (status, a, b)
    };
    match tokio::time::timeout(hook.timeout, work).await {
        Ok((status, a, b)) => {
            let ending = match status {
                Ok(s) => match (s.code(), std::os::unix::process::ExitStatusExt::signal(&s)) {
                    (Some(c), _) => Ending::Exited(c),
                    (None, Some(sig)) => Ending::Killed(sig),
                    (None, None) => Ending::Exited(-1),
                },
                Err(e) => Ending::NotStarted(e.to_string()),
            };
            Outcome {
                ending,
                lines: lines_of(&a, &b),
            }
        }
        Err(_) => {
            kill_group(pgid);
            Outcome {
                ending: Ending::TimedOut(hook.timeout),
                lines: Vec::new(),
            }
        }
    }
}

/// Kills the hook's process group (the hook and whatever it started).
fn kill_group(pgid: Option<u32>) {
    let Some(pid) = pgid
        .and_then(|p| i32::try_from(p).ok())
        .and_then(rustix::process::Pid::from_raw)
    else {
        return;
    };
    let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
}

fn lines_of(out: &[u8], err: &[u8]) -> Vec<String> {
    let mut lines: Vec<String> = String::from_utf8_lossy(out)
        .lines()
        .chain(String::from_utf8_lossy(err).lines())
        .map(str::to_string)
        .collect();
    if out.len() >= MAX_OUTPUT_BYTES || err.len() >= MAX_OUTPUT_BYTES {
        lines.push(format!("(output cut at {MAX_OUTPUT_BYTES} bytes)"));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(cmd: &[&str], timeout: Option<&str>, fence: Option<bool>) -> RawHook {
        RawHook {
            command: cmd.iter().map(|s| s.to_string()).collect(),
            timeout: timeout.map(str::to_string),
            fence,
        }
    }

    fn info() -> SwitchInfo {
        SwitchInfo {
            validator: "validator_x".into(),
            network: "stokenet".into(),
            old_node: "primary".into(),
            new_node: "backup".into(),
            old_key: "02aa".into(),
            new_key: "03bb".into(),
            epoch: 42,
            intent_hash: "txid_x".into(),
            reason: "primary down".into(),
        }
    }

    fn hook(cmd: &[&str], timeout: &str, fence: bool) -> Hook {
        raw(cmd, Some(timeout), Some(fence))
            .validate(HookKind::PreSwitch)
            .unwrap()
    }

    #[test]
    fn a_hook_needs_an_absolute_program_and_a_sane_timeout() {
        let e = raw(&[], None, None)
            .validate(HookKind::PreSwitch)
            .unwrap_err();
        assert!(e.2.contains("empty command"), "{e:?}");
        let e = raw(&["fence"], None, None)
            .validate(HookKind::PreSwitch)
            .unwrap_err();
        assert!(
            e.2.contains("not an absolute path") && e.3.contains("/usr/local/bin/fence"),
            "{e:?}"
        );
        let e = raw(&["/bin/true"], Some("soon"), None)
            .validate(HookKind::PreSwitch)
            .unwrap_err();
        assert!(e.2.contains("not a duration"), "{e:?}");
        let e = raw(&["/bin/true"], Some("10m"), None)
            .validate(HookKind::PreSwitch)
            .unwrap_err();
        assert!(e.2.contains("at most 300 s"), "{e:?}");
        let ok = raw(&["/bin/true"], None, None)
            .validate(HookKind::PostSwitch)
            .unwrap();
        assert_eq!((ok.timeout, ok.fence), (DEFAULT_TIMEOUT, false));
    }

    #[test]
    fn only_a_pre_switch_can_be_a_fence() {
        let e = raw(&["/bin/true"], None, Some(true))
            .validate(HookKind::OnConfirmed)
            .unwrap_err();
        assert_eq!(e.0, "hooks.on_confirmed");
        assert!(e.2.contains("only a pre_switch"), "{e:?}");
        assert!(
            raw(&["/bin/true"], None, Some(true))
                .validate(HookKind::PreSwitch)
                .unwrap()
                .fence
        );
    }

    #[test]
    fn the_environment_names_the_switch_and_nothing_else() {
        let env = env_of(HookKind::PreSwitch, &info());
        let get = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
        assert_eq!(get("RADIX_FAILOVER_OLD_NODE").as_deref(), Some("primary"));
        assert_eq!(get("RADIX_FAILOVER_NEW_KEY").as_deref(), Some("03bb"));
        assert_eq!(get("RADIX_FAILOVER_EPOCH").as_deref(), Some("42"));
        assert_eq!(get("RADIX_FAILOVER_HOOK").as_deref(), Some("pre_switch"));
        assert!(env
            .iter()
            .all(|(n, _)| *n == "PATH" || *n == "LANG" || n.starts_with("RADIX_FAILOVER_")));
    }

    #[tokio::test]
    async fn a_hook_runs_with_only_its_environment_and_its_output_is_kept() {
        std::env::set_var("RF_TEST_SECRET", "hunter2");
        let h = hook(
            &[
                "/bin/sh",
                "-c",
                "echo new=$RADIX_FAILOVER_NEW_NODE; echo secret=$RF_TEST_SECRET >&2",
            ],
            "10s",
            false,
        );
        let o = run(&h, &info()).await;
        assert!(o.ok(), "{o:?}");
        assert!(o.lines.contains(&"new=backup".to_string()), "{o:?}");
        assert!(
            o.lines.contains(&"secret=".to_string()),
            "the daemon's environment stays out: {o:?}"
        );
    }

    #[tokio::test]
    async fn a_failing_fence_blocks_with_its_own_message_and_a_plain_hook_does_not() {
        let fence = hook(
            &[
                "/bin/sh",
                "-c",
                "echo cannot stop radixdlt-node on primary >&2; exit 3",
            ],
            "10s",
            true,
        );
        let o = run(&fence, &info()).await;
        assert_eq!(o.ending, Ending::Exited(3));
        let b = fence_blocker(&fence, &o).expect("a blocker");
        assert!(
            b.contains("exited with status 3: cannot stop radixdlt-node on primary"),
            "{b}"
        );
        let plain = Hook {
            fence: false,
            ..fence.clone()
        };
        assert_eq!(fence_blocker(&plain, &o), None);
        let good = hook(&["/bin/true"], "10s", true);
        assert_eq!(fence_blocker(&good, &run(&good, &info()).await), None);
    }

    #[tokio::test]
    async fn a_hook_past_its_timeout_is_killed_with_what_it_started() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("still-running");
        let script = format!("(sleep 2; touch {}) & sleep 30", marker.display());
        let h = hook(&["/bin/sh", "-c", &script], "1s", true);
        let started = std::time::Instant::now();
        let o = run(&h, &info()).await;
        assert_eq!(o.ending, Ending::TimedOut(Duration::from_secs(1)));
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(fence_blocker(&h, &o)
            .unwrap()
            .contains("timed out after 1 s"));
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert!(!marker.exists(), "the hook's own child was killed with it");
    }

    #[test]
    fn a_missing_or_untrusted_program_is_a_config_error() {
        let e = raw(&["/nonexistent/fence"], None, None)
            .validate(HookKind::PreSwitch)
            .unwrap_err();
        assert!(e.2.contains("cannot be read"), "{e:?}");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("hook");
        std::fs::write(&p, "#!/bin/sh\n").unwrap();
        let path = p.to_str().unwrap();
        let e = raw(&[path], None, None)
            .validate(HookKind::PreSwitch)
            .unwrap_err();
        assert!(
            e.2.contains("not an executable file") && e.3.contains("chmod 0755"),
            "{e:?}"
        );
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = raw(&[path], None, None)
            .validate(HookKind::PreSwitch)
            .unwrap_err();
        assert!(e.2.contains("writable by group or others"), "{e:?}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(raw(&[path], None, None)
            .validate(HookKind::PreSwitch)
            .is_ok());
    }

    #[tokio::test]
    async fn a_program_that_cannot_start_is_a_failure_with_the_reason() {
        // Valid at load, gone by the time it runs.
        let h = Hook {
            argv: vec!["/nonexistent/fence".into()],
            ..hook(&["/bin/true"], "5s", true)
        };
        let o = run(&h, &info()).await;
        assert!(matches!(o.ending, Ending::NotStarted(_)), "{o:?}");
        assert!(fence_blocker(&h, &o)
            .unwrap()
            .contains("could not be started"));
    }
}
