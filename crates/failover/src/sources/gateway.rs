//! Gateway API client: the ledger as a gateway sees it, our validator's keys, finished-epoch
//! uptime, submit and status; plus the account and preview calls the pre-flight checks use.

use std::sync::atomic::Ordering;

use radix_api::gateway as gw;

use super::http::{endpoint, http_error, Answer};
use super::{unknown, LedgerClient};
use crate::observe::{
    FeeChangeRequest, FinishedEpochs, LedgerReading, ProposalCounts, SourceError, SubmitAnswer,
    TxStatus, ValidatorSettings,
};

/// Most pages followed per listing of an account (its fungible resources, its non-fungible
/// resources, one vault's ids): 10,000 entries at the gateway's default page size of 100, far
/// more than a real account; a source that keeps sending cursors past this is broken or hostile.
const MAX_ACCOUNT_PAGES: usize = 100;

/// Most validator-list pages followed: mainnet lists a few hundred validators in a handful of
/// pages; a source that keeps sending cursors past this is broken or hostile.
const MAX_LIST_PAGES: usize = 50;

/// What the validator list said about our validator last, and at which epoch: the keys it
/// gives change only at an epoch change (the key in force) or by a transaction (the key on
/// ledger: ours, while a key change is expected), so between those a poll reads only the
/// small `/status/gateway-status` for the ledger's position and freshness.
///
/// Why: the public gateway serves every validator in one list (about 100 on mainnet, tens of
/// kilobytes); read on every 5-second poll that is hundreds of megabytes an hour against a
/// shared public service. Caveat: a key change made outside this daemon (by hand, another
/// tool) shows on the gateway at the next epoch change; the Core API sources read the key on
/// ledger on every poll and see it at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ListCache {
    pub epoch: u64,
    pub key_in_force: Option<String>,
    pub key_on_ledger: Option<String>,
    pub settings: Option<ValidatorSettings>,
}

/// Our validator's settings from the list item's `state` (the validator's state substate, as
/// the Core API shows it), or `None` if the gateway does not show them.
pub(super) fn settings_of(item: &gw::ValidatorCollectionItem) -> Option<ValidatorSettings> {
    #[derive(serde::Deserialize)]
    struct Fields {
        is_registered: bool,
        accepts_delegated_stake: bool,
        validator_fee_factor: String,
        #[serde(default)]
        validator_fee_change_request: Option<FeeChangeRequest>,
        #[serde(default)]
        pending_owner_stake_unit_withdrawals: Option<Vec<serde_json::Value>>,
        #[serde(default)]
        already_unlocked_owner_stake_unit_amount: Option<String>,
    }
    let f: Fields = serde_json::from_value(item.state.clone()?).ok()?;
    Some(ValidatorSettings {
        registered: f.is_registered,
        accepts_delegated_stake: f.accepts_delegated_stake,
        fee_factor: f.validator_fee_factor,
        fee_change: f.validator_fee_change_request,
        owner_stake_unlocks: match (
            &f.pending_owner_stake_unit_withdrawals,
            &f.already_unlocked_owner_stake_unit_amount,
        ) {
            (Some(w), Some(u)) => crate::tripwire::owner_stake_unlocks(w, u),
            _ => None,
        },
    })
}

/// Rule: the validator list is read at start (nothing cached), when the epoch changed since it
/// was read, and on every poll while a key change is expected.
pub(super) fn validator_list_due(
    cached_epoch: Option<u64>,
    epoch_now: u64,
    key_change_expected: bool,
) -> bool {
    key_change_expected || cached_epoch != Some(epoch_now)
}

/// A gateway error answer as a [`SourceError`]: `NotSyncedUpError` is `NotSynced`, anything else
/// `Http` with the gateway's message.
pub(super) fn error_of(ans: &Answer) -> SourceError {
    match serde_json::from_slice::<gw::ErrorResponse>(&ans.body) {
        Ok(e) => match e.details {
            Some(gw::GatewayError::NotSyncedUpError {
                current_sync_delay_seconds,
                max_allowed_sync_delay_seconds,
                ..
            }) => SourceError::NotSynced(format!(
                "{} (behind by {current_sync_delay_seconds} s, its limit is {max_allowed_sync_delay_seconds} s)",
                e.message
            )),
            _ => http_error(ans, Some(e.message)),
        },
        Err(_) => http_error(ans, None),
    }
}

