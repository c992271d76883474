//! End-to-end tests of the real `radix-failover` binary: stdin/stdout, files, exit codes.
//! Expected keys come from the official vector files, not from this crate.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use radix_common::network::NetworkDefinition;
use radix_common::types::{ComponentAddress, EntityType};
use radix_failover::keys::encode_address;
use radix_failover::tx::decode_notarized;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_radix-failover");
const BACKUP: &str = "029932e6683332a3c0d8cd2862c129e0c2501f45c17c88eecac27cc22baf7f80ed";
const PRIMARY: &str = "02ce938064729003a391c5bbf50c5b1968958eb2dd56c8f22c8accdf7502cc3004";

fn vectors(name: &str) -> Value {
    let p = format!(
        "{}/../../specs/test-vectors/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&fs::read_to_string(p).unwrap()).unwrap()
}

/// The CAP-26 Ed25519 vector set (network 12): mnemonic and tests.
fn cap26() -> (String, Vec<Value>) {
    let v = vectors("cap26_curve25519.json");
    (
        v["mnemonic"].as_str().unwrap().to_string(),
        v["tests"].as_array().unwrap().clone(),
    )
}

fn run(args: &[&str], stdin: &str, cwd: &Path) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The binary may exit before reading stdin (e.g. on a bad flag): a broken pipe is fine.
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child.wait_with_output().unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "failed: {}\n{}", out(&o), err(&o));
    o
}

fn fails(o: Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(1),
        "expected failure: {}\n{}",
        out(&o),
        err(&o)
    );
    err(&o)
}

fn vector_for(tests: &[Value], key_kind: u64, index: u64) -> &Value {
    tests
        .iter()
        .find(|t| t["keyKind"] == key_kind && t["entityKind"] == 525 && t["entityIndex"] == index)
        .unwrap()
}

#[test]
fn derive_from_stdin_matches_vectors_and_hides_private_key() {
    let dir = tempfile::tempdir().unwrap();
    let (mnemonic, tests) = cap26();
    for index in [0u64, 1, 3] {
        let t = vector_for(&tests, 1460, index);
        let o = ok(run(
            &[
                "keys",
                "derive",
                "--network",
                "12",
                "--index",
                &index.to_string(),
            ],
            &format!("{mnemonic}\n"),
            dir.path(),
        ));
        let s = out(&o);
        assert!(s.contains(t["publicKey"].as_str().unwrap()), "{s}");
        assert!(
            s.contains(&format!("m/44'/1022'/12'/525'/1460'/{index}'")),
            "{s}"
        );
        assert!(s.contains("account_tdx_c_1"), "{s}");
        let private = t["privateKey"].as_str().unwrap();
        assert!(!s.contains(private) && !err(&o).contains(private));
        assert!(!s.contains("equip") && !err(&o).contains("equip"));
    }
}

#[test]
fn derive_json_exact_fields_and_private_key_only_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let (mnemonic, tests) = cap26();
    let t = vector_for(&tests, 1460, 2);
    let args = [
        "keys",
        "derive",
        "--network",
        "12",
        "--index",
        "2",
        "--json",
    ];
    let v: Value = serde_json::from_slice(&ok(run(&args, &mnemonic, dir.path())).stdout).unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["account_address", "path", "public_key"]);
    assert_eq!(v["public_key"], t["publicKey"]);
    assert_eq!(v["path"], "m/44'/1022'/12'/525'/1460'/2'");

    let mut with = args.to_vec();
    with.push("--show-private-key");
    let v: Value = serde_json::from_slice(&ok(run(&with, &mnemonic, dir.path())).stdout).unwrap();
    assert_eq!(v["private_key"], t["privateKey"]);
    let o = ok(run(
        &[
            "keys",
            "derive",
            "--network",
            "12",
            "--index",
            "2",
            "--show-private-key",
        ],
        &mnemonic,
        dir.path(),
    ));
    assert!(out(&o).contains(t["privateKey"].as_str().unwrap()));
}

