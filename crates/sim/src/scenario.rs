//! Scenario files: faults at given rounds or epochs, replayed identically with the same seed.
//!
//! ```toml
//! seed = 7                 # optional, overrides --seed
//! [[event]]
//! at_round = 30            # the 30th round since genesis
//! action = "node_down"
//! node = "primary"
//! [[event]]
//! at_epoch = 5             # start of epoch 5 (optionally `round = 3` inside it)
//! action = "gateway_slow"
//! latency_ms = 800
//! ```
//!
//! Events are applied from a round hook, before the round's proposal is decided, so a fault at
//! round R holds for round R. Port changes (closing a node's or the gateway's ports) are sent
//! to the async side, which makes them right after.

use std::path::Path;

use serde::Deserialize;
use tokio::sync::mpsc::UnboundedSender;

use crate::faults::{FaultAction, Faults, PortChange};
use crate::ledger::Sim;

/// When an event fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The n-th round since genesis (1-based).
    Round(u64),
    /// The first round of `epoch` at or after `round` (0 = its first round).
    Epoch { epoch: u64, round: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub at: Trigger,
    pub action: FaultAction,
    /// Line of the `[[event]]` header in the file, for messages.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scenario {
    pub seed: Option<u64>,
    pub events: Vec<Event>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario file {path}: {error}")]
    // Not a `source`: the message already carries the OS error, and `{:#}` would repeat it.
    Read { path: String, error: std::io::Error },
    #[error("scenario file is not valid: {0}")]
    Syntax(String),
    #[error("scenario line {line} (event #{index}): {message}")]
    Event {
        line: usize,
        index: usize,
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    seed: Option<u64>,
    #[serde(default)]
    event: Vec<toml::Spanned<toml::Table>>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl Scenario {
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|error| ScenarioError::Read {
            path: path.display().to_string(),
            error,
        })?;
        Scenario::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        let raw: RawScenario = toml::from_str(text).map_err(|e| {
            ScenarioError::Syntax(format!(
                "{e}\nThe file takes an optional `seed = N` and [[event]] tables (see docs/simulator.md)."
            ))
        })?;
        let mut events = Vec::new();
        for (i, spanned) in raw.event.into_iter().enumerate() {
            let line = line_of(text, spanned.span().start);
            let err = |message: String| ScenarioError::Event {
                line,
                index: i + 1,
                message,
            };
            let mut table = spanned.into_inner();
            let mut take_u64 = |key: &str| -> Result<Option<u64>, ScenarioError> {
                match table.remove(key) {
                    None => Ok(None),
                    Some(toml::Value::Integer(n)) if n >= 0 => Ok(Some(n as u64)),
                    Some(other) => Err(err(format!(
                        "{key} must be a non-negative integer, not {other}"
                    ))),
                }
            };
            let at_round = take_u64("at_round")?;
            let at_epoch = take_u64("at_epoch")?;
            let round = take_u64("round")?;
            let at =
                match (at_round, at_epoch, round) {
                    (Some(0), None, None) => {
                        return Err(err(
                            "at_round counts rounds since genesis from 1; use at_round = 1 or more"
                                .into(),
                        ))
                    }
                    (Some(r), None, None) => Trigger::Round(r),
                    (None, Some(e), r) => Trigger::Epoch {
                        epoch: e,
                        round: r.unwrap_or(0),
                    },
                    (Some(_), Some(_), _) => {
                        return Err(err("give either at_round or at_epoch, not both".into()))
                    }
                    (Some(_), None, Some(_)) => return Err(err(
                        "`round` goes with at_epoch; with at_round give the absolute round only"
                            .into(),
                    )),
                    (None, None, _) => return Err(err(
                        "missing trigger: add at_round = N (rounds since genesis) or at_epoch = N"
                            .into(),
                    )),
                };
            let action: FaultAction = toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| {
                    err(format!(
                        "{}. Each event needs `action = \"...\"` (node_down, node_up, node_out_of_sync, node_in_sync, \
                         gateway_down, gateway_up, gateway_slow, gateway_failing, gateway_garbage, gateway_stale, \
                         gateway_healthy, submit_failing, core_lies, mempool_stall, gateway_lies_tx, system_api_down, \
                         system_api_up, validators_missing, validators_healthy, gateway_slow_pages, gateway_rate_limited, gateway_account_pages, node_silent, node_proposing, node_stuck, node_wrong_key, node_key_restored, node_flaky) and that action's fields only",
                        e.message().trim()
                    ))
                })?;
            events.push(Event { at, action, line });
        }
        Ok(Scenario {
            seed: raw.seed,
            events,
        })
    }

    /// Installs the events as a round hook on `sim`. Port changes go to `ports`.
    pub fn install(
        self,
        sim: &Sim,
        faults: std::sync::Arc<Faults>,
        ports: UnboundedSender<PortChange>,
    ) {
        let mut pending = self.events;
        let mut rounds_seen: u64 = 0;
        sim.add_round_hook(Box::new(move |sim, epoch, round| {
            rounds_seen += 1;
            let due = |t: &Trigger| match *t {
                Trigger::Round(r) => rounds_seen >= r,
                Trigger::Epoch { epoch: e, round: r } => epoch > e || (epoch == e && round >= r),
            };
            let mut i = 0;
            while i < pending.len() {
                if due(&pending[i].at) {
                    let ev = pending.remove(i);
                    tracing::info!(epoch, round, line = ev.line, action = ?ev.action, "scenario event");
                    match faults.apply(sim, &ev.action) {
                        Ok(Some(change)) => {
                            let _ = ports.send(change);
                        }
                        Ok(None) => {}
                        Err(e) => tracing::error!(line = ev.line, error = %e, "scenario event failed"),
                    }
                } else {
                    i += 1;
                }
            }
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let s = Scenario::parse(
            "seed = 7\n[[event]]\nat_round = 30\naction = \"node_down\"\nnode = \"primary\"\n\n[[event]]\nat_epoch = 5\nround = 2\naction = \"gateway_slow\"\nlatency_ms = 800\n",
        )
        .expect("example parses");
        assert_eq!(s.seed, Some(7));
        assert_eq!(s.events.len(), 2);
        assert_eq!(s.events[0].at, Trigger::Round(30));
        assert_eq!(
            s.events[0].action,
            FaultAction::NodeDown {
                node: "primary".into()
            }
        );
        assert_eq!(s.events[1].at, Trigger::Epoch { epoch: 5, round: 2 });
        assert_eq!(s.events[1].line, 7, "line of the second [[event]] header");
    }

    #[test]
    fn errors_name_the_line_and_the_fix() {
        let text = "[[event]]\nat_round = 3\naction = \"node_down\"\nnode = \"primary\"\n[[event]]\nat_round = 4\naction = \"gateway_slow\"\nlatency = 5\n";
        let e = Scenario::parse(text).expect_err("unknown key").to_string();
        assert!(e.contains("line 5") && e.contains("latency"), "{e}");
        let e = Scenario::parse("[[event]]\naction = \"gateway_down\"\n")
            .expect_err("no trigger")
            .to_string();
        assert!(e.contains("at_round"), "{e}");
        let e = Scenario::parse("[[event]]\nat_round = 1\naction = \"melt\"\n")
            .expect_err("bad action")
            .to_string();
        assert!(e.contains("melt") && e.contains("node_down"), "{e}");
        let e = Scenario::parse("sed = 1\n")
            .expect_err("unknown top-level key")
            .to_string();
        assert!(e.contains("sed"), "{e}");
    }
}