impl LedgerClient {
    async fn gw_post<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, SourceError> {
        let what = format!("{} {path}", self.name);
        let ans = self
            .http
            .post(&endpoint(&self.base, path), body, &what)
            .await?;
        if !ans.is_success() {
            return Err(error_of(&ans));
        }
        ans.parse(&what)
    }

    fn check_network(&self, ls: &gw::LedgerState) -> Result<(), SourceError> {
        if ls.network == self.network {
            Ok(())
        } else {
            Err(SourceError::Malformed(format!(
                "{} is on network {:?}, the config says {:?}: point the source at a gateway of the configured network",
                self.name, ls.network, self.network
            )))
        }
    }

    /// Every page of `/state/validators/list` until our validator is found.
    pub(super) async fn gw_our_validator(
        &self,
    ) -> Result<(gw::LedgerState, gw::ValidatorCollectionItem), SourceError> {
        let mut req = gw::StateValidatorsListRequest::default();
        for _ in 0..MAX_LIST_PAGES {
            let page: gw::StateValidatorsListResponse =
                self.gw_post("/state/validators/list", &req).await?;
            self.check_network(&page.ledger_state)?;
            if let Some(item) = page
                .validators
                .items
                .into_iter()
                .find(|v| v.address == self.validator)
            {
                return Ok((page.ledger_state, item));
            }
            match page.validators.next_cursor {
                Some(c) if !c.is_empty() => {
                    // Later pages at the same ledger state, as the spec asks.
                    req.at_ledger_state = Some(gw::LedgerStateSelector {
                        state_version: Some(page.ledger_state.state_version),
                        ..Default::default()
                    });
                    req.cursor = Some(c);
                }
                _ => {
                    return Err(SourceError::Malformed(format!(
                        "{}: validator {} is not in the validator list; check `validator` in the config and that the gateway is on the right network",
                        self.name, self.validator
                    )))
                }
            }
        }
        Err(SourceError::Malformed(format!(
            "{}: the validator list has more than {MAX_LIST_PAGES} pages without our validator",
            self.name
        )))
    }

    /// The ledger's position now and our validator's keys: from `/status/gateway-status` and
    /// the cached validator list when that is still good ([`validator_list_due`]), else from
    /// the list itself.
    async fn gw_position_and_keys(&self) -> Result<(gw::LedgerState, ListCache), SourceError> {
        let expected = self.key_change_expected.load(Ordering::Relaxed);
        let cached = self
            .list_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(c) = cached.filter(|_| !expected) {
            let st: gw::GatewayStatusResponse = self
                .gw_post("/status/gateway-status", &serde_json::json!({}))
                .await?;
            self.check_network(&st.ledger_state)?;
            if !validator_list_due(Some(c.epoch), st.ledger_state.epoch, expected) {
                return Ok((st.ledger_state, c));
            }
        }
        let (ls, item) = self.gw_our_validator().await?;
        let c = ListCache {
            epoch: ls.epoch,
            key_in_force: item
                .active_in_epoch
                .as_ref()
                .map(|a| a.key.key_hex().to_ascii_lowercase()),
            key_on_ledger: item.ledger_public_key_hex().map(str::to_ascii_lowercase),
            settings: settings_of(&item),
        };
        *self.list_cache.lock().unwrap_or_else(|p| p.into_inner()) = Some(c.clone());
        Ok((ls, c))
    }

    pub(super) async fn gw_reading(&self) -> Result<LedgerReading, SourceError> {
        let (ls, keys) = self.gw_position_and_keys().await?;
        let ledger_time_ms = parse_timestamp_ms(&ls.proposer_round_timestamp).map_err(|e| {
            SourceError::Malformed(format!(
                "{}: proposer_round_timestamp {:?}: {e}",
                self.name, ls.proposer_round_timestamp
            ))
        })?;
        let finished = match self.gw_finished(ls.epoch).await {
            Ok(f) => f,
            // The legacy rule decides on these counts alone: without them the reading is useless.
            Err(e) if self.needs_finished => return Err(e),
            // The default policy only shows them; try again next poll.
            Err(e) => {
                tracing::debug!(source = %self.name, error = %e, "finished-epoch uptime unavailable");
                None
            }
        };
        Ok(LedgerReading {
            epoch: ls.epoch,
            round: ls.round,
            state_version: ls.state_version,
            ledger_time_ms,
            key_in_force: keys.key_in_force,
            key_on_ledger: keys.key_on_ledger,
            current_epoch: None,
            finished,
            others_current_epoch: None,
            settings: keys.settings,
        })
    }

