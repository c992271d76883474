//! Wallet mnemonic -> keys -> account addresses, exactly as the Radix wallets derive them.
//!
//! - Babylon wallet accounts (CAP-26): BIP39 seed, SLIP-10 Ed25519, every level hardened,
//!   `m/44'/1022'/<network id>'/525'/1460'/<index>'` (525 = account, 1460 = transaction signing).
//! - Olympia legacy accounts: BIP32 secp256k1 `m/44'/1022'/0'/0/<index>'` (the fourth level is
//!   NOT hardened; the Olympia wallet hardened the last one).
//!
//! Secret material (mnemonic text, seed, chain codes, private keys) lives in `Zeroizing`
//! buffers and is wiped when dropped; no type here derives or prints `Debug` for secrets.
//! Known limit: the `secp256k1` crate's `SecretKey` is `Copy` and is not wiped by the library;
//! we keep it short-lived and copy its bytes straight into a `Zeroizing` buffer.

use std::fmt;
use std::str::FromStr;

use hmac::{Hmac, Mac};
use radix_common::address::AddressBech32Encoder;
use radix_common::crypto::{Ed25519PrivateKey, PublicKey, Secp256k1PrivateKey};
use radix_common::network::NetworkDefinition;
use radix_common::types::ComponentAddress;
use sha2::Sha512;
use zeroize::Zeroizing;

type HmacSha512 = Hmac<Sha512>;

/// Bit that marks a hardened BIP32/SLIP-10 child index.
pub const HARDENED: u32 = 0x8000_0000;
/// Start of the securified key space in Sargon's paths (`<n>S` = hardened `n + 2^30`).
pub const SECURIFIED_OFFSET: u32 = 0x4000_0000;
/// Radix's registered SLIP-44 coin type.
pub const RADIX_COIN_TYPE: u32 = 1022;
/// CAP-26 entity kind "account".
pub const CAP26_ENTITY_ACCOUNT: u32 = 525;
/// CAP-26 key kind "transaction signing".
pub const CAP26_KEY_TRANSACTION_SIGNING: u32 = 1460;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MnemonicError {
    #[error(
        "the mnemonic has {0} words; a BIP39 wallet mnemonic has 12, 15, 18, 21 or 24 words (fix: enter every word, separated by spaces)"
    )]
    WordCount(usize),
    #[error(
        "word {position} ({word:?}) is not in the BIP39 English word list (fix: check its spelling against your backup)"
    )]
    UnknownWord { position: usize, word: String },
    #[error(
        "the mnemonic checksum fails: every word is valid but a word or the word order is wrong (fix: compare the words and their order with your backup)"
    )]
    Checksum,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("invalid derivation path {path:?}: {reason}")]
    BadPath { path: String, reason: String },
    #[error(
        "SLIP-10 Ed25519 supports only hardened levels; level {level} of {path} is not hardened"
    )]
    Ed25519NeedsHardened { path: String, level: usize },
    #[error("account index {0} is too large; it must be below 2^31 (it becomes a hardened index)")]
    IndexTooLarge(u32),
    #[error("derived key is invalid for its curve (astronomically unlikely; try the next index)")]
    InvalidDerivedKey,
}

/// One level of a derivation path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChildIndex {
    pub index: u32,
    pub hardened: bool,
}

impl ChildIndex {
    fn raw(self) -> u32 {
        if self.hardened {
            self.index | HARDENED
        } else {
            self.index
        }
    }
}

/// A BIP32 path such as `m/44'/1022'/1'/525'/1460'/0'` (`H` accepted for `'`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DerivationPath(pub Vec<ChildIndex>);

impl FromStr for DerivationPath {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| KeyError::BadPath {
            path: s.to_string(),
            reason: reason.to_string(),
        };
        let mut parts = s.split('/');
        if parts.next() != Some("m") {
            return Err(bad("must start with m/"));
        }
        let mut levels = Vec::new();
        for part in parts {
            // `S` is Sargon's notation for the securified key space: hardened, offset by 2^30.
            let (digits, hardened, offset) = if let Some(d) = part.strip_suffix('S') {
                (d, true, SECURIFIED_OFFSET)
            } else if let Some(d) = part.strip_suffix(['\'', 'H', 'h']) {
                (d, true, 0)
            } else {
                (part, false, 0)
            };
            let index: u32 = digits
                .parse()
                .map_err(|_| bad(&format!("level {part:?} is not a number")))?;
            if offset != 0 && index >= SECURIFIED_OFFSET {
                return Err(bad(&format!("level {part:?} is 2^30 or more")));
            }
            let index = index + offset;
            if index >= HARDENED {
                return Err(bad(&format!("level {part:?} is 2^31 or more")));
            }
            levels.push(ChildIndex { index, hardened });
        }
        Ok(DerivationPath(levels))
    }
}