#[test]
fn derive_networks_and_olympia() {
    let dir = tempfile::tempdir().unwrap();
    let (mnemonic, _) = cap26();
    let v: Value = serde_json::from_slice(
        &ok(run(&["keys", "derive", "--json"], &mnemonic, dir.path())).stdout,
    )
    .unwrap();
    assert_eq!(v["path"], "m/44'/1022'/1'/525'/1460'/0'");
    assert!(v["account_address"]
        .as_str()
        .unwrap()
        .starts_with("account_rdx1"));
    let s: Value = serde_json::from_slice(
        &ok(run(
            &["keys", "derive", "--json", "--network", "stokenet"],
            &mnemonic,
            dir.path(),
        ))
        .stdout,
    )
    .unwrap();
    assert_eq!(s["path"], "m/44'/1022'/2'/525'/1460'/0'");
    assert!(s["account_address"]
        .as_str()
        .unwrap()
        .starts_with("account_tdx_2_1"));
    assert_ne!(s["public_key"], v["public_key"]);

    // Olympia: the bip44 vector group with this mnemonic, path m/44H/1022H/0H/0/1H.
    let bip44 = vectors("bip44_secp256k1.json");
    let group = bip44["testGroups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["mnemonic"] == mnemonic.as_str())
        .unwrap();
    let t = group["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["path"] == "m/44H/1022H/0H/0/1H")
        .unwrap();
    let o: Value = serde_json::from_slice(
        &ok(run(
            &[
                "keys",
                "derive",
                "--olympia",
                "--index",
                "1",
                "--json",
                "--show-private-key",
            ],
            &mnemonic,
            dir.path(),
        ))
        .stdout,
    )
    .unwrap();
    assert_eq!(o["public_key"], t["publicKeyCompressed"]);
    assert_eq!(o["private_key"], t["privateKey"]);
    assert_eq!(o["path"], "m/44'/1022'/0'/0/1'");
    assert!(o["account_address"]
        .as_str()
        .unwrap()
        .starts_with("account_rdx1"));

    let e = fails(run(
        &["keys", "derive", "--olympia", "--out", "k"],
        &mnemonic,
        dir.path(),
    ));
    assert!(e.contains("Ed25519"), "{e}");
    assert!(!dir.path().join("k").exists());
    let e = fails(run(
        &["keys", "derive", "--network", "77"],
        &mnemonic,
        dir.path(),
    ));
    assert!(e.contains("77") && e.contains("mainnet (1)"), "{e}");
}

#[test]
fn derive_passphrase_from_second_stdin_line() {
    let dir = tempfile::tempdir().unwrap();
    let (mnemonic, _) = cap26();
    let args = ["keys", "derive", "--json", "--passphrase"];
    let plain: Value = serde_json::from_slice(
        &ok(run(&["keys", "derive", "--json"], &mnemonic, dir.path())).stdout,
    )
    .unwrap();
    let empty: Value =
        serde_json::from_slice(&ok(run(&args, &format!("{mnemonic}\n\n"), dir.path())).stdout)
            .unwrap();
    let with: Value =
        serde_json::from_slice(&ok(run(&args, &format!("{mnemonic}\nWhat\n"), dir.path())).stdout)
            .unwrap();
    assert_eq!(plain, empty);
    assert_ne!(plain["public_key"], with["public_key"]);
}

#[test]
fn bad_mnemonics_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (mnemonic, _) = cap26();
    let e = fails(run(
        &["keys", "derive"],
        &mnemonic.replace("roof", "rooof"),
        dir.path(),
    ));
    assert!(e.contains("word 3") && e.contains("rooof"), "{e}");
    assert!(!e.contains("equip"), "mnemonic echoed: {e}");
    let e = fails(run(&["keys", "derive"], &"abandon ".repeat(12), dir.path()));
    assert!(e.contains("checksum"), "{e}");
    let e = fails(run(&["keys", "derive"], "equip will roof", dir.path()));
    assert!(e.contains("3 words"), "{e}");
    let e = fails(run(&["keys", "derive"], "", dir.path()));
    assert!(e.contains("0 words"), "{e}");
}

#[test]
fn out_file_is_0600_refuses_overwrite_and_force_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let (mnemonic, tests) = cap26();
    let k0 = vector_for(&tests, 1460, 0)["privateKey"]
        .as_str()
        .unwrap()
        .to_string();
    let k1 = vector_for(&tests, 1460, 1)["privateKey"]
        .as_str()
        .unwrap()
        .to_string();
    let o = ok(run(
        &["keys", "derive", "--network", "12", "--out", "owner.key"],
        &mnemonic,
        dir.path(),
    ));
    assert!(!out(&o).contains(&k0));
    let p = dir.path().join("owner.key");
    assert_eq!(
        fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(fs::read_to_string(&p).unwrap(), format!("{k0}\n"));

    let e = fails(run(
        &[
            "keys",
            "derive",
            "--network",
            "12",
            "--index",
            "1",
            "--out",
            "owner.key",
        ],
        &mnemonic,
        dir.path(),
    ));
    assert!(e.contains("already exists") && e.contains("--force"), "{e}");
    assert_eq!(fs::read_to_string(&p).unwrap(), format!("{k0}\n"));

    ok(run(
        &[
            "keys",
            "derive",
            "--network",
            "12",
            "--index",
            "1",
            "--out",
            "owner.key",
            "--force",
        ],
        &mnemonic,
        dir.path(),
    ));
    assert_eq!(fs::read_to_string(&p).unwrap(), format!("{k1}\n"));
    assert_eq!(
        fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

/// A validator address (arbitrary node id, validator entity byte) for `network`.
fn validator(network: &NetworkDefinition) -> String {
    let mut node_id = [5u8; 30];
    node_id[0] = EntityType::GlobalValidator as u8;
    let v = ComponentAddress::try_from(node_id).unwrap();
    encode_address(v.as_node_id().as_bytes(), network)
}

/// A temp dir with a simulator key file (derived by the binary) and a config.
struct Setup {
    dir: tempfile::TempDir,
    account: String,
    private_key: String,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let (mnemonic, _) = cap26();
        let o = ok(run(
            &[
                "keys",
                "derive",
                "--network",
                "simulator",
                "--out",
                "owner.key",
                "--json",
                "--show-private-key",
            ],
            &mnemonic,
            dir.path(),
        ));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        let s = Setup {
            dir,
            account: v["account_address"].as_str().unwrap().to_string(),
            private_key: v["private_key"].as_str().unwrap().to_string(),
        };
        s.write_config(&s.config_text());
        s
    }

    fn config_text(&self) -> String {
        format!(
            "network = \"simulator\"\nvalidator = \"{}\"\nbackup_public_key = \"{BACKUP}\"\nkey_file = \"owner.key\"\nfee_lock_xrd = \"10\"\n",
            validator(&NetworkDefinition::simulator())
        )
    }

    fn write_config(&self, text: &str) {
        fs::write(self.dir.path().join("c.toml"), text).unwrap();
    }

    fn config_path(&self) -> PathBuf {
        self.dir.path().join("c.toml")
    }

    /// Runs from another directory, so relative paths must resolve against the config's dir.
    fn run(&self, args: &[&str]) -> Output {
        let mut full: Vec<&str> = args.to_vec();
        let cfg = self.config_path();
        let cfg = cfg.to_str().unwrap();
        full.extend_from_slice(&["--config", cfg]);
        let o = run(&full, "", Path::new("/"));
        assert!(!out(&o).contains(&self.private_key), "private key printed");
        assert!(!err(&o).contains(&self.private_key), "private key printed");
        o
    }
}

#[test]
fn config_check_good_prints_resolved_config_and_account() {
    let s = Setup::new();
    let o = ok(s.run(&["config", "check"]));
    let text = out(&o);
    assert!(text.contains(&s.account), "{text}");
    assert!(
        text.contains("simulator (id 242)") && text.contains(BACKUP),
        "{text}"
    );
    assert!(
        text.contains(s.dir.path().join("owner.key").to_str().unwrap()),
        "{text}"
    );
    let v: Value =
        serde_json::from_slice(&ok(s.run(&["config", "check", "--json"])).stdout).unwrap();
    assert_eq!(v["account_address"], s.account.as_str());
    assert_eq!(
        v["validator"],
        validator(&NetworkDefinition::simulator()).as_str()
    );
}

#[test]
fn config_check_errors_name_field_value_and_fix() {
    let s = Setup::new();
    let good = s.config_text();
    let sim_validator = validator(&NetworkDefinition::simulator());
    let stokenet_validator = validator(&NetworkDefinition::stokenet());
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            good.replace("\"simulator\"", "\"simulatr\""),
            vec!["`network`", "simulatr", "fix:"],
        ),
        (
            good.replace(&sim_validator, &stokenet_validator),
            vec![
                "`validator`",
                &stokenet_validator,
                "stokenet address",
                "network is simulator",
                "fix:",
            ],
        ),
        (
            good.replace(BACKUP, &BACKUP[..60]),
            vec!["`backup_public_key`", &BACKUP[..60], "30 bytes", "fix:"],
        ),
        (
            format!("{good}fee_lock = \"5\"\n"),
            vec!["unknown field `fee_lock`", "fix:"],
        ),
        (
            good.replace("\"10\"", "\"-3\""),
            vec!["`fee_lock_xrd`", "-3", "fix:"],
        ),
        (
            good.replace("owner.key", "missing.key"),
            vec!["missing.key", "fix:"],
        ),
        // Issue 10 item 5: a watching config that can never fail over (once the primary is
        // dead, only the public gateway is left, and there is no primary System API).
        (
            format!("{good}[backup]\nsystem_api = \"https://10.0.0.2/system\"\n[sources]\ngateways = [\"https://stokenet.radixdlt.com\"]\n"),
            vec!["`sources`", "can never fail over", "1 ledger source(s) are left", "fix:", "[backup] core_api"],
        ),
    ];
    for (text, expect) in cases {
        s.write_config(&text);
        let e = fails(s.run(&["config", "check"]));
        for x in expect {
            assert!(e.contains(x), "missing {x:?} in: {e}");
        }
    }
}

