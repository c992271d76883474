//! Scenario tests of the policy: a fake world (the truth about the ledger, our proposals, the
//! two nodes) and per-source faults, turned into `Observation`s with a fake clock.

use super::*;
use crate::observe::{FinishedEpochs, NodeConsensus, SourceError};

const PRIMARY_KEY: &str = "02aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const BACKUP_KEY: &str = "03bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const OTHER_KEY: &str = "02cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
const VALIDATOR: &str = "validator_sim1sdkgfyaz3g5d3gqruhs5tg0rxpdqnvdx0qhlvx0n8xtfxrvqdy2cl0";
const POLL_MS: i64 = 5_000;
/// Rounds per poll of the fake ledger (other validators lead them too).
const ROUNDS_PER_POLL: u64 = 10;

#[derive(Debug, Clone)]
enum Fault {
    /// Answers truthfully.
    None,
    /// No answer.
    Down(SourceError),
    /// Answers with this reading forever (a stuck node).
    Frozen(LedgerReading),
    /// Adds misses nobody else sees (a liar or a broken source).
    ExtraMissed(u64),
    /// Reports this epoch instead of the real one.
    WrongEpoch(u64),
    /// Reports these keys instead of the real ones (in force, on ledger).
    Keys(Option<String>, Option<String>),
    /// Reports this many finished-epoch misses (a Gateway).
    FinishedMissed(u64),
}

struct Src {
    name: String,
    kind: SourceKind,
    fault: Fault,
}

/// The truth, and what each source makes of it.
struct Scenario {
    policy: Policy,
    gates: Gates,
    at_ms: i64,
    epoch: u64,
    round: u64,
    state_version: u64,
    /// Our validator's proposals this epoch.
    made: u64,
    missed: u64,
    /// Finished epochs' counts, for the Gateway's uptime (legacy).
    finished: Vec<(u64, ProposalCounts)>,
    key_in_force: Option<String>,
    key_on_ledger: String,
    sources: Vec<Src>,
    primary: Option<Result<NodeReading, SourceError>>,
    backup: Option<Result<NodeReading, SourceError>>,
    /// Our outcomes in the next poll.
    next: ProposalCounts,
    legacy_window: u64,
}

fn node(key: &str) -> NodeReading {
    NodeReading {
        health: NodeHealth::Up,
        detail: "synced".into(),
        recent_missed: 0,
        recent_tracked: 10,
        public_key_hex: key.into(),
        validator_address: Some(VALIDATOR.into()),
        consensus: NodeConsensus::ValidatingInCurrentEpoch,
    }
}

fn unreachable() -> SourceError {
    SourceError::Unreachable("connection refused".into())
}

impl Scenario {
    /// Three Core sources, one Gateway, a healthy primary, a ready backup, default policy.
    fn new() -> Scenario {
        Scenario::with(PolicyParams::default())
    }

    fn with(params: PolicyParams) -> Scenario {
        let legacy_window = params.legacy_window_epochs;
        let keys = PolicyKeys {
            validator_address: VALIDATOR.into(),
            primary_key_hex: PRIMARY_KEY.to_uppercase(), // the policy must not care about case
            backup_key_hex: BACKUP_KEY.into(),
        };
        let mut backup = node(BACKUP_KEY);
        backup.consensus = NodeConsensus::NotValidatingInCurrentEpoch;
        Scenario {
            policy: Policy::new(params, keys),
            gates: Gates::ok(),
            at_ms: 1_700_000_000_000,
            epoch: 10,
            round: 100,
            state_version: 1000,
            made: 0,
            missed: 0,
            finished: Vec::new(),
            key_in_force: Some(PRIMARY_KEY.into()),
            key_on_ledger: PRIMARY_KEY.into(),
            sources: Vec::new(),
            primary: Some(Ok(node(PRIMARY_KEY))),
            backup: Some(Ok(backup)),
            next: ProposalCounts::default(),
            legacy_window,
        }
        .sources(&[
            ("core a", SourceKind::Core),
            ("core b", SourceKind::Core),
            ("core c", SourceKind::Core),
            ("gateway g", SourceKind::Gateway),
        ])
    }

    /// No System API of the primary watched: no early signal, only the miss rule.
    fn without_primary(mut self) -> Scenario {
        self.primary = None;
        self
    }

    fn sources(mut self, list: &[(&str, SourceKind)]) -> Scenario {
        self.sources = list
            .iter()
            .map(|(n, k)| Src {
                name: n.to_string(),
                kind: *k,
                fault: Fault::None,
            })
            .collect();
        self
    }

    fn fault(&mut self, name: &str, fault: Fault) -> &mut Self {
        let Some(s) = self.sources.iter_mut().find(|s| s.name == name) else {
            panic!("test bug: no source {name}");
        };
        s.fault = fault;
        self
    }