impl fmt::Display for DerivationPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("m")?;
        for c in &self.0 {
            write!(f, "/{}{}", c.index, if c.hardened { "'" } else { "" })?;
        }
        Ok(())
    }
}

fn hardened(index: u32) -> ChildIndex {
    ChildIndex {
        index,
        hardened: true,
    }
}

/// CAP-26 path of a Babylon account's transaction-signing key.
pub fn cap26_account_path(network_id: u8, index: u32) -> Result<DerivationPath, KeyError> {
    if index >= HARDENED {
        return Err(KeyError::IndexTooLarge(index));
    }
    Ok(DerivationPath(vec![
        hardened(44),
        hardened(RADIX_COIN_TYPE),
        hardened(network_id as u32),
        hardened(CAP26_ENTITY_ACCOUNT),
        hardened(CAP26_KEY_TRANSACTION_SIGNING),
        hardened(index),
    ]))
}

/// Olympia wallet path `m/44'/1022'/0'/0/<index>'`.
pub fn olympia_account_path(index: u32) -> Result<DerivationPath, KeyError> {
    if index >= HARDENED {
        return Err(KeyError::IndexTooLarge(index));
    }
    Ok(DerivationPath(vec![
        hardened(44),
        hardened(RADIX_COIN_TYPE),
        hardened(0),
        ChildIndex {
            index: 0,
            hardened: false,
        },
        hardened(index),
    ]))
}

/// Checks a BIP39 English mnemonic: word count, word list, checksum.
/// Words are compared case-insensitively and may be separated by any whitespace.
pub fn parse_mnemonic(phrase: &str) -> Result<bip39::Mnemonic, MnemonicError> {
    let lower = Zeroizing::new(phrase.to_lowercase());
    let count = lower.split_whitespace().count();
    if !matches!(count, 12 | 15 | 18 | 21 | 24) {
        return Err(MnemonicError::WordCount(count));
    }
    // Look each word up ourselves so the error can name it (bip39 gives only the index).
    let english = bip39::Language::English;
    for (i, word) in lower.split_whitespace().enumerate() {
        if english.find_word(word).is_none() {
            return Err(MnemonicError::UnknownWord {
                position: i + 1,
                word: word.to_string(),
            });
        }
    }
    bip39::Mnemonic::parse_in_normalized(english, &lower).map_err(|e| match e {
        bip39::Error::BadWordCount(n) => MnemonicError::WordCount(n),
        bip39::Error::UnknownWord(i) => MnemonicError::UnknownWord {
            position: i + 1,
            word: lower
                .split_whitespace()
                .nth(i)
                .unwrap_or_default()
                .to_string(),
        },
        _ => MnemonicError::Checksum,
    })
}

/// BIP39 seed (PBKDF2-HMAC-SHA512, 2048 rounds) of a checked mnemonic and optional passphrase.
pub fn mnemonic_to_seed(mnemonic: &bip39::Mnemonic, passphrase: &str) -> Zeroizing<[u8; 64]> {
    Zeroizing::new(mnemonic.to_seed(passphrase))
}

fn hmac_sha512(key: &[u8], parts: &[&[u8]]) -> Zeroizing<[u8; 64]> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <HmacSha512 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    for p in parts {
        mac.update(p);
    }
    let mut out = Zeroizing::new([0u8; 64]);
    out.copy_from_slice(&mac.finalize().into_bytes());
    out
}

fn split(i: &[u8; 64]) -> (Zeroizing<[u8; 32]>, Zeroizing<[u8; 32]>) {
    let mut l = Zeroizing::new([0u8; 32]);
    let mut r = Zeroizing::new([0u8; 32]);
    l.copy_from_slice(&i[..32]);
    r.copy_from_slice(&i[32..]);
    (l, r)
}

