//! The Debian package (`cargo deb -p radix-failover`, metadata in crates/failover/Cargo.toml).
//!
//! - The man pages, completions and systemd unit it ships (packaging/deb/) are what the code
//!   generates now; `RADIX_FAILOVER_REGENERATE=1` rewrites them.
//! - The package is built from the test build's binary (`--no-build --profile dev`: no second
//!   build of the workspace), its contents and modes checked with `dpkg-deb`, then installed
//!   by the real `dpkg` into a scratch root (`--root` with `--force-script-chrootless`, the
//!   mechanism dpkg has for this: the maintainer scripts run with `$DPKG_ROOT` set and touch
//!   only that root; the test also checks that the host's user database is unchanged), and
//!   its unit verified by `systemd-analyze verify`.
//!
//! On CI (`CI=true`) a missing tool fails: `.ci/run` installs cargo-deb. Elsewhere the test
//! says how to run it and passes without checking.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use radix_failover::config::{DEFAULT_POLL_INTERVAL, DEFAULT_REQUEST_TIMEOUT};
use radix_failover::systemd::{recommended_watchdog_sec, unit_file, UnitOptions};

const BIN: &str = env!("CARGO_BIN_EXE_radix-failover");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn packaging() -> PathBuf {
    repo().join("packaging/deb")
}

fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// A program on `path` (a PATH-style list); on CI its absence fails, elsewhere it skips.
fn tool_on(name: &str, path: &str, how: &str) -> Option<PathBuf> {
    let found = std::env::split_paths(path)
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            !on_ci(),
            "{name} is not installed and CI must run this test: {how}"
        );
        eprintln!("SKIPPED: {name} not found; to run this test, {how}");
    }
    found
}

/// Root's PATH: dpkg wants ldconfig and start-stop-daemon from the sbin directories.
fn sbin_path() -> String {
    let mut p = String::from("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    if let Ok(extra) = std::env::var("PATH") {
        p.push(':');
        p.push_str(&extra);
    }
    p
}

fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.stdin(Stdio::null()).output().expect("the command runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(cmd: &mut Command) -> String {
    let shown = format!("{cmd:?}");
    let (ok, out, err) = run(cmd);
    assert!(ok, "{shown} failed:\n{out}\n{err}");
    out
}

/// The unit the package installs as /lib/systemd/system/radix-failover.service: the one
/// `radix-failover service print` writes, for the package's paths and the default timing.
fn packaged_unit() -> String {
    let o = UnitOptions {
        binary: "/usr/bin/radix-failover".into(),
        config: "/etc/radix-failover/config.toml".into(),
        user: "radix-failover".into(),
        group: "radix-failover".into(),
        state_dir: "/var/lib/radix-failover".into(),
        watchdog_sec: recommended_watchdog_sec(DEFAULT_POLL_INTERVAL, DEFAULT_REQUEST_TIMEOUT),
        // The package ships no key: the operator points key_file at theirs (or sets up a
        // credential with `service install --key-credential`).
        key_credential: None,
    };
    o.validate().expect("the packaged unit's options are valid");
    unit_file(&o)
}

/// Every generated file the package ships, by path under packaging/deb/.
fn generated() -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    files.insert(
        "radix-failover.service".to_string(),
        packaged_unit().into_bytes(),
    );
    for (shell, name) in [
        ("bash", "radix-failover.bash"),
        ("zsh", "_radix-failover"),
        ("fish", "radix-failover.fish"),
    ] {
        let out = Command::new(BIN)
            .args(["completions", shell])
            .output()
            .expect("completions");
        assert!(out.status.success());
        files.insert(format!("completions/{name}"), out.stdout);
    }
    let dir = tempfile::tempdir().unwrap();
    ok(Command::new(BIN)
        .arg("man")
        .arg("--out-dir")
        .arg(dir.path()));
    for e in std::fs::read_dir(dir.path()).unwrap() {
        let e = e.unwrap();
        files.insert(
            format!("man/{}", e.file_name().to_string_lossy()),
            std::fs::read(e.path()).unwrap(),
        );
    }
    files
}

fn committed(sub: &str) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let dir = packaging().join(sub);
    for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        files.insert(format!("{sub}/{name}"), std::fs::read(e.path()).unwrap());
    }
    files
}