    /// Freezes a source at the current truth, its ledger already `lag_ms` old.
    fn stale(&mut self, name: &str, lag_ms: i64) -> &mut Self {
        let kind = self
            .sources
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.kind)
            .unwrap_or(SourceKind::Core);
        let mut r = self.truth(kind);
        r.ledger_time_ms = self.at_ms + POLL_MS - 400 - lag_ms;
        self.fault(name, Fault::Frozen(r))
    }

    /// Our outcomes in the next poll (made first or not, the policy cannot know).
    fn lead(&mut self, made: u64, missed: u64) -> &mut Self {
        self.next.made += made;
        self.next.missed += missed;
        self
    }

    fn epoch_change(&mut self) -> &mut Self {
        self.finished.push((
            self.epoch,
            ProposalCounts {
                made: self.made,
                missed: self.missed,
            },
        ));
        self.epoch += 1;
        self.made = 0;
        self.missed = 0;
        // The active set (with keys) is snapshotted at the change.
        self.key_in_force = Some(self.key_on_ledger.clone());
        self
    }

    fn kill_primary(&mut self) -> &mut Self {
        self.primary = Some(Err(unreachable()));
        self
    }

    fn backup_node(&mut self, f: impl FnOnce(&mut NodeReading)) -> &mut Self {
        if let Some(Ok(n)) = &mut self.backup {
            f(n);
        }
        self
    }

    fn truth(&self, kind: SourceKind) -> LedgerReading {
        let first = self.epoch.saturating_sub(self.legacy_window - 1);
        let finished = (kind == SourceKind::Gateway).then(|| {
            let mut c = ProposalCounts::default();
            for (e, f) in &self.finished {
                if *e >= first && *e < self.epoch {
                    c.made += f.made;
                    c.missed += f.missed;
                }
            }
            FinishedEpochs {
                from_epoch: first,
                to_epoch: self.epoch - 1,
                counts: Some(c),
            }
        });
        LedgerReading {
            epoch: self.epoch,
            round: self.round,
            state_version: self.state_version,
            ledger_time_ms: self.at_ms - 400,
            key_in_force: self.key_in_force.clone(),
            key_on_ledger: Some(self.key_on_ledger.clone()),
            current_epoch: (kind == SourceKind::Core).then_some(ProposalCounts {
                made: self.made,
                missed: self.missed,
            }),
            finished,
        }
    }

    /// Advances the world by one poll interval and asks the policy.
    fn poll(&mut self) -> Assessment {
        self.at_ms += POLL_MS;
        self.round += ROUNDS_PER_POLL;
        self.state_version += ROUNDS_PER_POLL;
        self.made += self.next.made;
        self.missed += self.next.missed;
        self.next = ProposalCounts::default();
        let obs = self.observation();
        self.policy.observe(&obs, &self.gates)
    }

    fn observation(&self) -> Observation {
        let ledger = self
            .sources
            .iter()
            .map(|s| {
                let result = match &s.fault {
                    Fault::None => Ok(self.truth(s.kind)),
                    Fault::Down(e) => Err(e.clone()),
                    Fault::Frozen(r) => Ok(r.clone()),
                    Fault::ExtraMissed(x) => {
                        let mut r = self.truth(s.kind);
                        if let Some(c) = &mut r.current_epoch {
                            c.missed += x;
                        }
                        Ok(r)
                    }
                    Fault::WrongEpoch(e) => {
                        let mut r = self.truth(s.kind);
                        r.epoch = *e;
                        Ok(r)
                    }
                    Fault::FinishedMissed(x) => {
                        let mut r = self.truth(s.kind);
                        if let Some(c) = r.finished.as_mut().and_then(|f| f.counts.as_mut()) {
                            c.missed = *x;
                        }
                        Ok(r)
                    }
                    Fault::Keys(f, l) => {
                        let mut r = self.truth(s.kind);
                        r.key_in_force = f.clone();
                        r.key_on_ledger = l.clone();
                        Ok(r)
                    }
                };
                SourceObservation {
                    name: s.name.clone(),
                    kind: s.kind,
                    result,
                }
            })
            .collect();
        let sys = |name: &str, r: &Option<Result<NodeReading, SourceError>>| {
            r.as_ref().map(|r| SourceObservation {
                name: name.to_string(),
                kind: SourceKind::System,
                result: r.clone(),
            })
        };
        Observation {
            at_ms: self.at_ms,
            ledger,
            primary: sys("system primary", &self.primary),
            backup: sys("system backup", &self.backup),
        }
    }

    /// `polls` polls, each with these outcomes; the assessments.
    fn run(&mut self, polls: usize, made: u64, missed: u64) -> Vec<Assessment> {
        (0..polls).map(|_| self.lead(made, missed).poll()).collect()
    }
}

fn has_warning(a: &Assessment, key: &str) -> bool {
    a.warnings.iter().any(|w| w.key == key)
}

fn events_of(a: &Assessment, kind: EventKind) -> Vec<&PolicyEvent> {
    a.events.iter().filter(|e| e.kind == kind).collect()
}

fn blocker(a: &Assessment) -> String {
    match &a.decision {
        Decision::Blocked { blocker, .. } => blocker.clone(),
        d => panic!("expected Blocked, got {d:?}"),
    }
}

/// Blocked, by a blocker that says `part`.
fn assert_blocked_by(a: &Assessment, part: &str) {
    let b = blocker(a);
    assert!(b.contains(part), "{b}");
}

fn failover_reason(a: &Assessment) -> &str {
    match &a.decision {
        Decision::FailOver { reason } => reason,
        d => panic!("expected FailOver, got {d:?}"),
    }
}

/// Index of the first FailOver, if any.
fn first_failover(list: &[Assessment]) -> Option<usize> {
    list.iter().position(|a| a.decision.is_fail_over())
}

// ---------------------------------------------------------------------------------------------
// Healthy

#[test]
fn healthy_forever_never_fails_over() {
    let mut s = Scenario::new();
    for poll in 0..600 {
        if poll % 60 == 59 {
            s.epoch_change();
        }
        let a = s.lead(1, 0).poll();
        assert_eq!(
            a.decision,
            Decision::Healthy,
            "poll {poll}: {:?}",
            a.warnings
        );
        assert!(a.warnings.is_empty(), "poll {poll}: {:?}", a.warnings);
    }
    let a = s.poll();
    assert_eq!(a.view.trusted_sources, 4);
    assert_eq!(a.view.realtime_sources, 3);
    assert_eq!(a.view.quorum, 2);
    assert_eq!(a.view.key_in_force, KeyOwner::Primary);
    assert_eq!(a.view.key_on_ledger, KeyOwner::Primary);
    assert_eq!(a.view.recent_tracked, 5);
    assert_eq!(a.view.recent_missed, 0);
    assert_eq!(a.view.primary, PrimaryState::Healthy);
    assert_eq!(a.view.backup_ready, Ok(()));
    assert!(!a.view.backup_validating);
}

#[test]
fn counts_seen_at_start_are_a_baseline_not_misses() {
    // The daemon starts late in an epoch in which the primary missed 10 (long ago, or now:
    // their order is unknown). That alone must not fail over; new misses do.
    let mut s = Scenario::new();
    s.made = 40;
    s.missed = 10;
    let a = s.poll();
    assert_eq!(a.decision, Decision::Healthy);
    assert_eq!(a.view.epoch_missed, Some(10));
    assert_eq!(a.view.recent_tracked, 0);
    let list = s.run(3, 0, 1);
    assert_eq!(
        first_failover(&list),
        Some(2),
        "{:?}",
        list.iter().map(|a| &a.decision).collect::<Vec<_>>()
    );
}

// ---------------------------------------------------------------------------------------------
// The primary dies

