//! `/transaction/preview`: execute a manifest against the current state without
//! committing it.

use radix_transactions::validation::TransactionValidator;

use super::engine::Engine;
use super::types::{PreviewOutcome, PreviewRequest};
use super::SimError;

pub(crate) fn run(
    _engine: &Engine,
    _validator: &TransactionValidator,
    _req: &PreviewRequest,
    _epoch: u64,
) -> Result<PreviewOutcome, SimError> {
    Err(SimError::BadPreview(
        "preview is not implemented yet".into(),
    ))
}
