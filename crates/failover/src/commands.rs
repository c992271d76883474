//! The subcommands: turn parsed arguments into domain values, call the library, print.

use std::io::{IsTerminal, Read, Write};

use anyhow::{bail, Context, Result};
use radix_common::crypto::PublicKey;
use zeroize::Zeroizing;

use radix_failover::config::{parse_secp256k1_public_key, Config};
use radix_failover::keyfile::write_key_file;
use radix_failover::keys::{self, account_address, derive_account_key, mnemonic_to_seed};
use radix_failover::network::parse_network;
use radix_failover::tx::{build_manifest, build_update_key, inspect, UpdateKeyRequest};

use crate::cli::{
    AlertsTestArgs, BadgeLockArgs, BadgeSecureArgs, ConfigCheckArgs, DeriveArgs, InspectArgs,
    UpdateKeyArgs,
};

/// Largest stdin we accept for a mnemonic (+ passphrase): 24 words of at most 8 letters plus
/// a long passphrase fit easily; more is not a mnemonic.
const MAX_SECRET_INPUT: u64 = 4096;

/// Mnemonic and optional passphrase, wiped on drop.
struct SecretInput {
    mnemonic: Zeroizing<String>,
    passphrase: Zeroizing<String>,
}

fn read_secrets(want_passphrase: bool) -> Result<SecretInput> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let mnemonic = Zeroizing::new(
            rpassword::prompt_password("Mnemonic (input hidden): ")
                .context("cannot read the mnemonic from the terminal")?,
        );
        let passphrase = if want_passphrase {
            Zeroizing::new(
                rpassword::prompt_password("BIP39 passphrase (input hidden): ")
                    .context("cannot read the passphrase from the terminal")?,
            )
        } else {
            Zeroizing::new(String::new())
        };
        return Ok(SecretInput {
            mnemonic,
            passphrase,
        });
    }
    let mut buf = Zeroizing::new(Vec::new());
    stdin
        .lock()
        .take(MAX_SECRET_INPUT + 1)
        .read_to_end(&mut buf)
        .context("cannot read the mnemonic from standard input")?;
    if buf.len() as u64 > MAX_SECRET_INPUT {
        bail!("standard input is longer than {MAX_SECRET_INPUT} bytes; it should hold only the mnemonic (and the passphrase line with --passphrase)");
    }
    let text = std::str::from_utf8(&buf).map_err(|_| {
        anyhow::anyhow!("standard input is not UTF-8 text; give the mnemonic words")
    })?;
    let mut lines = text.lines();
    let mnemonic = Zeroizing::new(lines.next().unwrap_or_default().to_string());
    let passphrase = if want_passphrase {
        Zeroizing::new(lines.next().unwrap_or_default().to_string())
    } else {
        Zeroizing::new(String::new())
    };
    Ok(SecretInput {
        mnemonic,
        passphrase,
    })
}

pub fn keys_derive(args: &DeriveArgs) -> Result<()> {
    let network = parse_network(&args.network).context("--network")?;
    if args.olympia && args.out.is_some() {
        bail!("--out writes the key file the daemon notarizes with, which must hold an Ed25519 (Babylon account) key; an Olympia secp256k1 key cannot be used there. Fix: drop --olympia to derive the Babylon account key, or drop --out to only display the Olympia key");
    }
    let secrets = read_secrets(args.passphrase)?;
    let mnemonic = keys::parse_mnemonic(&secrets.mnemonic)?;
    let seed = mnemonic_to_seed(&mnemonic, &secrets.passphrase);
    drop(mnemonic);
    drop(secrets);
    let key = derive_account_key(&seed, network.id, args.index, args.olympia)?;
    drop(seed);

    if let Some(out) = &args.out {
        write_key_file(out, key.private_key_bytes(), args.force)?;
        tracing::info!(path = %out.display(), "key file written (mode 0600)");
    }

    let address = key.account_address(&network);
    let stdout = std::io::stdout();
    let mut o = stdout.lock();
    if args.json {
        let mut v = serde_json::json!({
            "path": key.path.to_string(),
            "public_key": key.public_key_hex(),
            "account_address": address,
        });
        if args.show_private_key {
            v["private_key"] = serde_json::Value::String(key.private_key_hex().to_string());
        }
        let text = Zeroizing::new(serde_json::to_string_pretty(&v)?);
        // The JSON value itself is a normal allocation; wipe its private-key string too.
        if let Some(serde_json::Value::String(s)) = v.get_mut("private_key") {
            zeroize::Zeroize::zeroize(s);
        }
        writeln!(o, "{}", text.as_str())?;
    } else {
        writeln!(o, "path:            {}", key.path)?;
        writeln!(
            o,
            "curve:           {}",
            match key.curve {
                keys::Curve::Ed25519 => "Ed25519",
                keys::Curve::Secp256k1 => "secp256k1 (Olympia)",
            }
        )?;
        writeln!(
            o,
            "network:         {} (id {})",
            network.logical_name, network.id
        )?;
        writeln!(o, "public key:      {}", key.public_key_hex())?;
        writeln!(o, "account address: {address}")?;
        if args.show_private_key {
            writeln!(o, "private key:     {}", key.private_key_hex().as_str())?;
        }
        if let Some(out) = &args.out {
            writeln!(o, "key file:        {} (mode 0600)", out.display())?;
        }
    }
    Ok(())
}