#[test]
fn misses_alone_fail_over_at_the_nth_miss_with_approaching_event() {
    let mut s = Scenario::new().without_primary();
    s.run(3, 2, 0);
    let a1 = s.lead(0, 1).poll();
    assert!(
        matches!(a1.decision, Decision::Suspect { .. }),
        "{:?}",
        a1.decision
    );
    assert!(events_of(&a1, EventKind::MissesApproaching).is_empty());
    let a2 = s.lead(0, 1).poll();
    assert!(matches!(a2.decision, Decision::Suspect { .. }));
    assert_eq!(
        events_of(&a2, EventKind::MissesApproaching).len(),
        1,
        "N-1 = 2 misses: {:?}",
        a2.events
    );
    let a3 = s.lead(0, 1).poll();
    let reason = failover_reason(&a3);
    assert!(reason.contains("3 of our last 5"), "{reason}");
    assert_eq!(a3.view.recent_missed, 3);
    // It keeps saying so until the key changes on ledger; then never again.
    assert!(s.lead(0, 1).poll().decision.is_fail_over());
    s.key_on_ledger = BACKUP_KEY.into();
    for a in s.run(20, 0, 1) {
        assert_eq!(a.decision, Decision::AlreadyFailedOver);
    }
}

#[test]
fn made_before_missed_within_a_poll_is_pessimistic() {
    // One poll with 2 made and 3 missed: whatever the true order, 3 of the last 5 are missed.
    let mut s = Scenario::new().without_primary();
    s.run(2, 3, 0);
    let a = s.lead(2, 3).poll();
    assert!(a.decision.is_fail_over(), "{:?}", a.decision);
}

#[test]
fn dead_primary_with_misses_fails_over_at_the_first_confirmed_miss_once_the_signal_holds() {
    let mut s = Scenario::new();
    s.run(3, 1, 0);
    s.kill_primary();
    // A big validator: it leads (and misses) every poll. 3 polls of System API down make the
    // signal; the standalone rule and the 1-miss threshold both hold by then.
    let list = s.run(6, 0, 1);
    assert_eq!(
        first_failover(&list),
        Some(2),
        "{:?}",
        list.iter()
            .map(|a| a.decision.describe())
            .collect::<Vec<_>>()
    );
    assert_eq!(list[2].view.miss_threshold, 1);
    assert_eq!(events_of(&list[0], EventKind::PrimaryUnhealthy).len(), 1);
    assert!(events_of(&list[1], EventKind::PrimaryUnhealthy).is_empty());
    assert!(has_warning(&list[0], "primary-unhealthy"));
}

#[test]
fn dead_primary_that_leads_nothing_fails_over_after_primary_down_polls() {
    // A small validator: no proposal in the whole outage so far; the ledger goes on.
    let mut s = Scenario::new();
    s.run(2, 0, 0);
    s.kill_primary();
    let list = s.run(5, 0, 0);
    assert_eq!(first_failover(&list), Some(2));
    let reason = failover_reason(&list[2]);
    assert!(
        reason.contains("3 polls") && reason.contains("advancing"),
        "{reason}"
    );
    assert!(matches!(list[0].decision, Decision::Suspect { .. }));
}

#[test]
fn early_signal_needs_the_ledger_advancing() {
    // The watcher's whole view is stuck (sources frozen but still fresh): the primary's System
    // API being down is no evidence by itself.
    let mut s = Scenario::new();
    s.run(2, 0, 0);
    s.kill_primary();
    for name in ["core a", "core b", "core c", "gateway g"] {
        s.stale(name, 0);
    }
    let list = s.run(4, 0, 0);
    for a in &list {
        assert!(!a.decision.is_fail_over(), "{:?}", a.decision);
    }
    assert!(matches!(list[1].decision, Decision::Suspect { .. }));
    // Once the signal is long enough to act on, it says loudly why it does not.
    assert!(
        blocker(&list[3])
            .contains("only 0 of 4 trusted sources show the ledger advancing, 3 needed"),
        "{}",
        blocker(&list[3])
    );
}

#[test]
fn early_signal_lowers_the_threshold_to_one_confirmed_miss() {
    // Three gateways stuck but still fresh keep the ledger-advancing quorum (3 of 5) from
    // forming, so the signal cannot act alone; one miss confirmed by both Core sources can.
    let mut s = Scenario::new().sources(&[
        ("core a", SourceKind::Core),
        ("core b", SourceKind::Core),
        ("gateway g", SourceKind::Gateway),
        ("gateway h", SourceKind::Gateway),
        ("gateway i", SourceKind::Gateway),
    ]);
    s.run(2, 1, 0);
    for g in ["gateway g", "gateway h", "gateway i"] {
        s.stale(g, 0);
    }
    s.kill_primary();
    let list = s.run(3, 0, 0);
    assert!(
        list.iter().all(|a| !a.decision.is_fail_over()),
        "{:?}",
        list.iter().map(|a| &a.decision).collect::<Vec<_>>()
    );
    assert_eq!(list[2].view.miss_threshold, 1);
    let a = s.lead(0, 1).poll();
    let reason = failover_reason(&a);
    assert!(
        reason.contains("1 of our last") && reason.contains("threshold lowered to 1"),
        "{reason}"
    );
}

#[test]
fn early_signal_off_with_zero_primary_down_polls() {
    let mut s = Scenario::with(PolicyParams {
        primary_down_polls: 0,
        ..PolicyParams::default()
    });
    s.run(2, 1, 0);
    s.kill_primary();
    for a in s.run(20, 0, 0) {
        assert!(!a.decision.is_fail_over(), "{:?}", a.decision);
    }
    // Misses still count, at the full threshold of 3.
    let list = s.run(3, 0, 1);
    assert_eq!(first_failover(&list), Some(2));
    assert_eq!(list[2].view.miss_threshold, 3);
}

#[test]
fn primary_not_up_or_its_own_misses_rising_is_the_early_signal_too() {
    let mut s = Scenario::new();
    s.run(2, 0, 0);
    if let Some(Ok(n)) = &mut s.primary {
        n.health = NodeHealth::Syncing;
    }
    let list = s.run(3, 0, 0);
    assert!(list[2].decision.is_fail_over(), "{:?}", list[2].decision);

    let mut s = Scenario::new();
    s.run(2, 0, 0);
    let mut list = Vec::new();
    for i in 1..=3 {
        if let Some(Ok(n)) = &mut s.primary {
            n.recent_missed = i;
        }
        list.push(s.poll());
    }
    assert!(
        matches!(&list[0].view.primary, PrimaryState::Unhealthy { reason, .. } if reason.contains("rose from 0 to 1"))
    );
    assert!(list[2].decision.is_fail_over(), "{:?}", list[2].decision);
}

