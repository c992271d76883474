//! Who may have changed a file the daemon trusts: the config, the manifest template, the key.
//!
//! Protects against: another local user editing what the daemon signs or where it sends it.
//! The config names the validator, the key to switch to and the manifest; whoever can write it
//! can make the daemon's key sign for them. So a file is refused when its group or others may
//! write it, or when it belongs to a user other than the one the daemon runs as.
//!
//! Root-owned files are accepted: root can change any file anyway, so trusting root adds no
//! one, and packages install configs under /etc owned by root (readable by the daemon's group).
//! Caveat: the directories above the file are not checked; keep them root- or daemon-owned.

use std::fs::Metadata;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// Why a file is not trusted, with the fix for `path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Untrusted {
    WritableByOthers { mode: u32 },
    OwnedByOther { owner: u32, euid: u32 },
}

impl Untrusted {
    /// What is wrong with `path`, for an error message.
    pub fn problem(&self, path: &Path) -> String {
        match self {
            Untrusted::WritableByOthers { mode } => format!(
                "{} is writable by group or others (mode {mode:04o}), so another user could change what the daemon signs",
                path.display()
            ),
            Untrusted::OwnedByOther { owner, euid } => format!(
                "{} belongs to uid {owner}, not to the daemon's user (uid {euid}) or root, so that user could change what the daemon signs",
                path.display()
            ),
        }
    }

    /// The command that fixes it.
    pub fn fix(&self, path: &Path) -> String {
        match self {
            Untrusted::WritableByOthers { .. } => format!("chmod go-w {}", path.display()),
            Untrusted::OwnedByOther { euid, .. } => {
                format!("chown {euid} {} (or give it to root)", path.display())
            }
        }
    }

    pub fn describe(&self, path: &Path) -> String {
        format!("{}; fix: {}", self.problem(path), self.fix(path))
    }
}

/// Reading a trusted file failed.
#[derive(Debug)]
pub enum ReadTrustedError {
    Io(std::io::Error),
    Untrusted(Untrusted),
}

/// Reads a UTF-8 file after checking the open file (not the path, so a swap between the check
/// and the read is moot) with `check_trusted`.
pub fn read_trusted(path: &Path) -> Result<String, ReadTrustedError> {
    let mut file = std::fs::File::open(path).map_err(ReadTrustedError::Io)?;
    let meta = file.metadata().map_err(ReadTrustedError::Io)?;
    check_trusted(&meta, effective_uid()).map_err(ReadTrustedError::Untrusted)?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut file, &mut text).map_err(ReadTrustedError::Io)?;
    Ok(text)
}

/// The effective uid the checks compare owners with.
pub fn effective_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Checks the metadata of an open file: not group/other writable, owned by `euid` or root.
pub fn check_trusted(meta: &Metadata, euid: u32) -> Result<(), Untrusted> {
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(Untrusted::WritableByOthers { mode });
    }
    check_owner(meta, euid)
}

/// Only the owner part (the key file has its own, stricter mode check).
pub fn check_owner(meta: &Metadata, euid: u32) -> Result<(), Untrusted> {
    let owner = meta.uid();
    if owner != euid && owner != 0 {
        return Err(Untrusted::OwnedByOther { owner, euid });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn group_or_other_writable_is_refused_with_chmod() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        fs::write(&p, "x").unwrap();
        let euid = effective_uid();
        for (mode, ok) in [
            (0o600, true),
            (0o644, true),
            (0o640, true),
            (0o664, false),
            (0o646, false),
            (0o666, false),
        ] {
            fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
            let r = check_trusted(&fs::metadata(&p).unwrap(), euid);
            assert_eq!(r.is_ok(), ok, "{mode:o}: {r:?}");
            if let Err(e) = r {
                let msg = e.describe(&p);
                assert!(
                    msg.contains(&format!("chmod go-w {}", p.display())),
                    "{msg}"
                );
                assert!(msg.contains(&format!("{mode:04o}")), "{msg}");
            }
        }
    }

    #[test]
    fn another_users_file_is_refused_root_and_our_own_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        fs::write(&p, "x").unwrap();
        let euid = effective_uid();
        assert_eq!(check_owner(&fs::metadata(&p).unwrap(), euid), Ok(()));
        if euid != 0 {
            // Not root: the file is ours; as seen by any other non-root user it is refused.
            let e = check_owner(&fs::metadata(&p).unwrap(), euid + 1).unwrap_err();
            assert!(e.describe(&p).contains(&format!("chown {}", euid + 1)));
            return;
        }
        // Root (as on CI): give the file to another uid, as an attacker's file would be.
        std::os::unix::fs::chown(&p, Some(4242), None).unwrap();
        let e = check_owner(&fs::metadata(&p).unwrap(), 0).unwrap_err();
        assert_eq!(
            e,
            Untrusted::OwnedByOther {
                owner: 4242,
                euid: 0
            }
        );
        assert!(e.describe(&p).contains("uid 4242") && e.describe(&p).contains("chown 0"));
        assert_eq!(check_owner(&fs::metadata(&p).unwrap(), 4242), Ok(()));
        // Root-owned: trusted whoever the daemon runs as.
        std::os::unix::fs::chown(&p, Some(0), None).unwrap();
        assert_eq!(check_owner(&fs::metadata(&p).unwrap(), 4242), Ok(()));
    }
}
