//! Key files: 64 hex characters (one Ed25519 private key), optional trailing newline, mode 0600.
//!
//! Why so strict: the key signs the validator's key change. A key file other users can read is
//! a key they hold, so we refuse it rather than warn. Errors never echo the file's content (a
//! malformed file may still be most of a key).

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use radix_common::crypto::Ed25519PrivateKey;
use zeroize::Zeroizing;

/// Largest file we read: 64 hex + "\r\n" with room to spare; anything bigger is not a key file,
/// and reading it whole would pull arbitrary data into memory.
const MAX_KEY_FILE_LEN: u64 = 128;

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read key file {path}: {error} (fix: check the path; relative key_file paths are resolved against the config file's directory)")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("key file {path} is readable or writable by group/others (mode {mode:04o}); fix: chmod 600 {path}")]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("key file {path} is not a regular file (a directory, FIFO, socket or device); fix: point key_file at the file written by `radix-failover keys derive --out`")]
    NotAFile { path: PathBuf },
    #[error("key file {path} is a symbolic link, which is not followed (whoever can change the link could swap the key); fix: point key_file at the file itself")]
    Symlink { path: PathBuf },
    #[error("key file refused: {problem}; fix: {fix}")]
    Owner { problem: String, fix: String },
    #[error("key_file {path} names $CREDENTIALS_DIRECTORY, which is not set: systemd sets it only for a unit with LoadCredential=; fix: run the daemon from the unit written by `radix-failover service install --key-credential FILE`, or give key_file as a plain path for use outside systemd")]
    NoCredentialsDirectory { path: PathBuf },
    #[error("key file {path} does not hold a key: {problem} (expected exactly 64 hex characters, optionally followed by one newline; fix: re-create it with `radix-failover keys derive --out {path}`)")]
    BadContent {
        path: PathBuf,
        problem: &'static str,
    },
    #[error("{path} already exists; refusing to overwrite a key file (fix: choose another path, or pass --force to replace it)")]
    Exists { path: PathBuf },
    #[error("cannot write key file {path}: {error}")]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// How a `key_file` names a systemd credential: `$CREDENTIALS_DIRECTORY/<name>`.
pub const CREDENTIALS_PREFIX: &str = "$CREDENTIALS_DIRECTORY/";

/// The credential name if `path` is `$CREDENTIALS_DIRECTORY/<name>` (`${...}` also accepted).
pub fn credential_name(path: &Path) -> Option<&str> {
    let s = path.to_str()?;
    s.strip_prefix(CREDENTIALS_PREFIX)
        .or_else(|| s.strip_prefix("${CREDENTIALS_DIRECTORY}/"))
}

/// A credential name systemd accepts and that stays inside the directory: no '/', no "..".
pub fn valid_credential_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// `path` with `$CREDENTIALS_DIRECTORY` replaced by `credentials_dir` (the environment's value);
/// other paths unchanged.
pub fn expand_key_path(
    path: &Path,
    credentials_dir: Option<&std::ffi::OsStr>,
) -> Result<PathBuf, KeyFileError> {
    let Some(name) = credential_name(path) else {
        return Ok(path.to_path_buf());
    };
    match credentials_dir.filter(|d| !d.is_empty()) {
        Some(dir) => Ok(Path::new(dir).join(name)),
        None => Err(KeyFileError::NoCredentialsDirectory {
            path: path.to_path_buf(),
        }),
    }
}

/// Loads an Ed25519 private key from `path` (`$CREDENTIALS_DIRECTORY/…` expanded from the
/// environment), refusing symlinks, non-regular files, group/other-accessible files, files of
/// another user, and bad content.
pub fn load_ed25519_key(path: &Path) -> Result<Ed25519PrivateKey, KeyFileError> {
    let path = &expand_key_path(path, std::env::var_os("CREDENTIALS_DIRECTORY").as_deref())?;
    let read_err = |error| KeyFileError::Read {
        path: path.to_path_buf(),
        error,
    };
    // O_NOFOLLOW: a symlink is refused, not followed. O_NONBLOCK: opening a FIFO returns at
    // once (it would otherwise wait for a writer, forever), and the check below refuses it.
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags((rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
                KeyFileError::Symlink {
                    path: path.to_path_buf(),
                }
            } else {
                read_err(e)
            }
        })?;
    // Check the open file's metadata (not the path's) so a swap between check and read is moot.
    let meta = file.metadata().map_err(read_err)?;
    if !meta.is_file() {
        return Err(KeyFileError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::TooOpen {
            path: path.to_path_buf(),
            mode,
        });
    }
    crate::file_trust::check_owner(&meta, crate::file_trust::effective_uid()).map_err(|u| {
        KeyFileError::Owner {
            problem: u.problem(path),
            fix: u.fix(path),
        }
    })?;
    let bad = |problem| KeyFileError::BadContent {
        path: path.to_path_buf(),
        problem,
    };
    if meta.len() > MAX_KEY_FILE_LEN {
        return Err(bad("the file is too long"));
    }
    let mut content = Zeroizing::new(Vec::with_capacity(MAX_KEY_FILE_LEN as usize));
    Read::by_ref(&mut file)
        .take(MAX_KEY_FILE_LEN + 1)
        .read_to_end(&mut content)
        .map_err(read_err)?;
    parse_key_content(&content).map_err(bad)
}