#[test]
fn short_primary_blips_do_not_fail_over() {
    let mut s = Scenario::new();
    for round in 0..50 {
        s.kill_primary();
        s.run(2, 1, 0); // down 2 polls, one short of primary_down_polls
        s.primary = Some(Ok(node(PRIMARY_KEY)));
        let a = s.lead(1, 0).poll();
        assert!(
            !a.decision.is_fail_over(),
            "round {round}: {:?}",
            a.decision
        );
        assert_eq!(events_of(&a, EventKind::PrimaryRecovered).len(), 1);
    }
}

// ---------------------------------------------------------------------------------------------
// Untrusted sources

#[test]
fn one_lying_core_source_never_fails_over_and_is_named() {
    let mut s = Scenario::new();
    s.run(2, 1, 0);
    s.fault("core b", Fault::ExtraMissed(5));
    let list = s.run(30, 1, 0);
    for a in &list {
        assert_eq!(a.decision, Decision::Healthy);
        assert!(
            has_warning(a, "source-contradicted:core b"),
            "{:?}",
            a.warnings
        );
        assert_eq!(a.view.trusted_sources, 3);
    }
    assert_eq!(events_of(&list[0], EventKind::SourceDegraded).len(), 1);
    assert!(
        list[1..].iter().all(|a| a.events.is_empty()),
        "events only on change"
    );
    // A liar that climbs slowly (within the tolerance per poll) is caught once it is above.
    let mut s = Scenario::new();
    s.run(2, 1, 0);
    for x in 1..=6 {
        s.fault("core c", Fault::ExtraMissed(x));
        let a = s.lead(1, 0).poll();
        assert!(!a.decision.is_fail_over(), "{:?}", a.decision);
    }
}

#[test]
fn a_liar_does_not_block_the_honest_sources_from_failing_over() {
    let mut s = Scenario::new().without_primary();
    s.run(2, 1, 0);
    s.fault("core a", Fault::ExtraMissed(7));
    let list = s.run(3, 0, 1);
    assert_eq!(first_failover(&list), Some(2));
    assert_eq!(list[2].view.realtime_sources, 2);
}

#[test]
fn two_core_sources_that_disagree_are_neither_believed() {
    let mut s = Scenario::new()
        .sources(&[("core a", SourceKind::Core), ("core b", SourceKind::Core)])
        .without_primary();
    s.run(2, 1, 0);
    s.fault("core b", Fault::ExtraMissed(1));
    // core b sees its fake misses grow; core a sees none.
    let mut last = None;
    for x in 1..=6 {
        s.fault("core b", Fault::ExtraMissed(x));
        let a = s.lead(1, 0).poll();
        assert!(!a.decision.is_fail_over(), "{:?}", a.decision);
        last = Some(a);
    }
    let a = last.unwrap_or_else(|| unreachable!());
    assert!(
        has_warning(&a, "sources-disagree:core a|core b"),
        "{:?}",
        a.warnings
    );
}

#[test]
fn gateway_down_is_a_warning_only() {
    let mut s = Scenario::new();
    s.run(2, 1, 0);
    s.fault("gateway g", Fault::Down(SourceError::Timeout(3000)));
    let list = s.run(10, 1, 0);
    for a in &list {
        assert_eq!(a.decision, Decision::Healthy);
        assert!(has_warning(a, "source-failing:gateway g"));
        assert_eq!(a.warnings.len(), 1, "{:?}", a.warnings);
    }
    assert_eq!(events_of(&list[0], EventKind::SourceDegraded).len(), 1);
    assert!(list[1..].iter().all(|a| a.events.is_empty()));
    s.fault("gateway g", Fault::None);
    let a = s.lead(1, 0).poll();
    assert_eq!(events_of(&a, EventKind::SourceRecovered).len(), 1);
    assert!(a.warnings.is_empty());
}

#[test]
fn gateway_down_during_an_outage_then_the_quorum_decides() {
    // The e2e story: the gateway goes down during the outage; the Core quorum still decides.
    let mut s = Scenario::new().without_primary();
    s.run(2, 1, 0);
    s.fault("gateway g", Fault::Down(unreachable()));
    s.fault("core c", Fault::Down(unreachable()));
    let list = s.run(3, 0, 1);
    assert_eq!(
        first_failover(&list),
        Some(2),
        "{:?}",
        list.iter()
            .map(|a| a.decision.describe())
            .collect::<Vec<_>>()
    );
}

#[test]
fn lagging_source_is_ignored_and_fresh_ones_decide() {
    let mut s = Scenario::new().without_primary();
    s.run(2, 1, 0);
    s.stale("core a", 60_000);
    let a = s.lead(1, 0).poll();
    assert!(has_warning(&a, "source-lagging:core a"), "{:?}", a.warnings);
    assert_eq!(a.view.trusted_sources, 3);
    let list = s.run(3, 0, 1);
    assert_eq!(first_failover(&list), Some(2));
    let st = &list[2].view.sources[0];
    assert_eq!(st.name, "core a");
    assert!(matches!(st.trust, SourceTrust::Lagging { lag_ms } if lag_ms > 60_000));
}

#[test]
fn a_stuck_source_becomes_lagging_after_max_source_lag() {
    let mut s = Scenario::new();
    s.run(2, 1, 0);
    s.stale("core b", 0);
    // 30 s of lag at 5 s polls: trusted for 6 polls, lagging from the 7th.
    let list = s.run(8, 1, 0);
    let lagging: Vec<bool> = list
        .iter()
        .map(|a| has_warning(a, "source-lagging:core b"))
        .collect();
    assert_eq!(
        lagging,
        vec![false, false, false, false, false, false, true, true]
    );
}

#[test]
fn a_source_in_another_epoch_is_not_trusted() {
    let mut s = Scenario::new();
    s.run(2, 1, 0);
    s.fault("core a", Fault::WrongEpoch(99));
    let a = s.lead(1, 0).poll();
    assert!(has_warning(&a, "source-epoch:core a"), "{:?}", a.warnings);
    assert_eq!(a.view.epoch, Some(10));
    assert_eq!(a.decision, Decision::Healthy);
}