#[test]
fn packaged_man_pages_completions_and_unit_are_generated_from_the_code() {
    let want = generated();
    if std::env::var_os("RADIX_FAILOVER_REGENERATE").is_some() {
        for sub in ["man", "completions"] {
            let _ = std::fs::remove_dir_all(packaging().join(sub));
            std::fs::create_dir_all(packaging().join(sub)).unwrap();
        }
        for (name, bytes) in &want {
            std::fs::write(packaging().join(name), bytes).unwrap();
        }
        eprintln!("regenerated {} files under packaging/deb/", want.len());
        return;
    }
    let mut have = committed("man");
    have.extend(committed("completions"));
    if let Ok(unit) = std::fs::read(packaging().join("radix-failover.service")) {
        have.insert("radix-failover.service".into(), unit);
    }
    let stale: Vec<&String> = want
        .keys()
        .chain(have.keys())
        .filter(|k| want.get(*k) != have.get(*k))
        .collect();
    assert!(
        stale.is_empty(),
        "packaging/deb/ is stale in {stale:?}: the CLI or the unit changed. Regenerate with \
         `RADIX_FAILOVER_REGENERATE=1 cargo test -p radix-failover --test package packaged_` and commit"
    );
}

/// One `dpkg-deb --contents` line: mode string, owner/group, path (without the leading `.`).
fn contents(deb: &Path) -> BTreeMap<String, (String, String)> {
    let text = ok(Command::new("dpkg-deb").arg("--contents").arg(deb));
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert!(f.len() >= 6, "odd contents line {l:?}");
            let path = f[5].trim_start_matches('.').to_string();
            (path, (f[0].to_string(), f[1].to_string()))
        })
        .collect()
}

/// `name`'s (uid, gid) in a root's /etc/passwd, if it is there.
fn user_in(root: &Path, name: &str) -> Option<(u32, u32, String, String)> {
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() == 7 && f[0] == name).then(|| {
            (
                f[2].parse().unwrap(),
                f[3].parse().unwrap(),
                f[5].to_string(),
                f[6].to_string(),
            )
        })
    })
}

/// An empty system for dpkg: its database and a user database with only root.
fn scratch_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    for d in [
        "var/lib/dpkg/info",
        "var/lib/dpkg/updates",
        "etc",
        "var/log",
    ] {
        std::fs::create_dir_all(r.join(d)).unwrap();
    }
    std::fs::write(r.join("var/lib/dpkg/status"), "").unwrap();
    std::fs::write(r.join("var/lib/dpkg/available"), "").unwrap();
    let files = [
        ("passwd", "root:x:0:0:root:/root:/bin/sh\n", 0o644),
        ("group", "root:x:0:\n", 0o644),
        ("shadow", "root:*:19000:0:99999:7:::\n", 0o640),
        ("gshadow", "root:*::\n", 0o640),
    ];
    for (name, text, mode) in files {
        let p = r.join("etc").join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    root
}

fn dpkg_install(root: &Path, deb: &Path) -> String {
    ok(Command::new("dpkg")
        .env("PATH", sbin_path())
        .arg(format!("--root={}", root.display()))
        .arg(format!("--log={}", root.join("var/log/dpkg.log").display()))
        // Scripts run on the host with $DPKG_ROOT set (ours honour it), not in a chroot
        // that has no shell; the root has no libc6 or passwd packages to satisfy Depends.
        .args(["--force-script-chrootless", "--force-depends", "-i"])
        .arg(deb))
}