pub fn config_check(args: &ConfigCheckArgs) -> Result<()> {
    let config = Config::load(&args.config)?;
    // A config with sources is for watching, and must be able to fail over; one with none
    // is for the offline commands (`tx`) alone.
    if config.watches_anything() {
        config.require_reach()?;
    }
    let key = config.load_notary_key()?;
    let public = PublicKey::Ed25519(key.public_key());
    let account = account_address(&public, &config.network);
    // Compile the manifest now (template included), so a template error shows before an outage.
    let account_id =
        radix_common::types::ComponentAddress::preallocated_account_from_public_key(&public);
    build_manifest(&config, account_id, &config.backup_public_key)?;
    drop(key);
    let warnings = config.warnings();
    let reports = if args.connect {
        Some(connect_all(&config)?)
    } else {
        None
    };

    let stdout = std::io::stdout();
    let mut o = stdout.lock();
    if args.json {
        let mut v = serde_json::Map::new();
        for (k, val) in config.describe() {
            v.insert(k.to_string(), serde_json::Value::String(val));
        }
        v.insert("network_id".into(), config.network.id.into());
        v.insert("account_address".into(), account.into());
        v.insert(
            "notary_public_key".into(),
            keys::public_key_hex(&public).into(),
        );
        v.insert("warnings".into(), serde_json::json!(warnings));
        if let Some(r) = &reports {
            v.insert("connect".into(), serde_json::to_value(r)?);
        }
        writeln!(o, "{}", serde_json::to_string_pretty(&v)?)?;
    } else {
        writeln!(o, "config {} is valid", args.config.display())?;
        for (k, val) in config.describe() {
            writeln!(o, "{:<18} {val}", format!("{k}:"))?;
        }
        writeln!(o, "{:<18} {account}", "account_address:")?;
        writeln!(
            o,
            "{:<18} {}",
            "notary_public_key:",
            keys::public_key_hex(&public)
        )?;
        for w in &warnings {
            writeln!(o, "WARNING: {w}")?;
        }
        for r in reports.iter().flatten() {
            print_report(&mut o, r)?;
        }
    }
    let failed = reports
        .iter()
        .flatten()
        .filter(|r| r.answer.is_err())
        .count();
    if failed > 0 {
        bail!(
            "{failed} of {} sources failed to connect (see above for each problem and its fix)",
            reports.map(|r| r.len()).unwrap_or_default()
        );
    }
    Ok(())
}

fn connect_all(config: &Config) -> Result<Vec<radix_failover::sources::ConnectReport>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let sources =
        radix_failover::sources::Sources::new(config).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(rt.block_on(sources.connect_report()))
}

fn print_report(o: &mut impl Write, r: &radix_failover::sources::ConnectReport) -> Result<()> {
    let verdict = if r.answer.is_ok() { "OK" } else { "FAILED" };
    writeln!(o, "connect {}: {verdict} ({})", r.name, r.url)?;
    writeln!(o, "  tls:    {}", r.tls)?;
    writeln!(o, "  auth:   {}", r.auth)?;
    match &r.answer {
        Ok(a) => writeln!(o, "  answer: {a}")?,
        Err(e) => writeln!(o, "  error:  {e}")?,
    }
    if let Some(f) = &r.fix {
        writeln!(o, "  fix:    {f}")?;
    }
    Ok(())
}