#[test]
fn only_one_trusted_source_is_blocked_or_unknown_never_fail_over() {
    let mut s = Scenario::new();
    s.run(2, 1, 0);
    s.fault("core b", Fault::Down(unreachable()));
    s.fault("core c", Fault::Down(unreachable()));
    s.fault("gateway g", Fault::Down(unreachable()));
    let a = s.lead(1, 0).poll();
    assert!(
        matches!(&a.decision, Decision::Unknown { reason } if reason.contains("only 1")),
        "{:?}",
        a.decision
    );
    assert!(has_warning(&a, "no-quorum"));
    assert_eq!(events_of(&a, EventKind::ProblemRaised).len(), 1);
    s.kill_primary();
    let list = s.run(10, 0, 1);
    for a in &list {
        assert!(!a.decision.is_fail_over(), "{:?}", a.decision);
    }
    assert!(
        blocker(&list[9]).contains("no quorum"),
        "{:?}",
        list[9].decision
    );
}

#[test]
fn no_trusted_source_at_all_is_unknown() {
    let mut s = Scenario::new();
    for name in ["core a", "core b", "core c", "gateway g"] {
        s.fault(name, Fault::Down(unreachable()));
    }
    s.kill_primary();
    for a in s.run(5, 0, 1) {
        assert!(
            matches!(a.decision, Decision::Unknown { .. }),
            "{:?}",
            a.decision
        );
        assert!(has_warning(&a, "no-trusted-source"));
    }
}

#[test]
fn a_gateway_only_setup_cannot_confirm_misses_but_the_early_signal_acts() {
    // Gateways cannot see misses in real time.
    let mut s = Scenario::new()
        .sources(&[
            ("gateway g", SourceKind::Gateway),
            ("gateway h", SourceKind::Gateway),
        ])
        .without_primary();
    let list = s.run(6, 0, 1);
    for a in &list {
        assert!(
            matches!(a.decision, Decision::Unknown { .. }),
            "{:?}",
            a.decision
        );
    }
    // The early signal still acts: two Gateways are a quorum for "the ledger advances".
    s.primary = Some(Ok(node(PRIMARY_KEY)));
    s.poll();
    s.kill_primary();
    let list = s.run(3, 0, 0);
    assert!(!list[1].decision.is_fail_over());
    assert!(list[2].decision.is_fail_over(), "{:?}", list[2].decision);
}

// ---------------------------------------------------------------------------------------------
// Gates

fn outage_with(setup: impl FnOnce(&mut Scenario)) -> Assessment {
    let mut s = Scenario::new();
    s.run(2, 1, 0);
    setup(&mut s);
    s.kill_primary();
    let list = s.run(4, 0, 1);
    assert!(
        list.iter().all(|a| !a.decision.is_fail_over()),
        "{:?}",
        list.iter().map(|a| &a.decision).collect::<Vec<_>>()
    );
    list.into_iter().last().unwrap_or_else(|| unreachable!())
}

#[test]
fn backup_not_synced_blocks() {
    let a = outage_with(|s| {
        s.backup_node(|n| {
            n.health = NodeHealth::Syncing;
            n.detail = "12 versions behind".into();
        });
    });
    assert_blocked_by(
        &a,
        "backup not ready: its health is SYNCING (12 versions behind)",
    );
    assert!(has_warning(&a, "backup-not-ready"));
}

#[test]
fn backup_for_another_validator_blocks() {
    let a = outage_with(|s| {
        s.backup_node(|n| n.validator_address = Some("validator_sim1other".into()));
    });
    assert_blocked_by(&a, "configured for validator validator_sim1other, not ours");
    let a = outage_with(|s| {
        s.backup_node(|n| n.validator_address = None);
    });
    assert_blocked_by(&a, "not configured for a validator");
}

#[test]
fn backup_with_the_wrong_key_blocks() {
    let a = outage_with(|s| {
        s.backup_node(|n| n.public_key_hex = OTHER_KEY.into());
    });
    assert_blocked_by(
        &a,
        &format!("its key is {OTHER_KEY}, not the configured backup_public_key"),
    );
}

#[test]
fn backup_unreachable_or_unwatched_blocks() {
    let a = outage_with(|s| s.backup = Some(Err(unreachable())));
    assert_blocked_by(&a, "gives no answer: unreachable: connection refused");
    let a = outage_with(|s| s.backup = None);
    assert_blocked_by(&a, "add [backup] system_api");
}

#[test]
fn backup_core_api_not_trusted_blocks() {
    let mut s = Scenario::new().sources(&[
        ("core a", SourceKind::Core),
        ("core b", SourceKind::Core),
        ("core c", SourceKind::Core),
        (BACKUP_CORE_SOURCE, SourceKind::Core),
    ]);
    s.run(2, 1, 0);
    s.stale(BACKUP_CORE_SOURCE, 120_000);
    s.kill_primary();
    let list = s.run(4, 0, 1);
    let a = &list[3];
    assert!(
        blocker(a).contains("its Core API is not trusted (lagging"),
        "{}",
        blocker(a)
    );
    // And the backup becoming ready unblocks it at once.
    s.fault(BACKUP_CORE_SOURCE, Fault::None);
    let a = s.lead(0, 1).poll();
    assert!(a.decision.is_fail_over(), "{:?}", a.decision);
    assert_eq!(events_of(&a, EventKind::BackupReady).len(), 1);
}

#[test]
fn preflight_failure_blocks() {
    let a = outage_with(|s| {
        s.gates = Gates::failed("the account holds 0.1 XRD, below the 10 XRD fee lock")
    });
    assert_eq!(
        blocker(&a),
        "pre-flight failed: the account holds 0.1 XRD, below the 10 XRD fee lock"
    );
    assert!(has_warning(&a, "preflight-failed"));
}

#[test]
fn every_blocking_gate_is_named() {
    let a = outage_with(|s| {
        s.gates = Gates::failed("preview failed");
        s.backup = Some(Err(unreachable()));
    });
    let b = blocker(&a);
    assert!(
        b.contains("pre-flight failed: preview failed") && b.contains("backup not ready"),
        "{b}"
    );
}

// ---------------------------------------------------------------------------------------------
// Never twice, never back

