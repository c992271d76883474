//! The policy's parameters (the validated `[policy]` section) and their defaults, with the
//! reason for each. The policy owns them; `config` parses the file into them.

use std::time::Duration;

/// Poll every 5 s: a round on mainnet takes well under a second, so misses show up within one
/// poll; 5 s is under 2 % of a 5-minute epoch, leaving the rest of the epoch to detect, submit
/// and commit (a commit takes a few seconds); and a handful of small HTTP requests every 5 s
/// is nothing for a node or a gateway.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);
/// Misses that confirm a failure (N) among our most recent leader proposals (M). See
/// docs/policy.md: N of M counts proposals, not time, so the evidence needed is the same for a
/// validator that leads 5 rounds an epoch and one that leads 50; random misses of a healthy
/// node (well under 1 %) almost never reach 3 of 5, while a dead node reaches it in 3 rounds.
pub const DEFAULT_MISSED_PROPOSALS: u32 = 3;
pub const DEFAULT_RECENT_PROPOSALS: u32 = 5;
/// Ledger sources that must agree before misses count: 2, so one lying or broken source can
/// never cause a failover by itself.
pub const DEFAULT_MIN_CONFIRMING_SOURCES: u32 = 2;
/// Consecutive polls with the primary's System API down or unhealthy before that early signal
/// counts: 3 polls (15 s at the default interval, 5 % of an epoch) rides out a node restart's
/// first seconds or one lost request, and still leaves most of the epoch to fail over in.
pub const DEFAULT_PRIMARY_DOWN_POLLS: u32 = 3;
/// A validator that led at most this many rounds in the last epoch is *small* (about 1.2 % of
/// mainnet's stake or less: turns about 20 s apart or more), and two confirmed misses in a row
/// fail it over (rule 2b). 3 of 5 would need two more turns there, a minute or more; a healthy
/// node misses two turns in a row at a 1 % background rate once in 10,000 turn pairs, so at
/// 16 turns an epoch that is one false failover in about 600 epochs (two days), to a ready
/// backup that costs nothing. 0 turns the rule off.
pub const DEFAULT_SMALL_VALIDATOR_TURNS: u32 = 16;
/// Polls before the epoch's expected end in which one unanswered confirmed miss fails over
/// (rule 2c): waiting for a second turn then would cost the whole next epoch, while a switch
/// to a ready backup costs nothing. 3 polls (15 s at the default interval) leave time for the
/// transaction to commit (a few seconds). 0 turns the rule off.
pub const DEFAULT_EPOCH_END_POLLS: u32 = 3;
/// A source whose ledger is older than this (proposer timestamp against the watcher's clock) is
/// lagging and not trusted: mainnet's ledger clock advances every round (well under a second),
/// so 30 s behind means the source is stuck or far behind, not just a slow round.
/// Rule 10b: at most one automatic switch per this many epochs (about an hour on mainnet's
/// 5-minute epochs): two independent node failures within an hour are rare, while a cause
/// both nodes share (the watcher's network, a release, the config) would switch back and
/// forth every few epochs; an hour is short enough that a second, real failure later in the
/// day is still handled unattended.
pub const DEFAULT_FLAP_LIMIT_EPOCHS: u64 = 12;

pub const DEFAULT_MAX_SOURCE_LAG: Duration = Duration::from_secs(30);
/// The old community script's rule: more than 5 misses over the finished epochs of a 3-epoch
/// window, polled every 4 minutes.
pub const LEGACY_MISSED_THRESHOLD: u64 = 5;
pub const LEGACY_WINDOW_EPOCHS: u64 = 3;

/// Which decision rule runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyName {
    /// N of the last M leader proposals missed, confirmed by a quorum; early signal from the
    /// primary's System API (docs/policy.md).
    Default,
    /// The old community script's rule, for operators who want it.
    Legacy,
}

impl PolicyName {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyName::Default => "default",
            PolicyName::Legacy => "legacy",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyParams {
    pub name: PolicyName,
    pub poll_interval: Duration,
    pub missed_proposals: u32,
    pub recent_proposals: u32,
    pub min_confirming_sources: u32,
    /// 0 disables the early signal.
    pub primary_down_polls: u32,
    pub max_source_lag: Duration,
    /// Rule 2b: two misses in a row fail over a validator that led at most this many rounds
    /// in its last epoch; 0 disables.
    pub small_validator_turns: u32,
    /// Rule 2c: one unanswered miss fails over in the last this-many polls of an epoch; 0
    /// disables.
    pub epoch_end_polls: u32,
    pub legacy_missed_threshold: u64,
    pub legacy_window_epochs: u64,
    /// Rule 10: after a failover the node that validates is watched, and the old active node
    /// is its standby once it is ready.
    pub rearm: bool,
    /// Rule 10b: epochs from one automatic switch to the next allowed.
    pub flap_limit_epochs: u64,
}

impl Default for PolicyParams {
    fn default() -> Self {
        PolicyParams {
            name: PolicyName::Default,
            poll_interval: DEFAULT_POLL_INTERVAL,
            missed_proposals: DEFAULT_MISSED_PROPOSALS,
            recent_proposals: DEFAULT_RECENT_PROPOSALS,
            min_confirming_sources: DEFAULT_MIN_CONFIRMING_SOURCES,
            primary_down_polls: DEFAULT_PRIMARY_DOWN_POLLS,
            max_source_lag: DEFAULT_MAX_SOURCE_LAG,
            small_validator_turns: DEFAULT_SMALL_VALIDATOR_TURNS,
            epoch_end_polls: DEFAULT_EPOCH_END_POLLS,
            legacy_missed_threshold: LEGACY_MISSED_THRESHOLD,
            legacy_window_epochs: LEGACY_WINDOW_EPOCHS,
            rearm: true,
            flap_limit_epochs: DEFAULT_FLAP_LIMIT_EPOCHS,
        }
    }
}