pub fn tx_update_key(args: &UpdateKeyArgs) -> Result<()> {
    let config = Config::load(&args.config)?;
    let key = config.load_notary_key()?;
    let new_key = match &args.to_key {
        Some(hex) => parse_secp256k1_public_key(hex).map_err(|problem| {
            anyhow::anyhow!("--to-key {hex:?}: {problem}; fix: give a compressed secp256k1 key as 66 hex characters (a node's /identity public_key_hex)")
        })?,
        None => config.backup_public_key,
    };
    let req = UpdateKeyRequest {
        new_key,
        start_epoch: args.epoch,
        valid_epochs: args.valid_epochs,
        nonce: args.nonce,
    };
    let built = build_update_key(&config, &key, &req)?;
    drop(key);

    let stdout = std::io::stdout();
    let mut o = stdout.lock();
    if args.json {
        writeln!(o, "{}", serde_json::to_string_pretty(&built.to_json())?)?;
        return Ok(());
    }
    writeln!(
        o,
        "network:             {} (id {})",
        built.network.logical_name, built.network.id
    )?;
    writeln!(o, "validator:           {}", built.validator_address)?;
    writeln!(o, "account (notary):    {}", built.account_address)?;
    writeln!(o, "new key:             {}", built.new_key_hex())?;
    writeln!(
        o,
        "epochs:              {} (inclusive) to {} (exclusive)",
        built.start_epoch_inclusive(),
        built.end_epoch_exclusive()
    )?;
    writeln!(
        o,
        "nonce:               {} ({})",
        built.nonce(),
        if args.nonce.is_some() {
            "given"
        } else {
            "derived"
        }
    )?;
    writeln!(o, "intent hash:         {}", built.intent_hash_bech32)?;
    writeln!(o, "validated offline:   yes")?;
    writeln!(o, "--- manifest ---")?;
    write!(o, "{}", built.manifest)?;
    if !built.manifest.ends_with('\n') {
        writeln!(o)?;
    }
    writeln!(o, "--- notarized transaction (hex) ---")?;
    writeln!(o, "{}", built.notarized_hex())?;
    Ok(())
}

/// Largest hex input accepted by `tx inspect`: a failover transaction is well under 1 KB;
/// 1 MB leaves room for hand-written templates with many instructions.
const MAX_INSPECT_HEX: u64 = 1 << 20;

