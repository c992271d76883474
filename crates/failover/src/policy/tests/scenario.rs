//! The scenario harness of the policy's tests: a fake world (the truth about the ledger, our proposals, the
//! two nodes) and per-source faults, turned into `Observation`s with a fake clock.

#![allow(dead_code)]
pub(crate) use crate::observe::{
    FinishedEpochs, LedgerReading, NodeConsensus, NodeHealth, NodeReading, Observation,
    ProposalCounts, SourceError, SourceKind, SourceObservation,
};
pub(crate) use crate::policy::params::{PolicyName, PolicyParams};
pub(crate) use crate::policy::*;

pub(crate) const PRIMARY_KEY: &str =
    "02aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
pub(crate) const BACKUP_KEY: &str =
    "03bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
pub(crate) const OTHER_KEY: &str =
    "02cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
pub(crate) const VALIDATOR: &str =
    "validator_sim1sdkgfyaz3g5d3gqruhs5tg0rxpdqnvdx0qhlvx0n8xtfxrvqdy2cl0";
pub(crate) const POLL_MS: i64 = 5_000;
/// Rounds per poll of the fake ledger (other validators lead them too).
pub(crate) const ROUNDS_PER_POLL: u64 = 10;

#[derive(Debug, Clone)]
pub(crate) enum Fault {
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
    /// Its ledger timestamp is this many ms ahead of the truth (a wrong clock or a forger).
    ClockAhead(i64),
    /// Adds this many misses to the other validators' counts (a liar about the network).
    OthersMissed(u64),
    /// Reports this many finished-epoch misses (a Gateway).
    FinishedMissed(u64),
}

pub(crate) struct Src {
    pub(crate) name: String,
    pub(crate) kind: SourceKind,
    pub(crate) fault: Fault,
}

/// The truth, and what each source makes of it.
pub(crate) struct Scenario {
    pub(crate) policy: Policy,
    pub(crate) gates: Gates,
    pub(crate) at_ms: i64,
    pub(crate) epoch: u64,
    pub(crate) round: u64,
    pub(crate) state_version: u64,
    /// Our validator's proposals this epoch.
    pub(crate) made: u64,
    pub(crate) missed: u64,
    /// Finished epochs' counts, for the Gateway's uptime (legacy).
    pub(crate) finished: Vec<(u64, ProposalCounts)>,
    pub(crate) key_in_force: Option<String>,
    pub(crate) key_on_ledger: String,
    pub(crate) sources: Vec<Src>,
    pub(crate) primary: Option<Result<NodeReading, SourceError>>,
    pub(crate) backup: Option<Result<NodeReading, SourceError>>,
    /// Our outcomes in the next poll.
    pub(crate) next: ProposalCounts,
    pub(crate) legacy_window: u64,
    /// Every other validator's proposals this epoch (they lead the rest of the rounds).
    pub(crate) others: ProposalCounts,
    /// Percent of the other validators' rounds missed (a network-wide problem).
    pub(crate) network_miss_percent: u64,
}