fn mode_of(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

#[test]
fn the_deb_builds_checks_installs_into_a_scratch_root_and_its_unit_verifies() {
    let path = sbin_path();
    let how = "install cargo-deb (`cargo install cargo-deb --locked`) and Debian's dpkg and \
               systemd, or run `bash .ci/run`, which installs what is missing";
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let (Some(_), Some(_), Some(_), Some(_)) = (
        tool_on("cargo-deb", &path, how),
        tool_on("dpkg-deb", &path, how),
        tool_on("dpkg", &path, how),
        tool_on("systemd-analyze", &path, how),
    ) else {
        return;
    };
    // Package the binary this test run built: <target>/<profile dir>/radix-failover.
    let bin = Path::new(BIN);
    let profile_dir = bin.parent().unwrap();
    let target = profile_dir.parent().unwrap();
    let profile = match profile_dir.file_name().unwrap().to_str().unwrap() {
        "debug" => "dev",
        other => other,
    };
    let out = tempfile::tempdir().unwrap();
    ok(Command::new(&cargo)
        .current_dir(repo())
        .env("PATH", &path)
        .env("CARGO_TARGET_DIR", target)
        .args([
            "deb",
            "-p",
            "radix-failover",
            "--no-build",
            "--locked",
            "--fast",
        ])
        .args(["--profile", profile])
        .arg("-o")
        .arg(out.path()));
    let debs: Vec<PathBuf> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "deb"))
        .collect();
    assert_eq!(debs.len(), 1, "{debs:?}");
    let deb = &debs[0];

    // The control data.
    let info = ok(Command::new("dpkg-deb").arg("--info").arg(deb));
    assert!(info.contains(" Package: radix-failover\n"), "{info}");
    assert!(
        info.contains(&format!(" Version: {}-1\n", env!("CARGO_PKG_VERSION"))),
        "{info}"
    );
    let depends = info
        .lines()
        .find(|l| l.trim_start().starts_with("Depends:"))
        .unwrap_or_default();
    assert!(
        depends.contains("passwd") && depends.contains("libc6"),
        "{info}"
    );

    // Contents and modes: the binary, the unit, a man page per command, the completions,
    // and nothing under /etc: no config to overwrite, no unit enabled by a symlink.
    let files = contents(deb);
    let expect = |path: &str, mode: &str| {
        let (m, owner) = files
            .get(path)
            .unwrap_or_else(|| panic!("{path} not in the package: {files:?}"));
        assert_eq!(m, mode, "{path}");
        // cargo-deb writes numeric ids: 0/0 is root.
        assert!(owner == "0/0" || owner == "root/root", "{path}: {owner}");
    };
    expect("/usr/bin/radix-failover", "-rwxr-xr-x");
    expect("/lib/systemd/system/radix-failover.service", "-rw-r--r--");
    expect(
        "/usr/share/bash-completion/completions/radix-failover",
        "-rw-r--r--",
    );
    expect(
        "/usr/share/zsh/vendor-completions/_radix-failover",
        "-rw-r--r--",
    );
    expect(
        "/usr/share/fish/vendor_completions.d/radix-failover.fish",
        "-rw-r--r--",
    );
    expect("/usr/share/doc/radix-failover/CHANGELOG.md", "-rw-r--r--");
    for name in committed("man").keys() {
        let page = name.trim_start_matches("man/");
        expect(&format!("/usr/share/man/man1/{page}.gz"), "-rw-r--r--");
    }
    assert!(
        !files.keys().any(|p| p.starts_with("/etc/") && p != "/etc/"),
        "the package ships files under /etc: {files:?}"
    );

    // The maintainer scripts, and no conffiles (nothing for dpkg to replace or ask about).
    let control = tempfile::tempdir().unwrap();
    ok(Command::new("dpkg-deb")
        .arg("-e")
        .arg(deb)
        .arg(control.path()));
    assert_eq!(mode_of(&control.path().join("postinst")) & 0o111, 0o111);
    let conffiles = std::fs::read_to_string(control.path().join("conffiles")).unwrap_or_default();
    assert!(conffiles.trim().is_empty(), "conffiles: {conffiles}");

    // Install into a scratch root with the real dpkg.
    let host_passwd = std::fs::read("/etc/passwd").unwrap();
    let host_group = std::fs::read("/etc/group").unwrap();
    let root = scratch_root();
    let r = root.path();
    dpkg_install(r, deb);
    let status = ok(Command::new("dpkg")
        .env("PATH", sbin_path())
        .arg(format!("--root={}", r.display()))
        .args(["-s", "radix-failover"]));
    assert!(status.contains("Status: install ok installed"), "{status}");

    // The system user, in the root's database only.
    let (uid, gid, home, shell) = user_in(r, "radix-failover").expect("the user is created");
    assert!((1..1000).contains(&uid), "a system uid: {uid}");
    assert_eq!(home, "/var/lib/radix-failover");
    assert_eq!(shell, "/usr/sbin/nologin");
    let group = std::fs::read_to_string(r.join("etc/group")).unwrap();
    assert!(
        group
            .lines()
            .any(|l| l.starts_with(&format!("radix-failover:x:{gid}:"))),
        "{group}"
    );
    assert_eq!(
        std::fs::read("/etc/passwd").unwrap(),
        host_passwd,
        "host passwd touched"
    );
    assert_eq!(
        std::fs::read("/etc/group").unwrap(),
        host_group,
        "host group touched"
    );

    // The two private directories, the daemon's own; no config written.
    for d in ["etc/radix-failover", "var/lib/radix-failover"] {
        let m = std::fs::metadata(r.join(d)).unwrap_or_else(|e| panic!("{d}: {e}"));
        assert!(m.is_dir(), "{d}");
        assert_eq!(m.permissions().mode() & 0o7777, 0o700, "{d}");
        assert_eq!((m.uid(), m.gid()), (uid, gid), "{d}");
    }
    assert_eq!(
        std::fs::read_dir(r.join("etc/radix-failover"))
            .unwrap()
            .count(),
        0,
        "no config is installed"
    );
    // Nothing enabled: no .wants link anywhere under the root's /etc/systemd.
    assert!(
        !r.join("etc/systemd/system/multi-user.target.wants")
            .exists(),
        "the unit was enabled"
    );

    // The packaged binary runs.
    let v = ok(Command::new(r.join("usr/bin/radix-failover")).arg("--version"));
    assert!(v.contains(env!("CARGO_PKG_VERSION")), "{v}");
    // The installed unit is the generated one, and systemd accepts it.
    let unit_path = r.join("lib/systemd/system/radix-failover.service");
    assert_eq!(
        std::fs::read_to_string(&unit_path).unwrap(),
        packaged_unit()
    );
    // verify loads the unit's dependencies (sysinit.target, network-online.target...) from
    // the same root: give it the host's systemd units, as on a Debian system with systemd,
    // without replacing ours (-n).
    ok(Command::new("cp")
        .arg("-an")
        .arg("/lib/systemd/system/.")
        .arg(r.join("lib/systemd/system")));
    assert_eq!(
        std::fs::read_to_string(&unit_path).unwrap(),
        packaged_unit()
    );
    let (verified, vout, verr) = run(Command::new("systemd-analyze")
        .env("PATH", &path)
        .arg("verify")
        .arg("--man=no")
        .arg(format!("--root={}", r.display()))
        .arg("/lib/systemd/system/radix-failover.service"));
    let ours: Vec<&str> = verr
        .lines()
        .filter(|l| l.contains("radix-failover"))
        .collect();
    assert!(
        verified && ours.is_empty(),
        "systemd-analyze verify: {vout}\n{verr}"
    );

    // An operator's config and choices survive a reinstall (the upgrade path).
    let config = r.join("etc/radix-failover/config.toml");
    std::fs::write(&config, "# the operator's config\n").unwrap();
    std::fs::set_permissions(
        r.join("var/lib/radix-failover"),
        std::fs::Permissions::from_mode(0o750),
    )
    .unwrap();
    dpkg_install(r, deb);
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        "# the operator's config\n"
    );
    assert_eq!(mode_of(&r.join("var/lib/radix-failover")), 0o750);
    let passwd = std::fs::read_to_string(r.join("etc/passwd")).unwrap();
    assert_eq!(
        passwd
            .lines()
            .filter(|l| l.starts_with("radix-failover:"))
            .count(),
        1,
        "{passwd}"
    );
}

/// CHANGELOG.md (shipped in the package) is in keep-a-changelog form and its first version is
/// the one being built.
#[test]
fn changelog_starts_with_the_current_version() {
    let text = std::fs::read_to_string(repo().join("CHANGELOG.md")).unwrap();
    assert!(text.starts_with("# Changelog\n"), "keep-a-changelog title");
    assert!(text.contains("keepachangelog.com"), "says its format");
    let first = text
        .lines()
        .find(|l| l.starts_with("## ["))
        .expect("a version section");
    assert!(
        first.starts_with(&format!("## [{}]", env!("CARGO_PKG_VERSION"))),
        "the first section is {first:?}, not the crate's version {}",
        env!("CARGO_PKG_VERSION")
    );
    for section in ["### Added", "### Changed"] {
        assert!(text.contains(section), "{section}");
    }
}