#[test]
fn config_check_warns_of_a_config_that_cannot_fail_a_silent_primary_over() {
    // Two gateways and the primary's System API: a dead primary is failed over by the early
    // signal, but no Core API besides the primary's can confirm the misses of one that stays
    // up and stops proposing. Valid, with a warning that says so and what to add.
    let s = Setup::new();
    s.write_config(&format!(
        "{}[primary]\nsystem_api = \"https://10.0.0.1/system\"\n[backup]\nsystem_api = \"https://10.0.0.2/system\"\n[sources]\ngateways = [\"https://stokenet.radixdlt.com\", \"https://gw.example.com\"]\n",
        s.config_text()
    ));
    let o = ok(s.run(&["config", "check"]));
    let text = format!("{}{}", out(&o), err(&o));
    assert!(
        text.contains("stays up but stops proposing") && text.contains("[backup] core_api"),
        "{text}"
    );
}

#[test]
fn world_readable_or_corrupt_key_file_is_refused() {
    let s = Setup::new();
    let key = s.dir.path().join("owner.key");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
    for args in [
        &["config", "check"][..],
        &["tx", "update-key", "--epoch", "5"][..],
    ] {
        let e = fails(s.run(args));
        assert!(e.contains(&format!("chmod 600 {}", key.display())), "{e}");
        assert!(e.contains("0644"), "{e}");
    }
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
    fs::write(&key, format!("{}x\n", &s.private_key[..63])).unwrap();
    let e = fails(s.run(&["config", "check"]));
    assert!(
        e.contains("does not hold a key") && !e.contains(&s.private_key[..63]),
        "{e}"
    );
}