pub(crate) fn node(key: &str) -> NodeReading {
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

pub(crate) fn unreachable() -> SourceError {
    SourceError::Unreachable("connection refused".into())
}

impl Scenario {
    /// Three Core sources, one Gateway, a healthy primary, a ready backup, default policy.
    pub(crate) fn new() -> Scenario {
        Scenario::with(PolicyParams::default())
    }

    pub(crate) fn with(params: PolicyParams) -> Scenario {
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
            others: ProposalCounts::default(),
            network_miss_percent: 0,
        }
        .sources(&[
            ("core a", SourceKind::Core),
            ("core b", SourceKind::Core),
            ("core c", SourceKind::Core),
            ("gateway g", SourceKind::Gateway),
        ])
    }

    /// No System API of the primary watched: no early signal, only the miss rule.
    pub(crate) fn without_primary(mut self) -> Scenario {
        self.primary = None;
        self
    }

    pub(crate) fn sources(mut self, list: &[(&str, SourceKind)]) -> Scenario {
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

    pub(crate) fn fault(&mut self, name: &str, fault: Fault) -> &mut Self {
        let Some(s) = self.sources.iter_mut().find(|s| s.name == name) else {
            panic!("test bug: no source {name}");
        };
        s.fault = fault;
        self
    }

    /// Freezes a source at the current truth, its ledger already `lag_ms` old.
    pub(crate) fn stale(&mut self, name: &str, lag_ms: i64) -> &mut Self {
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
    pub(crate) fn lead(&mut self, made: u64, missed: u64) -> &mut Self {
        self.next.made += made;
        self.next.missed += missed;
        self
    }

    pub(crate) fn epoch_change(&mut self) -> &mut Self {
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
        self.others = ProposalCounts::default();
        // The active set (with keys) is snapshotted at the change.
        self.key_in_force = Some(self.key_on_ledger.clone());
        self
    }

    pub(crate) fn kill_primary(&mut self) -> &mut Self {
        self.primary = Some(Err(unreachable()));
        self
    }

    pub(crate) fn backup_node(&mut self, f: impl FnOnce(&mut NodeReading)) -> &mut Self {
        if let Some(Ok(n)) = &mut self.backup {
            f(n);
        }
        self
    }

    pub(crate) fn truth(&self, kind: SourceKind) -> LedgerReading {
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
            others_current_epoch: (kind == SourceKind::Core).then_some(self.others),
            settings: None,
        }
    }

    /// Advances the world by one poll interval and asks the policy.
    pub(crate) fn poll(&mut self) -> Assessment {
        self.at_ms += POLL_MS;
        self.round += ROUNDS_PER_POLL;
        self.state_version += ROUNDS_PER_POLL;
        self.made += self.next.made;
        self.missed += self.next.missed;
        let others = ROUNDS_PER_POLL.saturating_sub(self.next.made + self.next.missed);
        let others_missed = others * self.network_miss_percent / 100;
        self.others.missed += others_missed;
        self.others.made += others - others_missed;
        self.next = ProposalCounts::default();
        let obs = self.observation();
        self.policy.observe(&obs, &self.gates)
    }

    /// A poll that falls within the same round as the previous one: time goes on a little,
    /// the ledger does not (short rounds, or two polls close together).
    pub(crate) fn poll_same_round(&mut self) -> Assessment {
        self.at_ms += 200;
        let obs = self.observation();
        self.policy.observe(&obs, &self.gates)
    }

    pub(crate) fn observation(&self) -> Observation {
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
                    Fault::ClockAhead(ms) => {
                        let mut r = self.truth(s.kind);
                        r.ledger_time_ms += ms;
                        Ok(r)
                    }
                    Fault::OthersMissed(x) => {
                        let mut r = self.truth(s.kind);
                        if let Some(c) = &mut r.others_current_epoch {
                            c.missed += x;
                        }
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
    pub(crate) fn run(&mut self, polls: usize, made: u64, missed: u64) -> Vec<Assessment> {
        (0..polls).map(|_| self.lead(made, missed).poll()).collect()
    }
}

pub(crate) fn has_warning(a: &Assessment, key: &str) -> bool {
    a.warnings.iter().any(|w| w.key == key)
}

pub(crate) fn events_of(a: &Assessment, kind: EventKind) -> Vec<&PolicyEvent> {
    a.events.iter().filter(|e| e.kind == kind).collect()
}

pub(crate) fn blocker(a: &Assessment) -> String {
    match &a.decision {
        Decision::Blocked { blocker, .. } => blocker.clone(),
        d => panic!("expected Blocked, got {d:?}"),
    }
}

/// Blocked, by a blocker that says `part`.
pub(crate) fn assert_blocked_by(a: &Assessment, part: &str) {
    let b = blocker(a);
    assert!(b.contains(part), "{b}");
}

pub(crate) fn failover_reason(a: &Assessment) -> &str {
    match &a.decision {
        Decision::FailOver { reason } => reason,
        d => panic!("expected FailOver, got {d:?}"),
    }
}

/// Index of the first FailOver, if any.
pub(crate) fn first_failover(list: &[Assessment]) -> Option<usize> {
    list.iter().position(|a| a.decision.is_fail_over())
}

/// A dead primary with misses, after `setup`: the gates decide.
pub(crate) fn outage_with(setup: impl FnOnce(&mut Scenario)) -> Assessment {
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