/// SLIP-10 Ed25519: returns the 32-byte private key at `path` (all levels hardened).
pub fn slip10_ed25519(seed: &[u8], path: &DerivationPath) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let (mut key, mut chain) = split(&hmac_sha512(b"ed25519 seed", &[seed]));
    for (level, child) in path.0.iter().enumerate() {
        if !child.hardened {
            return Err(KeyError::Ed25519NeedsHardened {
                path: path.to_string(),
                level: level + 1,
            });
        }
        let i = hmac_sha512(&chain[..], &[&[0u8], &key[..], &child.raw().to_be_bytes()]);
        (key, chain) = split(&i);
    }
    Ok(key)
}

/// BIP32 / SLIP-10 secp256k1 (they agree except in the negligible invalid-key case, where
/// SLIP-10 retries instead of skipping; we follow SLIP-10). Supports non-hardened levels.
pub fn bip32_secp256k1(
    seed: &[u8],
    path: &DerivationPath,
) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    use secp256k1::{PublicKey as SecpPublicKey, Scalar, Secp256k1, SecretKey};
    let ctx = Secp256k1::signing_only();

    let mut i = hmac_sha512(b"Bitcoin seed", &[seed]);
    // SLIP-10 master key: retry with I as the data while IL is not a valid key.
    while SecretKey::from_slice(&i[..32]).is_err() {
        i = hmac_sha512(b"Bitcoin seed", &[&i[..]]);
    }
    let (mut key, mut chain) = split(&i);

    for child in &path.0 {
        let index_bytes = child.raw().to_be_bytes();
        let parent = SecretKey::from_slice(&key[..]).map_err(|_| KeyError::InvalidDerivedKey)?;
        let mut i = if child.hardened {
            hmac_sha512(&chain[..], &[&[0u8], &key[..], &index_bytes])
        } else {
            let public = SecpPublicKey::from_secret_key(&ctx, &parent).serialize();
            hmac_sha512(&chain[..], &[&public, &index_bytes])
        };
        loop {
            let (il, ir) = split(&i);
            let tweaked = Scalar::from_be_bytes(*il)
                .ok()
                .and_then(|t| parent.add_tweak(&t).ok());
            match tweaked {
                Some(k) => {
                    key = Zeroizing::new(k.secret_bytes());
                    chain = ir;
                    break;
                }
                // IL >= n or child key = 0: SLIP-10 retries with 0x01 || IR || index.
                None => i = hmac_sha512(&chain[..], &[&[1u8], &ir[..], &index_bytes]),
            }
        }
    }
    Ok(key)
}

/// Which curve a derived key is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curve {
    Ed25519,
    Secp256k1,
}

/// A derived account key. Holds the private key; `Debug` shows only public parts.
pub struct DerivedKey {
    pub path: DerivationPath,
    pub curve: Curve,
    private: Zeroizing<[u8; 32]>,
    pub public_key: PublicKey,
}

impl fmt::Debug for DerivedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DerivedKey")
            .field("path", &self.path.to_string())
            .field("curve", &self.curve)
            .field("public_key", &self.public_key_hex())
            .field("private", &"<redacted>")
            .finish()
    }
}

impl DerivedKey {
    fn new(
        path: DerivationPath,
        curve: Curve,
        private: Zeroizing<[u8; 32]>,
    ) -> Result<Self, KeyError> {
        let public_key = match curve {
            Curve::Ed25519 => {
                let k = Ed25519PrivateKey::from_bytes(&private[..])
                    .map_err(|_| KeyError::InvalidDerivedKey)?;
                PublicKey::Ed25519(k.public_key())
            }
            Curve::Secp256k1 => {
                let k = Secp256k1PrivateKey::from_bytes(&private[..])
                    .map_err(|_| KeyError::InvalidDerivedKey)?;
                PublicKey::Secp256k1(k.public_key())
            }
        };
        Ok(DerivedKey {
            path,
            curve,
            private,
            public_key,
        })
    }

    /// The raw 32-byte private key (for writing a key file). Wiped when the borrow's owner drops.
    pub fn private_key_bytes(&self) -> &[u8; 32] {
        &self.private
    }

    /// Private key as 64 lowercase hex characters, in a buffer wiped on drop.
    pub fn private_key_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(&self.private[..]))
    }

    pub fn public_key_hex(&self) -> String {
        public_key_hex(&self.public_key)
    }

    pub fn account_address(&self, network: &NetworkDefinition) -> String {
        account_address(&self.public_key, network)
    }
}