    /// Our counts over the finished epochs of the window (`legacy_window_epochs` W, which
    /// includes the current epoch): epochs `current - W + 1 ..= current - 1`. Cached per
    /// epoch, since finished epochs do not change until the next epoch change.
    ///
    /// The gateway counts cumulative(at) − cumulative(first epoch ≥ from), i.e. the epochs
    /// *after* `from`, so we ask with `from = current - W`. `None` before any epoch finished.
    /// Caveat: if our validator has no emission record for epoch `from` (not active then), the
    /// gateway drops the first record after it, so the counts cover one epoch fewer than
    /// `from_epoch..=to_epoch` says (fewer misses seen, never more).
    async fn gw_finished(&self, current: u64) -> Result<Option<FinishedEpochs>, SourceError> {
        if current < 2 {
            return Ok(None);
        }
        if let Some((epoch, f)) = *self.uptime_cache.lock().unwrap_or_else(|p| p.into_inner()) {
            if epoch == current {
                return Ok(Some(f));
            }
        }
        let window = self.window_epochs.max(2);
        let from = current.saturating_sub(window);
        let req = gw::ValidatorsUptimeRequest {
            validator_addresses: Some(vec![self.validator.clone()]),
            from_ledger_state: (from >= 1).then(|| gw::LedgerStateSelector {
                epoch: Some(from),
                ..Default::default()
            }),
            at_ledger_state: None,
        };
        let resp: gw::ValidatorsUptimeResponse =
            self.gw_post("/statistics/validators/uptime", &req).await?;
        self.check_network(&resp.ledger_state)?;
        let item = resp
            .validators
            .items
            .iter()
            .find(|v| v.address == self.validator)
            .ok_or_else(|| {
                SourceError::Malformed(format!(
                    "{}: the uptime answer does not list validator {}",
                    self.name, self.validator
                ))
            })?;
        let counts = match (item.proposals_made, item.proposals_missed) {
            (Some(made), Some(missed)) => Some(ProposalCounts { made, missed }),
            _ => None,
        };
        let f = FinishedEpochs {
            from_epoch: (from + 1).max(1),
            to_epoch: current - 1,
            counts,
        };
        *self.uptime_cache.lock().unwrap_or_else(|p| p.into_inner()) = Some((current, f));
        Ok(Some(f))
    }

    pub(super) async fn gw_submit(&self, notarized_hex: &str) -> Result<SubmitAnswer, SourceError> {
        let what = format!("{} /transaction/submit", self.name);
        let req = gw::TransactionSubmitRequest {
            notarized_transaction_hex: notarized_hex.to_string(),
        };
        let ans = self
            .http
            .post(&endpoint(&self.base, "/transaction/submit"), &req, &what)
            .await?;
        if ans.is_success() {
            let r: gw::TransactionSubmitResponse = ans.parse(&what)?;
            return Ok(SubmitAnswer::Accepted {
                duplicate: r.duplicate,
            });
        }
        if (400..500).contains(&ans.status) {
            if let Ok(e) = serde_json::from_slice::<gw::ErrorResponse>(&ans.body) {
                if let Some(gw::GatewayError::InvalidTransactionError {}) = e.details {
                    // The gateway's word for "the network refuses this payload" (invalid,
                    // expired window, or an intent already committed: ask `status` which).
                    return Ok(SubmitAnswer::Rejected {
                        permanent: true,
                        message: e.message,
                    });
                }
            }
        }
        Err(error_of(&ans))
    }

    pub(super) async fn gw_status(&self, intent_hash: &str) -> Result<TxStatus, SourceError> {
        let req = gw::TransactionStatusRequest {
            intent_hash: intent_hash.to_string(),
        };
        let r: gw::TransactionStatusResponse = self.gw_post("/transaction/status", &req).await?;
        let status = tx_status_of(&r);
        unknown::note_tx_status(&self.name, &status);
        Ok(status)
    }

    /// `/state/entity/details` of `address`, with non-fungible ids, and the ledger state of
    /// the answer.
    async fn entity_details_at(
        &self,
        address: &str,
    ) -> Result<(gw::LedgerState, gw::StateEntityDetailsResponseItem), SourceError> {
        let req = gw::StateEntityDetailsRequest {
            addresses: vec![address.to_string()],
            aggregation_level: Some(gw::ResourceAggregationLevel::Vault),
            opt_ins: Some(gw::StateEntityDetailsOptIns {
                non_fungible_include_nfids: Some(true),
                explicit_metadata: None,
            }),
            at_ledger_state: None,
        };
        let r: gw::StateEntityDetailsResponse = self.gw_post("/state/entity/details", &req).await?;
        self.check_network(&r.ledger_state)?;
        let item = r
            .items
            .into_iter()
            .find(|i| i.address == address)
            .ok_or_else(|| {
                SourceError::Malformed(format!(
                    "{}: the entity details do not list {address}",
                    self.name
                ))
            })?;
        Ok((r.ledger_state, item))
    }