fn tx_json(s: &Setup, extra: &[&str]) -> Value {
    let mut args = vec!["tx", "update-key", "--json"];
    args.extend_from_slice(extra);
    serde_json::from_slice(&ok(s.run(&args)).stdout).unwrap()
}

#[test]
fn tx_update_key_json_decodes_back_and_is_reproducible() {
    let s = Setup::new();
    let v = tx_json(&s, &["--epoch", "1000"]);
    for field in [
        "manifest",
        "intent_hash",
        "notarized_transaction_hex",
        "start_epoch_inclusive",
        "end_epoch_exclusive",
        "nonce",
        "account_address",
        "validator_address",
        "new_key",
    ] {
        assert!(v.get(field).is_some(), "missing {field}");
    }
    assert_eq!(v["start_epoch_inclusive"], 1000);
    assert_eq!(v["end_epoch_exclusive"], 1002);
    assert_eq!(v["account_address"], s.account.as_str());
    assert_eq!(v["new_key"], BACKUP);
    assert!(v["intent_hash"].as_str().unwrap().starts_with("txid_sim1"));
    let manifest = v["manifest"].as_str().unwrap();
    assert!(
        manifest.contains("\"update_key\"") && manifest.contains(BACKUP),
        "{manifest}"
    );

    let bytes = hex::decode(v["notarized_transaction_hex"].as_str().unwrap()).unwrap();
    let tx = decode_notarized(&bytes).unwrap();
    let h = &tx.signed_intent.intent.header;
    assert_eq!(h.network_id, 242);
    assert_eq!(h.start_epoch_inclusive.number(), 1000);
    assert_eq!(h.end_epoch_exclusive.number(), 1002);
    assert_eq!(u64::from(h.nonce), v["nonce"].as_u64().unwrap());
    assert!(h.notary_is_signatory);
    assert_eq!(h.tip_percentage, 0);
    assert_eq!(tx.signed_intent.intent.instructions.0.len(), 3);

    // A second process ("another host") builds the byte-identical transaction.
    let again = tx_json(&s, &["--epoch", "1000"]);
    assert_eq!(
        again["notarized_transaction_hex"],
        v["notarized_transaction_hex"]
    );
    assert_eq!(again["intent_hash"], v["intent_hash"]);
    let later = tx_json(&s, &["--epoch", "1001", "--valid-epochs", "5"]);
    assert_ne!(later["intent_hash"], v["intent_hash"]);
    assert_eq!(later["end_epoch_exclusive"], 1006);

    let text = out(&ok(s.run(&["tx", "update-key", "--epoch", "1000"])));
    assert!(text.contains(v["intent_hash"].as_str().unwrap()), "{text}");
    assert!(text.contains(v["notarized_transaction_hex"].as_str().unwrap()));
    assert!(text.contains("--- manifest ---") && text.contains("CALL_METHOD"));
}

