//! Prints how long `tx::build_update_key` takes (build + notarize + offline validation +
//! decompile), to back the claim that the daemon can rebuild it whenever it likes.
//! Run: `cargo run --release -p radix-failover --example build_speed`

use std::time::Instant;

use radix_common::crypto::Ed25519PrivateKey;
use radix_common::network::NetworkDefinition;
use radix_common::types::{ComponentAddress, EntityType};
use radix_failover::config::{parse_secp256k1_public_key, Config};
use radix_failover::tx::{build_update_key, UpdateKeyRequest};

fn main() -> anyhow::Result<()> {
    let mut node_id = [9u8; 30];
    node_id[0] = EntityType::GlobalValidator as u8;
    let validator = ComponentAddress::try_from(node_id)
        .map_err(|e| anyhow::anyhow!("validator address: {e:?}"))?;
    let backup = parse_secp256k1_public_key(
        "029932e6683332a3c0d8cd2862c129e0c2501f45c17c88eecac27cc22baf7f80ed",
    )
    .map_err(anyhow::Error::msg)?;
    let config = Config::transaction_only(
        NetworkDefinition::mainnet(),
        validator,
        backup,
        "/unused".into(),
    );
    let key = Ed25519PrivateKey::from_u64(42).map_err(|_| anyhow::anyhow!("key"))?;
    let n = 1000u64;
    let start = Instant::now();
    for epoch in 0..n {
        let req = UpdateKeyRequest {
            new_key: backup,
            start_epoch: epoch,
            valid_epochs: 2,
            nonce: None,
        };
        build_update_key(&config, &key, &req)?;
    }
    let per = start.elapsed() / n as u32;
    println!("build_update_key: {n} builds, {per:?} per build");
    Ok(())
}