    /// Where the non-fungible `id` of `resource` is (`/state/non-fungible/location`): the
    /// global entity that owns its vault, or `None` when it is burned.
    pub async fn non_fungible_owner(
        &self,
        resource: &str,
        id: &str,
    ) -> Result<Option<String>, SourceError> {
        let req = gw::StateNonFungibleLocationRequest {
            at_ledger_state: None,
            resource_address: resource.to_string(),
            non_fungible_ids: vec![id.to_string()],
        };
        let r: gw::StateNonFungibleLocationResponse =
            self.gw_post("/state/non-fungible/location", &req).await?;
        self.check_network(&r.ledger_state)?;
        let item = r
            .non_fungible_ids
            .into_iter()
            .find(|i| i.non_fungible_id.eq_ignore_ascii_case(id))
            .ok_or_else(|| {
                SourceError::Malformed(format!(
                    "{}: the non-fungible location answer does not list {id}",
                    self.name
                ))
            })?;
        if item.is_burned {
            return Ok(None);
        }
        item.owning_vault_global_ancestor_address
            .map(Some)
            .ok_or_else(|| {
                SourceError::Malformed(format!(
                    "{}: {id} is not burned, and the answer names no owner of its vault",
                    self.name
                ))
            })
    }

    /// `/state/entity/details` of the account `address` with what the pre-flight reads in it
    /// read to the end: the gateway pages an account's fungible and non-fungible resources
    /// (100 a page by default; an account full of airdropped tokens has many pages) and a
    /// vault's non-fungible ids, so a first page without the owner badge or XRD says nothing.
    /// Followed: the resource lists' `next_cursor` (`/state/entity/page/fungibles/`,
    /// `/state/entity/page/non-fungibles/`) and, in the vaults of the resources in `wanted`,
    /// the ids' `next_cursor` (`/state/entity/page/non-fungible-vault/ids`); later pages at the
    /// first page's ledger state. An account keeps one vault per resource, so a `wanted`
    /// resource whose vault list itself says it is paged is an error, not a listing cut short.
    pub async fn account_details(
        &self,
        address: &str,
        wanted: &[&str],
    ) -> Result<gw::StateEntityDetailsResponseItem, SourceError> {
        let (ls, mut item) = self.entity_details_at(address).await?;
        let at = Some(gw::LedgerStateSelector {
            state_version: Some(ls.state_version),
            ..Default::default()
        });
        let next = |c: &mut Option<String>| c.take().filter(|c| !c.is_empty());
        let too_many = |what: &str| {
            SourceError::Malformed(format!(
                "{}: the {what} of {address} has more than {MAX_ACCOUNT_PAGES} pages",
                self.name
            ))
        };
        if let Some(f) = item.fungible_resources.as_mut() {
            let mut pages = 0;
            while let Some(cursor) = next(&mut f.next_cursor) {
                pages += 1;
                if pages > MAX_ACCOUNT_PAGES {
                    return Err(too_many("fungible resource list"));
                }
                let req = gw::StateEntityFungiblesPageRequest {
                    at_ledger_state: at.clone(),
                    cursor: Some(cursor),
                    limit_per_page: None,
                    address: address.to_string(),
                    aggregation_level: Some(gw::ResourceAggregationLevel::Vault),
                };
                let page: gw::StateEntityFungiblesPageResponse =
                    self.gw_post("/state/entity/page/fungibles/", &req).await?;
                self.check_network(&page.ledger_state)?;
                f.items.extend(page.resources.items);
                f.next_cursor = page.resources.next_cursor;
            }
        }
        if let Some(n) = item.non_fungible_resources.as_mut() {
            let mut pages = 0;
            while let Some(cursor) = next(&mut n.next_cursor) {
                pages += 1;
                if pages > MAX_ACCOUNT_PAGES {
                    return Err(too_many("non-fungible resource list"));
                }
                let req = gw::StateEntityNonFungiblesPageRequest {
                    at_ledger_state: at.clone(),
                    cursor: Some(cursor),
                    limit_per_page: None,
                    address: address.to_string(),
                    aggregation_level: Some(gw::ResourceAggregationLevel::Vault),
                    opt_ins: Some(gw::StateEntityNonFungiblesPageRequestOptIns {
                        non_fungible_include_nfids: Some(true),
                    }),
                };
                let page: gw::StateEntityNonFungiblesPageResponse = self
                    .gw_post("/state/entity/page/non-fungibles/", &req)
                    .await?;
                self.check_network(&page.ledger_state)?;
                n.items.extend(page.resources.items);
                n.next_cursor = page.resources.next_cursor;
            }
        }
        let vault_list_paged = |resource: &str| {
            SourceError::Malformed(format!(
                "{}: the vault list of {resource} in {address} says it has more pages; an account keeps one vault per resource",
                self.name
            ))
        };
        for f in item.fungible_resources.iter().flat_map(|c| &c.items) {
            if let gw::FungibleResourcesCollectionItem::Vault {
                resource_address,
                vaults,
            } = f
            {
                if wanted.contains(&resource_address.as_str())
                    && vaults.next_cursor.as_deref().is_some_and(|c| !c.is_empty())
                {
                    return Err(vault_list_paged(resource_address));
                }
            }
        }
        for n in item
            .non_fungible_resources
            .iter_mut()
            .flat_map(|c| &mut c.items)
        {
            let gw::NonFungibleResourcesCollectionItem::Vault {
                resource_address,
                vaults,
            } = n
            else {
                continue;
            };
            if !wanted.contains(&resource_address.as_str()) {
                continue;
            }
            if vaults.next_cursor.as_deref().is_some_and(|c| !c.is_empty()) {
                return Err(vault_list_paged(resource_address));
            }
            for v in &mut vaults.items {
                let mut pages = 0;
                while let Some(cursor) = next(&mut v.next_cursor) {
                    pages += 1;
                    if pages > MAX_ACCOUNT_PAGES {
                        return Err(too_many(&format!("id list of vault {}", v.vault_address)));
                    }
                    let req = gw::StateEntityNonFungibleIdsPageRequest {
                        at_ledger_state: at.clone(),
                        cursor: Some(cursor),
                        limit_per_page: None,
                        address: address.to_string(),
                        vault_address: v.vault_address.clone(),
                        resource_address: resource_address.clone(),
                    };
                    let page: gw::StateEntityNonFungibleIdsPageResponse = self
                        .gw_post("/state/entity/page/non-fungible-vault/ids", &req)
                        .await?;
                    self.check_network(&page.ledger_state)?;
                    v.items.get_or_insert_with(Vec::new).extend(page.items);
                    v.next_cursor = page.next_cursor;
                }
            }
        }
        Ok(item)
    }