/// Parses key-file bytes. The error is a fixed description that never includes the content.
pub fn parse_key_content(content: &[u8]) -> Result<Ed25519PrivateKey, &'static str> {
    let body = content
        .strip_suffix(b"\r\n")
        .or_else(|| content.strip_suffix(b"\n"))
        .unwrap_or(content);
    if body.len() != 64 {
        return Err(if body.is_empty() {
            "the file is empty"
        } else {
            "wrong length"
        });
    }
    let mut bytes = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(body, &mut bytes[..]).map_err(|_| "not hexadecimal")?;
    Ed25519PrivateKey::from_bytes(&bytes[..]).map_err(|_| "not a valid Ed25519 private key")
}

/// Writes `key` as 64 hex characters + newline to `path`, created with mode 0600 from the start.
///
/// Without `force`, an existing file is an error (`create_new`, so no race either). With
/// `force`, the key goes to a new 0600 temporary file in the same directory which is then
/// renamed over `path`, so the target is never truncated, half-written, or wider than 0600.
pub fn write_key_file(path: &Path, key: &[u8; 32], force: bool) -> Result<(), KeyFileError> {
    let write_err = |error| KeyFileError::Write {
        path: path.to_path_buf(),
        error,
    };
    let mut text = Zeroizing::new(hex::encode(key));
    text.push('\n');
    if !force {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path);
        let mut file = match file {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(KeyFileError::Exists {
                    path: path.to_path_buf(),
                })
            }
            Err(e) => return Err(write_err(e)),
        };
        // The umask can only narrow 0600; fix the mode anyway in case of odd ACL setups.
        file.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(write_err)?;
        file.write_all(text.as_bytes()).map_err(write_err)?;
        file.sync_all().map_err(write_err)?;
        return Ok(());
    }

    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "key".to_string());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(write_err(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_HEX: &str = "13e971fb16cb2c816d6b9f12176e9b8ab9af1831d006114d344d119ab2715506";

    fn write_mode(path: &Path, content: &[u8], mode: u32) {
        fs::write(path, content).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn loads_valid_files_with_or_without_newline() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        for content in [KEY_HEX.to_string(), format!("{KEY_HEX}\n")] {
            write_mode(&p, content.as_bytes(), 0o600);
            let k = load_ed25519_key(&p).unwrap();
            assert_eq!(hex::encode(k.to_bytes()), KEY_HEX);
        }
        write_mode(&p, KEY_HEX.as_bytes(), 0o400);
        assert!(load_ed25519_key(&p).is_ok());
    }

    #[test]
    fn refuses_group_or_world_access_with_chmod_fix() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        for mode in [0o644, 0o640, 0o604, 0o620, 0o660] {
            write_mode(&p, KEY_HEX.as_bytes(), mode);
            let Err(e) = load_ed25519_key(&p) else {
                panic!("accepted")
            };
            let msg = e.to_string();
            assert!(matches!(e, KeyFileError::TooOpen { .. }), "{mode:o}");
            assert!(msg.contains(&format!("chmod 600 {}", p.display())), "{msg}");
            assert!(msg.contains(&format!("{mode:04o}")), "{msg}");
        }
    }

    #[test]
    fn symlinks_fifos_and_other_users_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.key");
        write_mode(&real, KEY_HEX.as_bytes(), 0o600);
        let link = dir.path().join("link.key");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let e = load_ed25519_key(&link).err().expect("refused");
        assert!(matches!(e, KeyFileError::Symlink { .. }), "{e}");
        assert!(e.to_string().contains("symbolic link"), "{e}");

        // A FIFO is refused at once (without O_NONBLOCK the open would wait for a writer).
        let fifo = dir.path().join("fifo.key");
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
        )
        .unwrap();
        let e = load_ed25519_key(&fifo).err().expect("refused");
        assert!(matches!(e, KeyFileError::NotAFile { .. }), "{e}");

        if crate::file_trust::effective_uid() == 0 {
            std::os::unix::fs::chown(&real, Some(4242), None).unwrap();
            let e = load_ed25519_key(&real).err().expect("refused").to_string();
            assert!(e.contains("uid 4242") && e.contains("fix: chown 0"), "{e}");
        } else {
            eprintln!("skipped the other-owner case: run the tests as root to cover it");
        }
    }

    #[test]
    fn credentials_directory_is_expanded_or_named_when_unset() {
        let p = Path::new("$CREDENTIALS_DIRECTORY/owner.key");
        assert_eq!(credential_name(p), Some("owner.key"));
        assert_eq!(
            credential_name(Path::new("${CREDENTIALS_DIRECTORY}/k")),
            Some("k")
        );
        assert_eq!(credential_name(Path::new("/etc/owner.key")), None);
        assert_eq!(
            expand_key_path(p, Some(std::ffi::OsStr::new("/run/credentials/x.service"))).unwrap(),
            Path::new("/run/credentials/x.service/owner.key")
        );
        for unset in [None, Some(std::ffi::OsStr::new(""))] {
            let e = expand_key_path(p, unset).unwrap_err().to_string();
            assert!(
                e.contains("$CREDENTIALS_DIRECTORY")
                    && e.contains("LoadCredential")
                    && e.contains("fix:"),
                "{e}"
            );
        }
        assert!(valid_credential_name("owner.key"));
        for bad in ["", "..", "a/b", "a b", "a:b"] {
            assert!(!valid_credential_name(bad), "{bad:?}");
        }
        // Loading through the environment: a real file in a directory named by the variable.
        let dir = tempfile::tempdir().unwrap();
        write_mode(&dir.path().join("owner.key"), KEY_HEX.as_bytes(), 0o600);
        let expanded = expand_key_path(p, Some(dir.path().as_os_str())).unwrap();
        assert_eq!(
            hex::encode(load_ed25519_key(&expanded).unwrap().to_bytes()),
            KEY_HEX
        );
    }

    #[test]
    fn bad_content_never_echoed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        let almost = &KEY_HEX[..63];
        let not_hex = format!("{}zz", &KEY_HEX[..62]);
        let cases: [&[u8]; 5] = [
            b"",
            almost.as_bytes(),
            not_hex.as_bytes(),
            b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n\n",
            &[b'a'; 200],
        ];
        for content in cases {
            write_mode(&p, content, 0o600);
            let Err(e) = load_ed25519_key(&p) else {
                panic!("accepted")
            };
            let msg = e.to_string();
            assert!(matches!(e, KeyFileError::BadContent { .. }), "{msg}");
            assert!(
                !msg.contains(&KEY_HEX[..20]) && !msg.contains("aaaaaaaa"),
                "{msg}"
            );
        }
    }

    #[test]
    fn write_is_0600_refuses_overwrite_and_force_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("owner.key");
        let mut key = [0u8; 32];
        hex::decode_to_slice(KEY_HEX, &mut key).unwrap();
        write_key_file(&p, &key, false).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(fs::read_to_string(&p).unwrap(), format!("{KEY_HEX}\n"));
        assert!(matches!(
            write_key_file(&p, &[1u8; 32], false),
            Err(KeyFileError::Exists { .. })
        ));
        assert_eq!(fs::read_to_string(&p).unwrap(), format!("{KEY_HEX}\n"));
        // Force over a file that was (wrongly) world-readable: result is 0600 with new content.
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        write_key_file(&p, &[1u8; 32], true).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            fs::read_to_string(&p).unwrap(),
            format!("{}\n", "01".repeat(32))
        );
        // No temp files left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