#[test]
fn tx_to_key_nonce_and_bad_inputs() {
    let s = Setup::new();
    let base = tx_json(&s, &["--epoch", "10"]);
    let back = tx_json(&s, &["--epoch", "10", "--to-key", PRIMARY]);
    assert_eq!(back["new_key"], PRIMARY);
    assert!(back["manifest"].as_str().unwrap().contains(PRIMARY));
    assert_ne!(back["nonce"], base["nonce"]);
    let fixed = tx_json(&s, &["--epoch", "10", "--nonce", "7"]);
    assert_eq!(fixed["nonce"], 7);

    let e = fails(s.run(&["tx", "update-key", "--epoch", "10", "--to-key", "03abcd"]));
    assert!(
        e.contains("--to-key") && e.contains("03abcd") && e.contains("fix:"),
        "{e}"
    );
    let e = fails(s.run(&["tx", "update-key", "--epoch", "10", "--valid-epochs", "0"]));
    assert!(e.contains("--valid-epochs 0"), "{e}");
}

const TEMPLATE: &str = r#"# Same instructions as the built-in manifest, written by hand.
CALL_METHOD Address("{account}") "lock_fee" Decimal("{fee}");
CALL_METHOD Address("{account}") "create_proof_of_non_fungibles"
    Address("{owner_badge}") Array<NonFungibleLocalId>(NonFungibleLocalId("{owner_badge_id}"));