    /// `/transaction/preview`.
    pub async fn preview(
        &self,
        req: &gw::TransactionPreviewRequest,
    ) -> Result<gw::TransactionPreviewResponse, SourceError> {
        self.gw_post("/transaction/preview", req).await
    }
}

/// RFC 3339 / ISO 8601 (what the gateway prints, e.g. `2024-05-01T12:00:00.123Z`) to unix ms.
pub(super) fn parse_timestamp_ms(s: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.timestamp_millis())
        .map_err(|e| format!("not an RFC 3339 timestamp ({e})"))
}

/// A gateway status answer as a [`TxStatus`], with the most specific error message it carries.
pub(super) fn tx_status_of(r: &gw::TransactionStatusResponse) -> TxStatus {
    let message = || {
        r.error_message
            .clone()
            .or_else(|| {
                r.known_payloads.iter().find_map(|p| {
                    p.error_message
                        .clone()
                        .or_else(|| p.latest_error_message.clone())
                })
            })
            .unwrap_or_else(|| r.intent_status_description.clone())
    };
    use gw::TransactionIntentStatus as I;
    match &r.intent_status {
        I::CommittedSuccess => TxStatus::CommittedSuccess,
        I::CommittedFailure => TxStatus::CommittedFailure { message: message() },
        I::PermanentlyRejected => TxStatus::PermanentlyRejected { message: message() },
        I::LikelyButNotCertainRejection => TxStatus::LikelyRejected { message: message() },
        I::Pending | I::CommitPendingOutcomeUnknown => TxStatus::Pending,
        I::Unknown => TxStatus::NotSeen,
        I::Other(raw) => TxStatus::Other {
            raw: unknown::clip(raw),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_validator_list_is_read_at_start_per_epoch_and_while_a_key_change_is_expected() {
        // Start: nothing cached.
        assert!(validator_list_due(None, 7, false));
        // Same epoch: the cached keys are still the list's.
        assert!(!validator_list_due(Some(7), 7, false));
        // A new epoch: the key in force may have changed.
        assert!(validator_list_due(Some(7), 8, false));
        // A failover in flight: read it every poll, to see our commit land.
        assert!(validator_list_due(Some(7), 7, true));
    }

    #[test]
    fn timestamps_parse_with_and_without_fraction_and_offset() {
        assert_eq!(parse_timestamp_ms("1970-01-01T00:00:01.250Z"), Ok(1250));
        assert_eq!(parse_timestamp_ms("1970-01-01T00:00:01Z"), Ok(1000));
        assert_eq!(parse_timestamp_ms("1970-01-01T01:00:01+01:00"), Ok(1000));
        assert!(parse_timestamp_ms("yesterday").is_err());
        assert!(parse_timestamp_ms("").is_err());
    }

    #[test]
    fn every_gateway_intent_status_maps_and_keeps_the_engine_message() {
        let status = |intent: &str, error: Option<&str>, payload_error: Option<&str>| {
            let r: gw::TransactionStatusResponse = serde_json::from_value(serde_json::json!({
                "ledger_state": {"network": "simulator", "state_version": 1,
                    "proposer_round_timestamp": "2024-01-01T00:00:00.000Z", "epoch": 1, "round": 1},
                "status": "Unknown", "intent_status": intent,
                "intent_status_description": "described",
                "known_payloads": [{"payload_hash": "p", "status": "Unknown", "error_message": payload_error}],
                "error_message": error
            }))
            .expect("a spec-shaped answer");
            tx_status_of(&r)
        };
        let m = |s: &str| s.to_string();
        assert_eq!(
            status("CommittedSuccess", None, None),
            TxStatus::CommittedSuccess
        );
        assert_eq!(
            status("CommittedFailure", Some("engine says no"), Some("payload")),
            TxStatus::CommittedFailure {
                message: m("engine says no")
            }
        );
        assert_eq!(
            status("PermanentlyRejected", None, Some("expired")),
            TxStatus::PermanentlyRejected {
                message: m("expired")
            }
        );
        assert_eq!(
            status("LikelyButNotCertainRejection", None, None),
            TxStatus::LikelyRejected {
                message: m("described")
            }
        );
        assert_eq!(status("Pending", None, None), TxStatus::Pending);
        assert_eq!(
            status("CommitPendingOutcomeUnknown", None, None),
            TxStatus::Pending
        );
        assert_eq!(status("Unknown", None, None), TxStatus::NotSeen);
        // A status a newer gateway may send: kept with its text, neither a commit nor a
        // rejection (it was a malformed answer before).
        assert_eq!(
            status("CommittedOnAnotherShard", Some("x"), None),
            TxStatus::Other {
                raw: m("CommittedOnAnotherShard")
            }
        );
    }

    #[test]
    fn a_status_answer_with_unknown_payload_statuses_is_still_an_answer() {
        let r: gw::TransactionStatusResponse = serde_json::from_value(serde_json::json!({
            "ledger_state": {"network": "simulator", "state_version": 1,
                "proposer_round_timestamp": "2024-01-01T00:00:00.000Z", "epoch": 1, "round": 1},
            "status": "Deferred", "intent_status": "Pending",
            "intent_status_description": "described",
            "known_payloads": [{"payload_hash": "p", "status": "Deferred",
                "payload_status": "Queued", "handling_status": "Escalated"}]
        }))
        .expect("unknown payload, handling and overall statuses parse");
        assert_eq!(tx_status_of(&r), TxStatus::Pending);
    }

    #[test]
    fn not_synced_error_is_recognised() {
        let body = serde_json::json!({
            "message": "The Network Gateway is not synced up",
            "code": 500,
            "details": {"type": "NotSyncedUpError", "request_type": "Read",
                        "current_sync_delay_seconds": 600, "max_allowed_sync_delay_seconds": 60}
        });
        let ans = Answer {
            status: 500,
            body: body.to_string().into_bytes(),
        };
        assert!(matches!(error_of(&ans), SourceError::NotSynced(m) if m.contains("600 s")));
        let ans = Answer {
            status: 502,
            body: b"<html>Bad gateway</html>".to_vec(),
        };
        assert_eq!(
            error_of(&ans),
            SourceError::Http {
                status: 502,
                message: "<html>Bad gateway</html>".into()
            }
        );
    }
}
