//! Password files (`basic_auth_password_file`): checked like the key file (`keyfile.rs`).
//!
//! The password guards a node's nginx, behind which sit the APIs whose answers gate a
//! failover; a file other users can read is a password they hold, so it is refused, not
//! warned about. Errors never echo the content.

use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use zeroize::Zeroizing;

/// Largest file read: a password of a few hundred characters fits easily; more is not a
/// password file, and reading it whole would pull arbitrary data into memory.
const MAX_PASSWORD_FILE_LEN: u64 = 4096;

#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    #[error("cannot read password file {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("password file {path} is readable or writable by group/others (mode {mode:04o})")]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("password file {path} is not a regular file")]
    NotAFile { path: PathBuf },
    #[error("password file {path} does not hold a password: {problem}")]
    BadContent {
        path: PathBuf,
        problem: &'static str,
    },
}

impl SecretFileError {
    /// What to do about it.
    pub fn fix(&self) -> String {
        match self {
            SecretFileError::Read { .. } => "check the path (relative paths are resolved against the config file's directory)".into(),
            SecretFileError::TooOpen { path, .. } => format!("chmod 600 {}", path.display()),
            SecretFileError::NotAFile { .. } | SecretFileError::BadContent { .. } => {
                "write the password alone on one line: printf '%s\\n' 'PASSWORD' > FILE && chmod 600 FILE".into()
            }
        }
    }
}

/// Reads a password: the file's first line, without its newline; mode must be 0600 or tighter.
pub fn load_password_file(path: &Path) -> Result<SecretString, SecretFileError> {
    let read_err = |error| SecretFileError::Read {
        path: path.to_path_buf(),
        error,
    };
    let mut file = fs::File::open(path).map_err(read_err)?;
    // The open file's metadata, not the path's: a swap between check and read is moot.
    let meta = file.metadata().map_err(read_err)?;
    if !meta.is_file() {
        return Err(SecretFileError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(SecretFileError::TooOpen {
            path: path.to_path_buf(),
            mode,
        });
    }
    let bad = |problem| SecretFileError::BadContent {
        path: path.to_path_buf(),
        problem,
    };
    if meta.len() > MAX_PASSWORD_FILE_LEN {
        return Err(bad("the file is too long"));
    }
    let mut content = Zeroizing::new(Vec::new());
    Read::by_ref(&mut file)
        .take(MAX_PASSWORD_FILE_LEN + 1)
        .read_to_end(&mut content)
        .map_err(read_err)?;
    parse_password(&content).map_err(bad)
}

fn parse_password(content: &[u8]) -> Result<SecretString, &'static str> {
    let body = content
        .strip_suffix(b"\r\n")
        .or_else(|| content.strip_suffix(b"\n"))
        .unwrap_or(content);
    if body.is_empty() {
        return Err("the file is empty");
    }
    let text = std::str::from_utf8(body).map_err(|_| "not UTF-8 text")?;
    if text.chars().any(char::is_control) {
        return Err("more than one line, or control characters");
    }
    Ok(SecretString::from(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn write_mode(path: &Path, content: &[u8], mode: u32) {
        fs::write(path, content).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn reads_one_line_and_refuses_open_modes_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pw");
        write_mode(&p, b"s3cret pass\n", 0o600);
        assert_eq!(
            load_password_file(&p).unwrap().expose_secret(),
            "s3cret pass"
        );
        write_mode(&p, b"s3cret pass\n", 0o644);
        let e = load_password_file(&p).unwrap_err();
        assert!(matches!(e, SecretFileError::TooOpen { .. }));
        assert!(e.to_string().contains("0644"), "{e}");
        assert_eq!(e.fix(), format!("chmod 600 {}", p.display()));
        for bad in [&b""[..], b"\n", b"two\nlines\n", &[0xff, 0xfe]] {
            write_mode(&p, bad, 0o600);
            let e = load_password_file(&p).unwrap_err();
            assert!(matches!(e, SecretFileError::BadContent { .. }), "{e}");
            assert!(!e.to_string().contains("lines"), "content echoed: {e}");
        }
        assert!(matches!(
            load_password_file(dir.path()),
            Err(SecretFileError::NotAFile { .. })
        ));
    }
}
