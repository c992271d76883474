//! Deterministic keys for the simulated network, and the owner key file.
//!
//! Every key comes from one ChaCha stream seeded by the sim's seed, so the same seed
//! gives the same validators, nodes and addresses. The owner key is the one secret a
//! user handles: it is read from, or written to, a file of 64 hex chars with mode 0600.

use std::io::Write;
use std::path::Path;

use radix_common::crypto::{Ed25519PrivateKey, Secp256k1PrivateKey};
use rand::RngCore;
use rand_chacha::ChaCha20Rng;
use zeroize::Zeroizing;

use super::SimError;

/// A source of deterministic private keys.
pub(crate) struct KeySource {
    rng: ChaCha20Rng,
}

impl KeySource {
    pub(crate) fn new(seed: u64) -> Self {
        use rand::SeedableRng;
        Self {
            rng: ChaCha20Rng::seed_from_u64(seed),
        }
    }

    fn bytes(&mut self) -> Zeroizing<[u8; 32]> {
        let mut b = Zeroizing::new([0u8; 32]);
        self.rng.fill_bytes(b.as_mut());
        b
    }

    pub(crate) fn secp256k1(&mut self) -> Secp256k1PrivateKey {
        // A random 32-byte string is a valid secp256k1 scalar with probability
        // 1 - 2^-128; retry on the (practically impossible) invalid ones.
        loop {
            if let Ok(k) = Secp256k1PrivateKey::from_bytes(self.bytes().as_ref()) {
                return k;
            }
        }
    }

    pub(crate) fn ed25519(&mut self) -> Ed25519PrivateKey {
        loop {
            if let Ok(k) = Ed25519PrivateKey::from_bytes(self.bytes().as_ref()) {
                return k;
            }
        }
    }
}

/// Read the owner key from `path` if the file exists, otherwise take `generated`, write
/// it there (mode 0600, never wider) and return it.
pub(crate) fn load_or_write_owner_key(
    path: &Path,
    generated: Ed25519PrivateKey,
) -> Result<Ed25519PrivateKey, SimError> {
    let err = |reason: String| SimError::KeyFile {
        path: path.to_path_buf(),
        reason,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let text = Zeroizing::new(text);
            let bytes = Zeroizing::new(hex::decode(text.trim()).map_err(|_| {
                err("not a hex Ed25519 private key; expected 64 hex characters (delete the file to let the sim generate one)".into())
            })?);
            if bytes.len() != 32 {
                return Err(err(format!(
                    "holds {} bytes; an Ed25519 private key is 32 bytes (64 hex characters)",
                    bytes.len()
                )));
            }
            Ed25519PrivateKey::from_bytes(&bytes)
                .map_err(|_| err("not a valid Ed25519 private key".into()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            write_key_file(path, &generated).map_err(|e| {
                err(format!(
                    "cannot write it: {e}; choose a writable path for the owner key file"
                ))
            })?;
            Ok(generated)
        }
        Err(e) => Err(err(format!("cannot read it: {e}"))),
    }
}

fn write_key_file(path: &Path, key: &Ed25519PrivateKey) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Created with 0600 directly, so the secret is never readable by others,
        // not even for a moment.
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    let bytes = Zeroizing::new(key.to_bytes());
    let line = Zeroizing::new(format!("{}\n", hex::encode(bytes.as_slice())));
    f.write_all(line.as_bytes())?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_keys_and_different_seed_different_keys() {
        let a = KeySource::new(7).secp256k1().public_key();
        let b = KeySource::new(7).secp256k1().public_key();
        let c = KeySource::new(8).secp256k1().public_key();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn key_file_is_written_0600_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("owner.key");
        let k = KeySource::new(1).ed25519();
        let pk = k.public_key();
        let written = load_or_write_owner_key(&path, k).unwrap();
        assert_eq!(written.public_key(), pk);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.len(), 65);
        // Given file wins over a different generated key.
        let other = KeySource::new(2).ed25519();
        let read = load_or_write_owner_key(&path, other).unwrap();
        assert_eq!(read.public_key(), pk);
    }

    #[test]
    fn bad_key_file_names_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("owner.key");
        std::fs::write(&path, "zz\n").unwrap();
        let Err(e) = load_or_write_owner_key(&path, KeySource::new(1).ed25519()) else {
            panic!("a bad key file was accepted");
        };
        assert!(e.to_string().contains("64 hex"), "{e}");
    }
}
