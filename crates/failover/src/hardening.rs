//! Process hardening at start: no core dumps.
//!
//! Protects against: the key (and a mnemonic, for `keys derive`) leaving the process in a core
//! file after a crash, where any reader of the dump directory, or a crash reporter uploading
//! it, would get it. Also makes the process non-dumpable, so other processes of the same user
//! cannot ptrace it or read its memory through /proc/<pid>/mem.
//!
//! Caveat: root can still read the memory of any process; this narrows who else can.

use rustix::process::{
    getrlimit, set_dumpable_behavior, setrlimit, DumpableBehavior, Resource, Rlimit,
};

/// What could not be switched off (the caller warns and goes on: a daemon that stops here
/// cannot fail over, and the systemd unit sets `LimitCORE=0` as well).
#[derive(Debug, thiserror::Error)]
pub enum HardeningError {
    #[error("cannot make the process non-dumpable (prctl PR_SET_DUMPABLE 0): {0}")]
    Dumpable(std::io::Error),
    #[error("cannot set the core-file size limit to 0 (setrlimit RLIMIT_CORE): {0}")]
    CoreLimit(std::io::Error),
}

/// `PR_SET_DUMPABLE 0` and `RLIMIT_CORE 0/0`. Lowering a limit needs no privilege; when a
/// seccomp filter refuses the call, a limit already at 0 (the unit's `LimitCORE=0`) is enough.
pub fn disable_core_dumps() -> Result<(), HardeningError> {
    set_dumpable_behavior(DumpableBehavior::NotDumpable)
        .map_err(|e| HardeningError::Dumpable(e.into()))?;
    let zero = Rlimit {
        current: Some(0),
        maximum: Some(0),
    };
    if let Err(e) = setrlimit(Resource::Core, zero) {
        if getrlimit(Resource::Core) != zero {
            return Err(HardeningError::CoreLimit(e.into()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_dumps_are_off_afterwards() {
        // Raise the soft limit first (up to the hard one) so the test sees the change.
        let before = getrlimit(Resource::Core);
        let _ = setrlimit(
            Resource::Core,
            Rlimit {
                current: before.maximum,
                maximum: before.maximum,
            },
        );
        disable_core_dumps().unwrap();
        assert_eq!(
            rustix::process::dumpable_behavior().unwrap(),
            DumpableBehavior::NotDumpable
        );
        let after = getrlimit(Resource::Core);
        assert_eq!((after.current, after.maximum), (Some(0), Some(0)));
    }
}