/// Hex of the public key bytes (32 bytes Ed25519, 33 bytes compressed secp256k1).
pub fn public_key_hex(pk: &PublicKey) -> String {
    match pk {
        PublicKey::Ed25519(k) => hex::encode(k.0),
        PublicKey::Secp256k1(k) => hex::encode(k.0),
    }
}

/// The preallocated ("virtual") account address of a public key, bech32m for `network`.
pub fn account_address(pk: &PublicKey, network: &NetworkDefinition) -> String {
    let address = ComponentAddress::preallocated_account_from_public_key(pk);
    encode_address(address.as_node_id().as_bytes(), network)
}

/// Bech32m-encodes a node id for `network`. The encoder fails only for an unknown entity byte,
/// which cannot happen for addresses made by radix-common; fall back to hex just in case.
pub fn encode_address(node_id: &[u8], network: &NetworkDefinition) -> String {
    AddressBech32Encoder::new(network)
        .encode(node_id)
        .unwrap_or_else(|_| hex::encode(node_id))
}

/// Derives the account key the Radix wallet uses: CAP-26 Ed25519 for Babylon accounts,
/// or the Olympia secp256k1 key when `olympia` is set.
pub fn derive_account_key(
    seed: &[u8; 64],
    network_id: u8,
    index: u32,
    olympia: bool,
) -> Result<DerivedKey, KeyError> {
    if olympia {
        let path = olympia_account_path(index)?;
        let private = bip32_secp256k1(seed, &path)?;
        DerivedKey::new(path, Curve::Secp256k1, private)
    } else {
        let path = cap26_account_path(network_id, index)?;
        let private = slip10_ed25519(seed, &path)?;
        DerivedKey::new(path, Curve::Ed25519, private)
    }
}