#[test]
fn backup_key_on_ledger_is_already_failed_over() {
    let mut s = Scenario::new();
    s.key_on_ledger = BACKUP_KEY.into();
    s.kill_primary();
    for a in s.run(10, 0, 1) {
        assert_eq!(a.decision, Decision::AlreadyFailedOver);
        assert_eq!(a.view.key_on_ledger, KeyOwner::Backup);
        assert_eq!(a.view.key_in_force, KeyOwner::Primary);
    }
    s.epoch_change();
    s.backup_node(|n| n.consensus = NodeConsensus::ValidatingInCurrentEpoch);
    let a = s.poll();
    assert_eq!(a.decision, Decision::AlreadyFailedOver);
    assert_eq!(a.view.key_in_force, KeyOwner::Backup);
    assert!(a.view.backup_validating);
    assert_eq!(events_of(&a, EventKind::KeyChanged).len(), 1);
    assert_eq!(events_of(&a, EventKind::EpochChanged).len(), 1);
}

#[test]
fn a_minority_saying_backup_blocks_instead_of_a_second_failover() {
    let a = outage_with(|s| {
        s.fault(
            "core a",
            Fault::Keys(Some(PRIMARY_KEY.into()), Some(BACKUP_KEY.into())),
        );
    });
    assert_blocked_by(&a, "a failover may already have happened");
    assert!(has_warning(&a, "key-disagreement:key on ledger"));
}

#[test]
fn an_unexpected_key_on_ledger_blocks() {
    let a = outage_with(|s| s.key_on_ledger = OTHER_KEY.into());
    assert_blocked_by(&a, "neither the primary's nor the backup's");
    assert!(has_warning(&a, "key-unexpected"));
}

#[test]
fn a_pending_failback_is_not_failed_over_again() {
    // Failed over earlier, then a manual fail-back: the primary's key is on ledger, the
    // backup's in force until the epoch ends. Misses now are the backup node's business.
    let mut s = Scenario::new();
    s.key_in_force = Some(BACKUP_KEY.into());
    s.kill_primary();
    let list = s.run(5, 0, 1);
    assert!(list.iter().all(|a| !a.decision.is_fail_over()));
    assert!(blocker(&list[4]).contains("fail-back is pending"));
    // The fail-back takes effect: the windows held the backup's misses and start afresh for
    // the primary, which is not failed over for the other node's misses.
    s.primary = Some(Ok(node(PRIMARY_KEY)));
    s.epoch_change();
    let a = s.lead(1, 0).poll();
    assert_eq!(a.view.key_in_force, KeyOwner::Primary);
    assert_eq!((a.view.recent_missed, a.view.recent_tracked), (0, 1));
    assert_eq!(a.decision, Decision::Healthy);
}

#[test]
fn validator_out_of_the_active_set_is_said() {
    let mut s = Scenario::new();
    s.key_in_force = None;
    let a = s.poll();
    assert_eq!(a.view.key_in_force, KeyOwner::NotInActiveSet);
    assert!(has_warning(&a, "not-in-active-set"));
    // The early signal needs the primary's key in force.
    s.kill_primary();
    for a in s.run(6, 0, 0) {
        assert!(!a.decision.is_fail_over(), "{:?}", a.decision);
    }
}

// ---------------------------------------------------------------------------------------------
// Epochs

#[test]
fn epoch_change_mid_outage_keeps_the_window() {
    let mut s = Scenario::new().without_primary();
    s.run(3, 2, 0);
    let before = s.run(2, 0, 1);
    assert!(before.iter().all(|a| !a.decision.is_fail_over()));
    s.epoch_change();
    let a = s.lead(0, 1).poll();
    assert_eq!(a.view.epoch_missed, Some(1));
    assert_eq!(a.view.recent_missed, 3);
    assert!(a.decision.is_fail_over(), "{:?}", a.decision);
}

#[test]
fn counters_restart_from_zero_in_a_new_epoch() {
    let mut s = Scenario::new().without_primary();
    s.run(3, 10, 0);
    s.lead(5, 1).poll();
    // New epoch: counts 3 made, 0 missed. Deltas from 0, not from the old epoch's 35/1.
    s.epoch_change();
    let a = s.lead(3, 0).poll();
    assert_eq!(a.view.epoch_made, Some(3));
    assert_eq!(a.view.epoch_missed, Some(0));
    assert_eq!(a.view.recent_tracked, 5);
    // Window: ..., made, made(5th of the poll), missed, then 3 made: 1 missed of the last 5.
    assert_eq!(a.view.recent_missed, 1);
    let a = s.lead(2, 0).poll();
    assert_eq!(a.view.recent_missed, 0);
    assert_eq!(a.decision, Decision::Healthy);
}

#[test]
fn sources_straddling_an_epoch_change_stay_trusted() {
    let mut s = Scenario::new();
    s.run(2, 1, 0);
    s.fault("core a", Fault::WrongEpoch(9));
    let a = s.lead(1, 0).poll();
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    assert_eq!(a.decision, Decision::Healthy);
}

#[test]
fn a_long_gap_with_scattered_misses_is_not_a_burst() {
    // The watcher loses every source for 2 minutes; meanwhile the healthy validator made 40
    // and missed 2, scattered. Back online, the delta is spread, not piled up at the end.
    let mut s = Scenario::new().without_primary();
    s.run(2, 1, 0);
    for name in ["core a", "core b", "core c", "gateway g"] {
        s.fault(name, Fault::Down(unreachable()));
    }
    s.run(23, 2, 0);
    s.lead(0, 2);
    for name in ["core a", "core b", "core c", "gateway g"] {
        s.fault(name, Fault::None);
    }
    let a = s.poll();
    assert!(a.view.recent_missed <= 1, "{}", a.view.summary_line());
    assert!(!a.decision.is_fail_over());
    // While a gap made of misses only is still a burst.
    let mut s = Scenario::new().without_primary();
    s.run(2, 1, 0);
    for name in ["core a", "core b", "core c"] {
        s.fault(name, Fault::Down(unreachable()));
    }
    s.run(5, 0, 1);
    for name in ["core a", "core b", "core c"] {
        s.fault(name, Fault::None);
    }
    assert!(s.poll().decision.is_fail_over());
}

// ---------------------------------------------------------------------------------------------
// Legacy

fn legacy() -> Scenario {
    Scenario::with(PolicyParams {
        name: PolicyName::Legacy,
        ..PolicyParams::default()
    })
    .without_primary()
}

