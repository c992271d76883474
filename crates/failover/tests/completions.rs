//! `radix-failover completions bash|zsh|fish` and `radix-failover man`, checked by the shells
//! and by groff themselves: bash and fish complete real command lines from the scripts, zsh
//! loads its script, and every page renders without a groff warning.
//!
//! On CI (`CI=true`) a missing shell or groff fails the test: `.ci/run` installs zsh and fish
//! (bash and groff come with Debian). Elsewhere a missing one is skipped with the way to run it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_radix-failover");

fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let how = format!("install it (`apt-get install -y {name}`), or run `bash .ci/run`");
        assert!(
            !on_ci(),
            "{name} is not installed and CI must run this test: {how}"
        );
        eprintln!("SKIPPED: {name} not found; to run this test, {how}");
    }
    found
}

fn run(bin: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn script(shell: &str, dir: &Path) -> PathBuf {
    let (ok, out, err) = run(BIN, &["completions", shell]);
    assert!(ok && !out.is_empty(), "completions {shell}: {err}");
    let p = dir.join(format!("radix-failover.{shell}"));
    std::fs::write(&p, out).expect("write script");
    p
}

/// The subcommands `--help` lists (clap's own `help` aside).
fn subcommands(args: &[&str]) -> Vec<String> {
    let mut a = args.to_vec();
    a.push("--help");
    let (ok, out, err) = run(BIN, &a);
    assert!(ok, "{err}");
    out.split("Commands:")
        .nth(1)
        .expect("a Commands section")
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_subcommands_and_flags() {
    let Some(bash) = tool("bash") else { return };
    let dir = tempfile::tempdir().unwrap();
    let s = script("bash", dir.path());
    // Completes as bash would on <TAB>: COMP_WORDS/COMP_CWORD set, the registered function run.
    let complete = |line: &str| -> Vec<String> {
        let words: Vec<&str> = line.split(' ').collect();
        let prog = format!(
            "source {s:?}; COMP_WORDS=({words}); COMP_CWORD={cword}; \
             f=$(complete -p radix-failover | sed -E 's/.*-F ([^ ]+).*/\\1/'); \
             $f radix-failover {cur:?} {prev:?}; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            words = words
                .iter()
                .map(|w| format!("{w:?}"))
                .collect::<Vec<_>>()
                .join(" "),
            cword = words.len() - 1,
            cur = words[words.len() - 1],
            prev = words[words.len().saturating_sub(2)],
        );
        let (ok, out, err) = run(bash.to_str().unwrap(), &["--norc", "-c", &prog]);
        assert!(ok, "bash: {err}");
        out.lines().map(str::to_string).collect()
    };
    assert_eq!(complete("radix-failover ser"), vec!["service".to_string()]);
    let all = complete("radix-failover ");
    for c in subcommands(&[]) {
        assert!(all.contains(&c), "{c} not offered: {all:?}");
    }
    let service = complete("radix-failover service ");
    assert!(
        service.contains(&"print".to_string()) && service.contains(&"install".to_string()),
        "{service:?}"
    );
    let run_flags = complete("radix-failover run --");
    for f in ["--config", "--dry-run"] {
        assert!(run_flags.contains(&f.to_string()), "{f}: {run_flags:?}");
    }
}

#[test]
fn fish_completes_subcommands_with_their_help() {
    let Some(fish) = tool("fish") else { return };
    let dir = tempfile::tempdir().unwrap();
    let s = script("fish", dir.path());
    let complete = |line: &str| -> Vec<(String, String)> {
        let prog = format!("source {s:?}; complete -C {line:?}");
        let (ok, out, err) = run(fish.to_str().unwrap(), &["--no-config", "-c", &prog]);
        assert!(ok, "fish: {err}");
        out.lines()
            .map(|l| {
                let (c, h) = l.split_once('\t').unwrap_or((l, ""));
                (c.to_string(), h.to_string())
            })
            .collect()
    };
    let top = complete("radix-failover ");
    for c in subcommands(&[]) {
        assert!(top.iter().any(|(n, _)| *n == c), "{c} not offered: {top:?}");
    }
    let service = complete("radix-failover service ");
    let print = service
        .iter()
        .find(|(n, _)| n == "print")
        .expect("service print offered");
    assert!(print.1.contains("systemd unit"), "{print:?}");
}

#[test]
fn zsh_loads_the_completion_function() {
    let Some(zsh) = tool("zsh") else { return };
    let dir = tempfile::tempdir().unwrap();
    let s = script("zsh", dir.path());
    let (ok, _, err) = run(zsh.to_str().unwrap(), &["-n", s.to_str().unwrap()]);
    assert!(ok, "zsh -n: {err}");
    // As from $fpath: compinit, then the script defines _radix-failover and registers it.
    let prog = format!(
        "autoload -U compinit; compinit -u -d {dump:?}; source {s:?}; \
         whence -w _radix-failover; print -r -- ${{_comps[radix-failover]}}",
        dump = dir.path().join("zcompdump")
    );
    let (ok, out, err) = run(zsh.to_str().unwrap(), &["-f", "-c", &prog]);
    assert!(ok, "zsh: {err}");
    assert!(out.contains("_radix-failover: function"), "{out}");
    assert!(out.lines().any(|l| l.trim() == "_radix-failover"), "{out}");
    let text = std::fs::read_to_string(&s).unwrap();
    for c in subcommands(&[]) {
        assert!(
            text.contains(&format!("'{c}:")),
            "{c} missing from the zsh script"
        );
    }
}

#[test]
fn an_unknown_shell_is_refused_with_the_choices() {
    let (ok, _, err) = run(BIN, &["completions", "tcsh"]);
    assert!(!ok);
    assert!(
        err.contains("tcsh") && err.contains("bash, zsh, fish"),
        "{err}"
    );
}

#[test]
fn man_pages_cover_every_command_and_render_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man");
    let (ok, _, err) = run(BIN, &["man", "--out-dir", out.to_str().unwrap()]);
    assert!(ok, "{err}");
    let mut expected = vec!["radix-failover".to_string()];
    for c in subcommands(&[]) {
        expected.push(format!("radix-failover-{c}"));
        let subs = if ["keys", "config", "tx", "service", "alerts", "badge"].contains(&c.as_str()) {
            subcommands(&[&c])
        } else {
            vec![]
        };
        for s in subs {
            expected.push(format!("radix-failover-{c}-{s}"));
        }
    }
    let mut pages: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    let mut want: Vec<String> = expected.iter().map(|n| format!("{n}.1")).collect();
    want.sort();
    assert_eq!(pages, want);

    // The main page on stdout is the same as the one written.
    let (ok, stdout, err) = run(BIN, &["man"]);
    assert!(ok, "{err}");
    assert_eq!(
        stdout,
        std::fs::read_to_string(out.join("radix-failover.1")).unwrap()
    );
    let Some(groff) = tool("groff") else { return };
    for p in &pages {
        let path = out.join(p);
        // -ww: every warning; -z: no output. A malformed page warns on stderr.
        let (ok, _, err) = run(
            groff.to_str().unwrap(),
            &["-man", "-Tutf8", "-ww", "-z", path.to_str().unwrap()],
        );
        assert!(ok && err.is_empty(), "{p}: {err}");
    }
    let (ok, text, err) = run(
        groff.to_str().unwrap(),
        &[
            "-man",
            "-Tutf8",
            out.join("radix-failover-run.1").to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    // grotty emboldens by overstriking (`c\bc`): keep what a reader sees.
    let mut seen = String::new();
    for c in text.chars() {
        if c == '\u{8}' {
            seen.pop();
        } else {
            seen.push(c);
        }
    }
    assert!(seen.contains("--config"), "{seen}");
    assert!(seen.contains("The daemon: watch the validator"), "{seen}");
    assert!(seen.contains("radix-failover run <--config>"), "{seen}");
}