/// Derives a key on `curve` at an arbitrary path (used by the vector tests).
pub fn derive_at(seed: &[u8], path: &DerivationPath, curve: Curve) -> Result<DerivedKey, KeyError> {
    let private = match curve {
        Curve::Ed25519 => slip10_ed25519(seed, path)?,
        Curve::Secp256k1 => bip32_secp256k1(seed, path)?,
    };
    DerivedKey::new(path.clone(), curve, private)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vectors(name: &str) -> Value {
        let p = format!(
            "{}/../../specs/test-vectors/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {p}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    fn seed_of(mnemonic: &str, passphrase: &str) -> Zeroizing<[u8; 64]> {
        mnemonic_to_seed(&parse_mnemonic(mnemonic).unwrap(), passphrase)
    }

    fn check_cap26(file: &str, curve: Curve) {
        let v = vectors(file);
        let seed = seed_of(v["mnemonic"].as_str().unwrap(), "");
        let tests = v["tests"].as_array().unwrap();
        assert!(tests.len() >= 8);
        for t in tests {
            check_vector(&seed[..], t, curve, "publicKey");
        }
    }

    /// Derives at the vector's path and checks its private and public key.
    fn check_vector(
        seed: &[u8],
        t: &serde_json::Value,
        curve: Curve,
        public_field: &str,
    ) -> DerivedKey {
        let path: DerivationPath = t["path"].as_str().unwrap().parse().unwrap();
        let k = derive_at(seed, &path, curve).unwrap();
        assert_eq!(
            k.private_key_hex().as_str(),
            t["privateKey"].as_str().unwrap(),
            "{path}"
        );
        assert_eq!(
            k.public_key_hex(),
            t[public_field].as_str().unwrap(),
            "{path}"
        );
        k
    }

    #[test]
    fn cap26_ed25519_vectors() {
        check_cap26("cap26_curve25519.json", Curve::Ed25519);
        // And the account helper builds the same path as the vector (network 12, index 0..3).
        let v = vectors("cap26_curve25519.json");
        let seed = seed_of(v["mnemonic"].as_str().unwrap(), "");
        for t in v["tests"].as_array().unwrap() {
            if t["keyKind"] == 1460 && t["entityKind"] == 525 {
                let idx = t["entityIndex"].as_u64().unwrap() as u32;
                let k = derive_account_key(&seed, 12, idx, false).unwrap();
                assert_eq!(k.public_key_hex(), t["publicKey"].as_str().unwrap());
                assert_eq!(k.path, t["path"].as_str().unwrap().parse().unwrap());
            }
        }
    }

    #[test]
    fn cap26_secp256k1_vectors() {
        check_cap26("cap26_secp256k1.json", Curve::Secp256k1);
    }

    #[test]
    fn olympia_bip44_vectors() {
        let v = vectors("bip44_secp256k1.json");
        let mut n = 0;
        for g in v["testGroups"].as_array().unwrap() {
            let seed = seed_of(g["mnemonic"].as_str().unwrap(), "");
            for t in g["tests"].as_array().unwrap() {
                let k = check_vector(&seed[..], t, Curve::Secp256k1, "publicKeyCompressed");
                // The Olympia wallet path (hardened last level) is what --olympia derives.
                if let Some(idx) = t["path"]
                    .as_str()
                    .unwrap()
                    .strip_prefix("m/44H/1022H/0H/0/")
                {
                    if let Some(i) = idx.strip_suffix('H') {
                        let i: u32 = i.parse().unwrap();
                        let o = derive_account_key(&seed, 1, i, true).unwrap();
                        assert_eq!(o.public_key_hex(), k.public_key_hex());
                    }
                }
                n += 1;
            }
        }
        assert_eq!(n, 120);
    }

    #[test]
    fn slip10_and_bip39_vectors() {
        let v = vectors("slip10_tests_10.json");
        let mut checked = 0;
        for g in v["testGroups"].as_array().unwrap() {
            let mnemonic = g["mnemonicPhrase"].as_str().unwrap();
            let passphrase = g["passphrase"].as_str().unwrap();
            let seed = seed_of(mnemonic, passphrase);
            assert_eq!(
                hex::encode(&seed[..]),
                g["seed"].as_str().unwrap(),
                "BIP39 seed"
            );
            let m = parse_mnemonic(mnemonic).unwrap();
            assert_eq!(hex::encode(m.to_entropy()), g["entropy"].as_str().unwrap());
            // Master keys (empty path).
            for mk in g["masterKeys"].as_array().unwrap() {
                let curve = match mk["curve"].as_str().unwrap() {
                    "ed25519" => Curve::Ed25519,
                    "secp256k1" => Curve::Secp256k1,
                    _ => continue, // nist256p1: not used by Radix
                };
                let k = derive_at(&seed[..], &DerivationPath(vec![]), curve).unwrap();
                assert_eq!(
                    k.private_key_hex().as_str(),
                    mk["privateKey"].as_str().unwrap()
                );
                checked += 1;
            }
            for case in g["testCases"].as_array().unwrap() {
                let path: DerivationPath = case["path"].as_str().unwrap().parse().unwrap();
                for ck in case["childKeys"].as_array().unwrap() {
                    let curve = match ck["curve"].as_str().unwrap() {
                        "ed25519" => Curve::Ed25519,
                        "secp256k1" => Curve::Secp256k1,
                        _ => continue,
                    };
                    if curve == Curve::Ed25519 && path.0.iter().any(|c| !c.hardened) {
                        continue; // SLIP-10 defines no non-hardened Ed25519 children
                    }
                    let k = derive_at(&seed[..], &path, curve).unwrap();
                    assert_eq!(
                        k.private_key_hex().as_str(),
                        ck["privateKey"].as_str().unwrap(),
                        "{path} {curve:?}"
                    );
                    let pk = ck["publicKey"].as_str().unwrap();
                    // SLIP-10 writes Ed25519 public keys with a 0x00 prefix.
                    let pk = if curve == Curve::Ed25519 {
                        &pk[2..]
                    } else {
                        pk
                    };
                    assert_eq!(k.public_key_hex(), pk, "{path} {curve:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 50, "only {checked} SLIP-10 vectors checked");
    }

    #[test]
    fn mnemonic_errors_name_the_problem() {
        let good = "equip will roof matter pink blind book anxiety banner elbow sun young";
        assert!(parse_mnemonic(good).is_ok());
        assert!(parse_mnemonic(&good.to_uppercase()).is_ok());
        let bad_word = good.replace("pink", "pinky");
        assert_eq!(
            parse_mnemonic(&bad_word).unwrap_err(),
            MnemonicError::UnknownWord {
                position: 5,
                word: "pinky".into()
            }
        );
        // All words valid, checksum fails (the valid phrase ends in "about").
        let bad_sum = "abandon ".repeat(12);
        assert_eq!(
            parse_mnemonic(&bad_sum).unwrap_err(),
            MnemonicError::Checksum
        );
        assert!(parse_mnemonic(&format!("{}about", "abandon ".repeat(11))).is_ok());
        assert_eq!(
            parse_mnemonic("equip will roof").unwrap_err(),
            MnemonicError::WordCount(3)
        );
        let msg = MnemonicError::UnknownWord {
            position: 5,
            word: "pinky".into(),
        }
        .to_string();
        assert!(msg.contains("word 5") && msg.contains("pinky"));
    }

    #[test]
    fn paths_parse_and_print() {
        let p = cap26_account_path(1, 0).unwrap();
        assert_eq!(p.to_string(), "m/44'/1022'/1'/525'/1460'/0'");
        assert_eq!(p, "m/44H/1022H/1H/525H/1460H/0H".parse().unwrap());
        assert_eq!(
            olympia_account_path(3).unwrap().to_string(),
            "m/44'/1022'/0'/0/3'"
        );
        assert!("44/1".parse::<DerivationPath>().is_err());
        assert!("m/x".parse::<DerivationPath>().is_err());
        assert!(cap26_account_path(1, HARDENED).is_err());
        let seed = [7u8; 64];
        assert!(matches!(
            slip10_ed25519(&seed, &"m/44'/0".parse().unwrap()),
            Err(KeyError::Ed25519NeedsHardened { level: 2, .. })
        ));
    }

    /// Published public-key -> account-address pairs: the Radix Engine Toolkit's
    /// `derive_virtual_account_address_from_public_key` vectors and Sargon's AccountAddress test.
    #[test]
    fn account_addresses_match_published_pairs() {
        use radix_common::crypto::{Ed25519PublicKey, Secp256k1PublicKey};
        let mainnet = NetworkDefinition::mainnet();
        let secp = |h: &str| {
            PublicKey::Secp256k1(
                Secp256k1PublicKey::try_from(hex::decode(h).unwrap().as_slice()).unwrap(),
            )
        };
        let ed = |h: &str| {
            PublicKey::Ed25519(
                Ed25519PublicKey::try_from(hex::decode(h).unwrap().as_slice()).unwrap(),
            )
        };
        for (pk, expected) in [
            (
                secp("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"),
                "account_rdx168fghy4kapzfnwpmq7t7753425lwklk65r82ys7pz2xzleehk2ap0k",
            ),
            (
                ed("4cb5abf6ad79fbf5abbccafcc269d85cd2651ed4b885b5869f241aedf0a5ba29"),
                "account_rdx12xsvygvltz4uhsht6tdrfxktzpmnl77r0d40j8agmujgdj022sudkk",
            ),
            (
                ed("3e9b96a2a863f1be4658ea66aa0584d2a8847d4c0f658b20e62e3594d994d73d"),
                "account_rdx129qdd2yp9vs8jkkn2uwn6sw0ejwmcwr3r4c3usr2hp0nau67m2kzdm",
            ),
        ] {
            assert_eq!(account_address(&pk, &mainnet), expected);
        }
    }

    /// Recomputes the account address by the documented recipe (blake2b-256 of the public key,
    /// last 29 bytes, entity byte, bech32m with HRP `account_<suffix>`) using the blake2 and
    /// bech32 crates directly, and checks radix-common's answer for mainnet and stokenet.
    #[test]
    fn account_addresses_match_independent_recipe() {
        use bech32::ToBase32;
        use blake2::digest::{Update, VariableOutput};
        let v = vectors("cap26_curve25519.json");
        let seed = seed_of(v["mnemonic"].as_str().unwrap(), "");
        for (network, hrp) in [
            (NetworkDefinition::mainnet(), "account_rdx"),
            (NetworkDefinition::stokenet(), "account_tdx_2_"),
        ] {
            for olympia in [false, true] {
                let k = derive_account_key(&seed, network.id, 0, olympia).unwrap();
                let (pk_bytes, entity) = match &k.public_key {
                    PublicKey::Ed25519(p) => (p.0.to_vec(), 0x51u8),
                    PublicKey::Secp256k1(p) => (p.0.to_vec(), 0xD1u8),
                };
                let mut h = blake2::Blake2bVar::new(32).unwrap();
                h.update(&pk_bytes);
                let mut digest = [0u8; 32];
                h.finalize_variable(&mut digest).unwrap();
                let mut data = vec![entity];
                data.extend_from_slice(&digest[3..]);
                let expected =
                    bech32::encode(hrp, data.to_base32(), bech32::Variant::Bech32m).unwrap();
                assert_eq!(k.account_address(&network), expected);
                assert!(expected.starts_with(&format!("{hrp}1")));
            }
        }
    }
}