#[test]
fn legacy_fires_above_five_finished_misses_not_at_five() {
    let mut s = legacy();
    s.lead(20, 3).poll();
    s.epoch_change();
    s.lead(20, 2).poll();
    s.epoch_change();
    // Finished epochs 10..=11 (window of 3 incl. the current 12): 5 missed.
    let a = s.lead(0, 10).poll();
    assert_eq!(a.view.finished_missed, Some(5));
    assert!(
        matches!(&a.decision, Decision::Suspect { .. }),
        "{:?}",
        a.decision
    );
    // Current-epoch misses (10 so far) do not count in the legacy rule; the next epoch's do.
    s.epoch_change();
    // Window now 11..=12: 2 + 10 = 12 missed.
    let a = s.poll();
    assert_eq!(a.view.finished_missed, Some(12));
    let reason = failover_reason(&a);
    assert!(
        reason.contains("12 missed proposals in finished epochs 11..=12"),
        "{reason}"
    );

    let mut s = legacy();
    s.lead(20, 6).poll();
    s.epoch_change();
    assert!(s.poll().decision.is_fail_over(), "6 > 5");
}

#[test]
fn legacy_ignores_core_counts_and_the_early_signal_and_keeps_the_gates() {
    let mut s = legacy();
    s.primary = Some(Err(unreachable()));
    for a in s.run(10, 0, 1) {
        assert!(!a.decision.is_fail_over(), "{:?}", a.decision);
    }
    s.epoch_change();
    s.backup = Some(Err(unreachable()));
    let a = s.poll();
    assert!(blocker(&a).contains("backup not ready"));
    s.key_on_ledger = BACKUP_KEY.into();
    assert_eq!(s.poll().decision, Decision::AlreadyFailedOver);
}

#[test]
fn legacy_needs_a_majority_of_the_trusted_gateways() {
    let mut s = legacy().sources(&[
        ("gateway g", SourceKind::Gateway),
        ("gateway h", SourceKind::Gateway),
        ("gateway i", SourceKind::Gateway),
    ]);
    s.lead(20, 0).poll();
    s.epoch_change();
    s.fault("gateway h", Fault::FinishedMissed(9));
    let a = s.poll();
    assert!(
        matches!(&a.decision, Decision::Suspect { reason } if reason.contains("1 of 3")),
        "{:?}",
        a.decision
    );
    s.fault("gateway i", Fault::FinishedMissed(7));
    let a = s.poll();
    assert!(a.decision.is_fail_over(), "{:?}", a.decision);
    // A lagging gateway counts for nothing.
    s.stale("gateway i", 60_000);
    assert!(!s.poll().decision.is_fail_over());
}

#[test]
fn legacy_without_a_gateway_is_unknown() {
    let mut s = legacy().sources(&[("core a", SourceKind::Core), ("core b", SourceKind::Core)]);
    let a = s.poll();
    assert!(
        matches!(&a.decision, Decision::Unknown { reason } if reason.contains("no trusted Gateway"))
    );
}

// ---------------------------------------------------------------------------------------------
// Events and output

#[test]
fn events_only_on_change() {
    let mut s = Scenario::new();
    let a = s.poll();
    assert_eq!(
        a.events.len(),
        1,
        "first poll: the backup's state is news: {:?}",
        a.events
    );
    assert_eq!(a.events[0].kind, EventKind::BackupReady);
    for a in s.run(5, 1, 0) {
        assert!(a.events.is_empty(), "{:?}", a.events);
    }
    s.backup_node(|n| n.health = NodeHealth::OutOfSync);
    let a = s.poll();
    assert_eq!(events_of(&a, EventKind::BackupNotReady).len(), 1);
    assert!(s.poll().events.is_empty());
    s.epoch_change();
    let a = s.poll();
    assert_eq!(
        a.events.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec![EventKind::EpochChanged]
    );
    s.kill_primary();
    let a = s.poll();
    let kinds: Vec<EventKind> = a.events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![EventKind::PrimaryUnhealthy, EventKind::DecisionChanged]
    );
    assert!(s.poll().events.is_empty());
}

#[test]
fn summary_line_and_json() {
    let mut s = Scenario::new();
    s.run(3, 2, 0);
    s.fault("gateway g", Fault::Down(unreachable()));
    let a = s.lead(1, 1).poll();
    let line = a.view.summary_line();
    for part in [
        "epoch 10 round 140",
        "key in force primary, on ledger primary",
        "this epoch 7 made 1 missed",
        "last 5 proposals: 1 missed (threshold 3)",
        "sources 3/4 trusted, 3 real-time (quorum 2)",
        "primary up",
        "backup ready",
    ] {
        assert!(line.contains(part), "{part:?} not in {line:?}");
    }
    let json = serde_json::to_value(&a).unwrap_or_default();
    assert_eq!(json["decision"]["decision"], "suspect");
    assert_eq!(json["view"]["sources"][3]["trust"]["trust"], "failing");
    assert_eq!(json["warnings"][0]["key"], "source-failing:gateway g");
}

// ---------------------------------------------------------------------------------------------
// Property: a healthy primary and honest (if flaky) sources never cause a failover.

/// xorshift64*: a tiny deterministic PRNG so failures reproduce from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[test]
fn property_healthy_primary_and_honest_sources_never_fail_over() {
    for seed in 1..=200u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut s = Scenario::new();
        if rng.chance(30) {
            s = s.sources(&[
                ("core a", SourceKind::Core),
                ("core b", SourceKind::Core),
                ("gateway g", SourceKind::Gateway),
                ("gateway h", SourceKind::Gateway),
                (BACKUP_CORE_SOURCE, SourceKind::Core),
            ]);
        }
        let names: Vec<String> = s.sources.iter().map(|x| x.name.clone()).collect();
        // Proposals since the last random miss: a healthy node misses rarely and never in
        // bursts, so misses are at least 2*M proposals apart.
        let mut since_miss = 100u64;
        let mut primary_blip = 0u32;
        for poll in 0..300 {
            if rng.chance(2) {
                s.epoch_change();
            }
            // Noise in the sources: outages, stuck nodes, recoveries.
            for name in &names {
                let r = rng.below(100);
                if r < 3 {
                    s.fault(name, Fault::Down(unreachable()));
                } else if r < 5 {
                    s.stale(name, rng.below(60_000) as i64);
                } else if r < 25 {
                    s.fault(name, Fault::None);
                }
            }
            // The primary's System API drops a request now and then, never for
            // primary_down_polls polls in a row.
            if primary_blip < 2 && rng.chance(5) {
                s.primary = Some(Err(SourceError::Timeout(3000)));
                primary_blip += 1;
            } else {
                let recent = match &s.primary {
                    Some(Ok(n)) => n.recent_missed,
                    _ => 0,
                };
                let mut n = node(PRIMARY_KEY);
                n.recent_missed = recent;
                s.primary = Some(Ok(n));
                primary_blip = 0;
            }
            // Our proposals: 0 to 3 a poll (small to big validator), a rare miss.
            for _ in 0..rng.below(4) {
                if since_miss >= 10 && rng.chance(3) {
                    s.lead(0, 1);
                    since_miss = 0;
                    if let Some(Ok(n)) = &mut s.primary {
                        n.recent_missed += 1; // the node sees its own miss
                    }
                } else {
                    s.lead(1, 0);
                    since_miss += 1;
                }
            }
            let a = s.poll();
            assert!(
                !matches!(
                    a.decision,
                    Decision::FailOver { .. } | Decision::Blocked { .. }
                ),
                "seed {seed} poll {poll}: {:?}\n{}",
                a.decision,
                a.view.summary_line()
            );
        }
    }
}