pub fn tx_inspect(args: &InspectArgs) -> Result<()> {
    let network = parse_network(&args.network).context("--network")?;
    let text = match &args.hex {
        Some(h) => h.clone(),
        None => {
            let mut s = String::new();
            std::io::stdin()
                .lock()
                .take(MAX_INSPECT_HEX)
                .read_to_string(&mut s)
                .context("cannot read the transaction hex from standard input")?;
            s
        }
    };
    let bytes = hex::decode(text.trim()).map_err(|e| {
        anyhow::anyhow!("the input is not hex ({e}); fix: give the notarized_transaction_hex value")
    })?;
    let t = inspect(&bytes, &network)?;
    let h = &t.header;
    let stdout = std::io::stdout();
    let mut o = stdout.lock();
    if args.json {
        let v = serde_json::json!({
            "network_id": h.network_id,
            "intent_hash": t.intent_hash_bech32,
            "start_epoch_inclusive": h.start_epoch_inclusive.number(),
            "end_epoch_exclusive": h.end_epoch_exclusive.number(),
            "nonce": h.nonce,
            "notary_public_key": keys::public_key_hex(&h.notary_public_key),
            "notary_is_signatory": h.notary_is_signatory,
            "tip_percentage": h.tip_percentage,
            "manifest": t.manifest,
        });
        writeln!(o, "{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(());
    }
    writeln!(
        o,
        "valid (offline):     yes, for {} (id {})",
        network.logical_name, network.id
    )?;
    writeln!(o, "intent hash:         {}", t.intent_hash_bech32)?;
    writeln!(
        o,
        "epochs:              {} (inclusive) to {} (exclusive)",
        h.start_epoch_inclusive.number(),
        h.end_epoch_exclusive.number()
    )?;
    writeln!(o, "nonce:               {}", h.nonce)?;
    writeln!(
        o,
        "notary:              {} (signatory: {})",
        keys::public_key_hex(&h.notary_public_key),
        h.notary_is_signatory
    )?;
    writeln!(o, "tip:                 {}%", h.tip_percentage)?;
    writeln!(o, "--- manifest ---")?;
    write!(o, "{}", t.manifest)?;
    Ok(())
}

/// `radix-failover alerts test`: one test alert to each channel, each result printed.
pub fn alerts_test(args: &AlertsTestArgs) -> Result<()> {
    let config = Config::load(&args.config)?;
    let Some(alerts) = config.alerts.clone() else {
        bail!(
            "{}: no [alerts] section, so there is no channel to test; fix: add one (docs/config.md, [alerts]), e.g. [alerts] webhook = {{ url = \"https://...\" }}",
            args.config.display()
        );
    };
    // The test comes from this watcher, as every alert names it.
    let from = alerts.watcher.clone();
    let alerter = radix_failover::alerts::Alerter::new(
        alerts,
        &config.validator_bech32(),
        config.network.logical_name.as_ref(),
    );
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let results = rt.block_on(alerter.test_each_channel(&from, now_ms));
    if results.is_empty() {
        bail!(
            "{}: the [alerts] section names no channel; fix: add webhook, slack, discord, telegram or pagerduty",
            args.config.display()
        );
    }
    let stdout = std::io::stdout();
    let mut o = stdout.lock();
    let mut failed = 0;
    for (channel, result) in &results {
        match result {
            Ok(()) => writeln!(o, "{channel}: test alert delivered")?,
            Err(why) => {
                failed += 1;
                writeln!(o, "{channel}: FAILED: {why}")?;
            }
        }
    }
    if failed > 0 {
        bail!(
            "{failed} of {} alert channel(s) failed the test",
            results.len()
        );
    }
    Ok(())
}

/// `badge secure`: the access-controller manifest on stdout, the steps on stderr.
pub fn badge_secure(args: &BadgeSecureArgs) -> Result<()> {
    use radix_common::prelude::{AddressBech32Encoder, ComponentAddress};
    use radix_failover::badge::{self, SecureRequest};

    let config = Config::load(&args.config)?;
    let key = config.load_notary_key()?;
    let daemon_key = PublicKey::Ed25519(key.public_key());
    drop(key);
    let account = ComponentAddress::preallocated_account_from_public_key(&daemon_key);
    let enc = AddressBech32Encoder::new(&config.network);
    let account_text = enc
        .encode(account.as_node_id().as_bytes())
        .unwrap_or_default();
    let recovery = badge::parse_holder(&args.recovery, &config.network)
        .map_err(|e| anyhow::anyhow!("--recovery: {e}"))?;
    let confirmation = args
        .confirmation
        .as_deref()
        .map(|c| badge::parse_holder(c, &config.network))
        .transpose()
        .map_err(|e| anyhow::anyhow!("--confirmation: {e}"))?;
    for (flag, h) in [
        ("--recovery", Some(&recovery)),
        ("--confirmation", confirmation.as_ref()),
    ] {
        if let Some(badge::RoleHolder::Account { address, .. }) = h {
            if *address == account_text {
                bail!("{flag} {address} is the daemon key's own account: a stolen hot key could then recover the controller too; fix: give your cold account (a wallet or Ledger account that is not on the watcher host)");
            }
        }
    }
    let recovery_fee_xrd: radix_common::math::Decimal =
        args.recovery_fee_xrd.trim().parse().map_err(|_| {
            anyhow::anyhow!(
                "--recovery-fee-xrd {:?} is not an amount of XRD; give a decimal number such as 30 (0: no recovery fee vault)",
                args.recovery_fee_xrd
            )
        })?;
    let req = SecureRequest {
        network: config.network.clone(),
        validator: config.validator,
        account,
        daemon_key,
        recovery: recovery.clone(),
        confirmation: confirmation.clone(),
        timed_recovery_days: args.timed_recovery_days,
        fee_xrd: config.fee_lock_xrd,
        recovery_fee_xrd,
    };
    let m = badge::secure_manifest(&req).map_err(|e| anyhow::anyhow!("{e}"))?;
    print!("{}", m.text);
    let net = &config.network;
    let confirmation_text = confirmation
        .as_ref()
        .map(|c| c.describe(net))
        .unwrap_or_else(|| format!("{} (as recovery)", recovery.describe(net)));
    let timed = match args.timed_recovery_days {
        Some(d) => format!("a recovery proposed by the recovery role alone completes after {d} days unless the confirmation role stops it"),
        None => "every recovery needs the confirmation role too (no timed recovery)".into(),
    };
    eprintln!(
        r#"
This manifest (checked with the official compiler) takes the owner badge of {validator}
from {account_text}, where it is now, and puts it in a new access controller:
  primary role:      the daemon's key (its signature): it can create a proof of the badge, so
                     update_key and the other owner methods, but it cannot take the badge out;
  recovery role:     {recovery}: it can lock the primary role and propose new rules;
  confirmation role: {confirmation_text}; {timed}.
The fee ({fee} XRD) is locked from {account_text}. {vault}

Steps:
  1. Save the manifest: radix-failover badge secure ... > secure-badge.rtm
  2. Sign and submit it from a wallet that holds {account_text} (the account of the daemon's
     key; import its mnemonic), e.g. the Radix Dashboard's "send raw transaction" page.
  3. When it has committed, read the new access controller's address (accesscontroller_...)
     in the transaction's details.
  4. Add to the config (the built-in failover manifest then locks the fee from
     {account_text}, calls the controller's create_proof and update_key), then run
     radix-failover config check and restart the daemon:
     badge_holder = "accesscontroller_..."
     Pre-flight then checks that the controller holds the badge, that the daemon's key is its
     primary role, that the role is not locked and that no recovery is in progress.
  5. Keep the recovery key cold. If the authority tripwire ever reports a change you did not
     make, run radix-failover badge lock and sign what it prints with the recovery key: the
     stolen hot key can then prove nothing; recover the controller with a new hot key.
"#,
        validator = config.validator_bech32(),
        recovery = recovery.describe(net),
        fee = config.fee_lock_xrd,
        vault = recovery_fee_vault_text(&recovery_fee_xrd, &account_text),
    );
    Ok(())
}

/// What `badge secure` says of the controller's recovery fee vault.
fn recovery_fee_vault_text(xrd: &radix_common::math::Decimal, account: &str) -> String {
    if xrd.is_zero() {
        return "The controller's recovery fee vault is not\nfunded (--recovery-fee-xrd 0): a recovery transaction pays its own fee from an account.".into();
    }
    format!(
        "{xrd} XRD more go from {account} into the\ncontroller's recovery fee vault: any role can lock a fee from it (badge lock\n--fee-from-controller), so a cold recovery account needs no XRD. The primary role can\nwithdraw it, so a thief of the hot key could empty it: the tripwire alerts if it shrinks."
    )
}

/// `badge lock`: the manifest that locks the primary role of the controller in `badge_holder`,
/// for the recovery key to sign (stdout), and what it does (stderr).
pub fn badge_lock(args: &BadgeLockArgs) -> Result<()> {
    use radix_failover::badge::{self, LockRequest};

    let config = Config::load(&args.config)?;
    let Some(controller) = config.badge_holder else {
        bail!("{}: badge_holder is not set, so there is no access controller to lock; fix: set badge_holder to the controller `badge secure` created (with the badge in a plain account, move the badge to a safe account with your wallet instead)", args.config.display());
    };
    let recovery = badge::parse_holder(&args.recovery, &config.network)
        .map_err(|e| anyhow::anyhow!("--recovery: {e}"))?;
    let fee_account = match (&recovery, &args.fee_account) {
        (_, Some(a)) => badge::parse_account(a, &config.network)
            .map_err(|e| anyhow::anyhow!("--fee-account: {e}"))?,
        (badge::RoleHolder::Account { address, .. }, None) => {
            badge::parse_account(address.as_str(), &config.network).map_err(|e| anyhow::anyhow!("{e}"))?
        }
        (_, None) => bail!("--recovery {} is a badge, not an account: give --fee-account, the account that holds the badge (and pays the fee unless --fee-from-controller)", args.recovery),
    };
    let fee_source = if args.fee_from_controller {
        "from the controller's recovery fee vault".to_string()
    } else {
        format!(
            "from {}",
            badge::address_text(&fee_account, &config.network)
        )
    };
    let req = LockRequest {
        network: config.network.clone(),
        controller,
        recovery: recovery.clone(),
        fee_account,
        fee_xrd: config.fee_lock_xrd,
        fee_from_controller: args.fee_from_controller,
    };
    let m = badge::lock_manifest(&req).map_err(|e| anyhow::anyhow!("{e}"))?;
    print!("{}", m.text);
    let net = &config.network;
    eprintln!(
        r#"
This manifest (checked with the official compiler) calls lock_primary_role on the access
controller {controller} that holds the owner badge of {validator}. Sign it with the recovery
role: {recovery} (the fee, {fee} XRD, is locked {fee_source}).

Once it commits:
  - the primary role (the daemon's hot key) can no longer create a proof of the badge: a thief
    holding the hot key can call no owner method, and the daemon's automatic failover is
    disabled (pre-flight says so, with an alert);
  - the badge stays in the controller; only the recovery role can unlock the primary role
    (unlock_primary_role) or, better after a theft, recover the controller with a new hot
    key as the primary role (initiate_recovery_as_recovery, then a confirmation or the
    timed recovery delay), and move the stolen key's XRD away.
"#,
        controller = badge::address_text(&controller, net),
        validator = config.validator_bech32(),
        recovery = recovery.describe(net),
        fee = config.fee_lock_xrd,
    );
    Ok(())
}