CALL_METHOD Address("{validator}") "update_key" Bytes("{new_key}");
"#;

#[test]
fn tx_with_manifest_template() {
    let s = Setup::new();
    let builtin = tx_json(&s, &["--epoch", "77"]);
    fs::write(s.dir.path().join("failover.rtm"), TEMPLATE).unwrap();
    s.write_config(&format!(
        "{}manifest_template = \"failover.rtm\"\n",
        s.config_text()
    ));
    let templ = tx_json(&s, &["--epoch", "77"]);
    assert_eq!(templ["intent_hash"], builtin["intent_hash"]);
    assert_eq!(templ["manifest"], builtin["manifest"]);

    fs::write(
        s.dir.path().join("failover.rtm"),
        TEMPLATE.replace("{owner_badge_id}", "{badge_id}"),
    )
    .unwrap();
    let e = fails(s.run(&["config", "check"]));
    assert!(
        e.contains("line 4") && e.contains("{badge_id}") && e.contains("manifest_template"),
        "{e}"
    );

    fs::write(
        s.dir.path().join("failover.rtm"),
        TEMPLATE.replace("\"update_key\" Bytes", "\"update_key\" Bites"),
    )
    .unwrap();
    let e = fails(s.run(&["config", "check"]));
    assert!(e.contains("line 5") && e.contains("failover.rtm"), "{e}");

    // A template that also empties the account is refused before anything is signed, by
    // `config check` and by `tx update-key`, naming the instruction.
    let stealing = format!(
        "{TEMPLATE}CALL_METHOD Address(\"{{account}}\") \"withdraw\" Address(\"{{owner_badge}}\") Decimal(\"1\");\n"
    );
    fs::write(s.dir.path().join("failover.rtm"), stealing).unwrap();
    for args in [
        &["config", "check"][..],
        &["tx", "update-key", "--epoch", "77"],
    ] {
        let e = fails(s.run(args));
        assert!(
            e.contains("failover.rtm")
                && e.contains("instruction 4 (CALL_METHOD \"withdraw\"")
                && e.contains("fix:"),
            "{args:?}: {e}"
        );
    }
}

#[test]
fn tx_inspect_reviews_bytes_and_rejects_tampering() {
    let s = Setup::new();
    let v = tx_json(&s, &["--epoch", "500"]);
    let hex_tx = v["notarized_transaction_hex"].as_str().unwrap();
    let i: Value = serde_json::from_slice(
        &ok(run(
            &["tx", "inspect", "--network", "simulator", "--json"],
            hex_tx,
            s.dir.path(),
        ))
        .stdout,
    )
    .unwrap();
    assert_eq!(i["intent_hash"], v["intent_hash"]);
    assert_eq!(i["manifest"], v["manifest"]);
    assert_eq!(i["start_epoch_inclusive"], 500);
    assert_eq!(i["nonce"], v["nonce"]);

    // Flip one byte of the notary signature (the last bytes): validation must fail.
    let mut bytes = hex::decode(hex_tx).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let e = fails(run(
        &[
            "tx",
            "inspect",
            "--network",
            "simulator",
            "--hex",
            &hex::encode(&bytes),
        ],
        "",
        s.dir.path(),
    ));
    assert!(e.contains("offline validation"), "{e}");
    // Wrong network.
    let e = fails(run(
        &["tx", "inspect", "--network", "mainnet", "--hex", hex_tx],
        "",
        s.dir.path(),
    ));
    assert!(e.contains("offline validation"), "{e}");
    let e = fails(run(&["tx", "inspect", "--hex", "zz"], "", s.dir.path()));
    assert!(e.contains("not hex"), "{e}");
}