#[test]
fn property_one_liar_never_fails_over_a_healthy_primary() {
    // One source (any of the four) lies in a random way on every poll; the others are honest
    // and the primary is healthy, with rare spaced misses.
    let names = ["core a", "core b", "core c", "gateway g"];
    for seed in 1..=200u64 {
        let mut rng = Rng(seed.wrapping_mul(0xbf58_476d_1ce4_e5b9) | 1);
        let mut s = Scenario::new();
        let liar = names[rng.below(4) as usize];
        let mut since_miss = 100u64;
        for poll in 0..200 {
            if rng.chance(2) {
                s.epoch_change();
            }
            let lie = match rng.below(6) {
                0 => Fault::ExtraMissed(rng.below(20)),
                1 => Fault::WrongEpoch(s.epoch + 2 + rng.below(5)),
                2 => Fault::Keys(Some(BACKUP_KEY.into()), Some(BACKUP_KEY.into())),
                3 => Fault::Keys(Some(OTHER_KEY.into()), Some(OTHER_KEY.into())),
                4 => Fault::Down(unreachable()),
                _ => Fault::ExtraMissed(1 + rng.below(2)),
            };
            s.fault(liar, lie);
            for _ in 0..rng.below(4) {
                if since_miss >= 10 && rng.chance(3) {
                    s.lead(0, 1);
                    since_miss = 0;
                } else {
                    s.lead(1, 0);
                    since_miss += 1;
                }
            }
            let a = s.poll();
            assert!(
                !matches!(
                    a.decision,
                    Decision::FailOver { .. }
                        | Decision::Blocked { .. }
                        | Decision::AlreadyFailedOver
                ),
                "seed {seed} poll {poll} liar {liar}: {:?}\n{}",
                a.decision,
                a.view.summary_line()
            );
        }
    }
}

/// One noisy outage run, as the list of assessments.
fn noisy_run(seed: u64) -> Vec<Assessment> {
    let mut rng = Rng(seed | 1);
    let mut s = Scenario::new();
    let mut out = Vec::new();
    for poll in 0..200 {
        if poll == 100 {
            s.kill_primary();
        }
        if rng.chance(3) {
            s.epoch_change();
        }
        for name in ["core a", "core b", "core c", "gateway g"] {
            match rng.below(10) {
                0 => {
                    s.fault(name, Fault::Down(unreachable()));
                }
                1 => {
                    s.fault(name, Fault::ExtraMissed(rng.below(8)));
                }
                2 => {
                    s.stale(name, rng.below(90_000) as i64);
                }
                _ => {
                    s.fault(name, Fault::None);
                }
            }
        }
        let missed = u64::from(poll >= 100 && rng.chance(50));
        out.push(s.lead(rng.below(3), missed).poll());
    }
    out
}

#[test]
fn same_observations_same_assessments() {
    for seed in [7, 42, 2024] {
        let a = noisy_run(seed);
        assert_eq!(a, noisy_run(seed), "seed {seed}");
        // And the runs are not trivially constant.
        let labels: BTreeSet<&str> = a.iter().map(|x| x.decision.label()).collect();
        assert!(labels.len() >= 2, "seed {seed}: {labels:?}");
    }
}

#[test]
fn property_a_dead_primary_is_failed_over_despite_one_flaky_source() {
    // The other side of the property: with the primary dead and at most one source flaky at a
    // time, the failover comes within primary_down_polls + a few polls.
    for seed in 1..=100u64 {
        let mut rng = Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1);
        let mut s = Scenario::new();
        s.run(3, 1, 0);
        s.kill_primary();
        let names = ["core a", "core b", "core c", "gateway g"];
        let mut at = None;
        for poll in 0..10 {
            for n in names {
                s.fault(n, Fault::None);
            }
            if rng.chance(50) {
                let n = names[rng.below(4) as usize];
                s.fault(n, Fault::Down(unreachable()));
            }
            let missed = rng.below(2);
            if s.lead(0, missed).poll().decision.is_fail_over() {
                at = Some(poll);
                break;
            }
        }
        let at = at.unwrap_or_else(|| panic!("seed {seed}: no failover in 10 polls"));
        assert!(at <= 4, "seed {seed}: failover only at poll {at}");
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers, checked by hand

#[test]
fn feed_window_orders_as_documented() {
    let fed = |made, missed, one_poll| {
        let mut w = VecDeque::new();
        feed_window(&mut w, ProposalCounts { made, missed }, 5, one_poll);
        w.into_iter()
            .map(|x| if x { 'x' } else { '.' })
            .collect::<String>()
    };
    // One poll: made first, misses last.
    assert_eq!(fed(2, 2, true), "..xx");
    assert_eq!(fed(9, 1, true), "....x");
    // A gap: misses spread evenly; of 20 with 5 missed (every 4th), the last 5 hold 1.
    assert_eq!(fed(15, 5, false), "..x..");
    assert_eq!(fed(0, 7, false), "xxxxx");
    assert_eq!(fed(3, 0, false), "...");
    assert_eq!(fed(0, 0, true), "");
}

#[test]
fn kth_largest_is_what_k_sources_all_reach() {
    assert_eq!(kth_largest(vec![3, 0, 3], 2), Some(3));
    assert_eq!(kth_largest(vec![3, 0, 1], 2), Some(1));
    assert_eq!(kth_largest(vec![5], 2), Some(5));
    assert_eq!(kth_largest(vec![], 2), None);
}