/// The terminal path: run the binary on a pseudo-terminal (util-linux `script`), type the
/// mnemonic after the prompt, and check the terminal never shows it (no echo).
#[test]
fn terminal_input_is_not_echoed() {
    use std::io::Read;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    let (mnemonic, tests) = cap26();
    let t = vector_for(&tests, 1460, 0);
    let cmd = format!("{BIN} keys derive --network 12 --json");
    let mut child = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` is needed for this test (apt-get install bsdutils)");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut stdout = child.stdout.take().unwrap();
    let sink = seen.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    // Wait for the prompt; generous because the machine may be busy compiling.
    let start = Instant::now();
    while !String::from_utf8_lossy(&seen.lock().unwrap()).contains("input hidden") {
        assert!(start.elapsed() < Duration::from_secs(60), "no prompt");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The prompt is written just before echo is switched off; give it a moment.
    std::thread::sleep(Duration::from_millis(500));
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{mnemonic}\n").as_bytes()).unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "no exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(stdin);
    reader.join().unwrap();
    let text = String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
    assert!(status.success(), "{text}");
    assert!(text.contains(t["publicKey"].as_str().unwrap()), "{text}");
    assert!(!text.contains("equip"), "mnemonic echoed: {text}");
}

/// A loopback HTTP endpoint answering every request with `status`, keeping each request's
/// text. Plain std: these tests have no async runtime.
fn http_stub(status: u16) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::Read as _;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            s.set_read_timeout(Some(std::time::Duration::from_millis(500)))
                .ok();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Headers, then the body by Content-Length.
            loop {
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
                let text = String::from_utf8_lossy(&buf);
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            keep.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buf).into_owned());
            let _ = s.write_all(
                format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
                )
                .as_bytes(),
            );
        }
    });
    (url, seen)
}

#[test]
fn alerts_test_sends_one_test_alert_to_each_channel_and_names_each_result() {
    let s = Setup::new();
    let (ok_url, ok_seen) = http_stub(200);
    let (bad_url, bad_seen) = http_stub(404);
    s.write_config(&format!(
        "{}[alerts]\nwebhook = {{ url = \"{ok_url}/hook\" }}\n[alerts.slack]\nwebhook_url = \"{bad_url}/services/T0/B0/slack-secret\"\n",
        s.config_text()
    ));
    let o = s.run(&["alerts", "test"]);
    let text = out(&o);
    assert!(
        !o.status.success(),
        "a failed channel fails the command: {text}"
    );
    assert!(
        text.contains("webhook") && text.contains("test alert delivered"),
        "{text}"
    );
    assert!(
        text.contains("slack") && text.contains("FAILED") && text.contains("404"),
        "{text}"
    );
    assert!(
        err(&o).contains("1 of 2 alert channel(s) failed"),
        "{}",
        err(&o)
    );
    // The token in the Slack URL is a secret: not in what the command printed.
    assert!(
        !text.contains("slack-secret") && !err(&o).contains("slack-secret"),
        "{text}"
    );
    let got = ok_seen.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "one test alert: {got:?}");
    assert!(got[0].contains("\"event\":\"test\""), "{}", got[0]);
    assert_eq!(bad_seen.lock().unwrap().len(), 1, "a 404 is not retried");

    // Only the working channel: success.
    s.write_config(&format!(
        "{}[alerts]\nwebhook = {{ url = \"{ok_url}/hook\" }}\n",
        s.config_text()
    ));
    ok(s.run(&["alerts", "test"]));
    // No [alerts]: an error that says what to add.
    s.write_config(&s.config_text());
    let e = fails(s.run(&["alerts", "test"]));
    assert!(
        e.contains("no [alerts] section") && e.contains("fix:"),
        "{e}"
    );
}
