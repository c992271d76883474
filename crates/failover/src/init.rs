//! `radix-failover init`: gather the config's values (flags first, else a prompt on the
//! terminal), check each one as it comes, write a commented config and load it back.

use std::fs::OpenOptions;
use std::io::{BufRead, IsTerminal, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};

use radix_failover::config::template::{render, InitAnswers};
use radix_failover::config::{
    parse_secp256k1_public_key, parse_url, parse_validator_address, Config,
};
use radix_failover::keyfile::load_ed25519_key;
use radix_failover::keys::account_address;
use radix_failover::network::parse_network;

use crate::cli::InitArgs;

const DEFAULT_STATE_FILE: &str = "/var/lib/radix-failover/state.json";

struct Asker {
    interactive: bool,
}

impl Asker {
    /// A value from its flag, or from the terminal (asked again until it checks out).
    /// `default`: shown and used on an empty answer; `optional`: an empty answer is `None`.
    fn ask(
        &self,
        flag: &str,
        prompt: &str,
        given: Option<&str>,
        default: Option<&str>,
        optional: bool,
        check: &dyn Fn(&str) -> Result<String, String>,
    ) -> Result<Option<String>> {
        if let Some(v) = given {
            return check(v)
                .map(Some)
                .map_err(|p| anyhow!("--{flag} {v:?}: {p}"));
        }
        if !self.interactive {
            if let Some(d) = default {
                return check(d).map(Some).map_err(|p| anyhow!("--{flag}: {p}"));
            }
            if optional {
                return Ok(None);
            }
            bail!("--{flag} is required: there is no terminal to ask on (fix: give --{flag} <value>, or run init in a terminal)");
        }
        let stdin = std::io::stdin();
        loop {
            let hint = match (default, optional) {
                (Some(d), _) => format!(" [{d}]"),
                (None, true) => " [none]".to_string(),
                (None, false) => String::new(),
            };
            print!("{prompt}{hint}: ");
            std::io::stdout().flush().ok();
            let mut line = String::new();
            if stdin
                .lock()
                .read_line(&mut line)
                .context("cannot read the answer")?
                == 0
            {
                bail!("no answer for {prompt} (end of input)");
            }
            let t = line.trim();
            let t = if t.is_empty() {
                default.unwrap_or("")
            } else {
                t
            };
            if t.is_empty() && optional {
                return Ok(None);
            }
            match check(t) {
                Ok(v) => return Ok(Some(v)),
                Err(p) => println!("  {p}; try again"),
            }
        }
    }
}

fn url_check(field: &'static str, api: &'static str) -> impl Fn(&str) -> Result<String, String> {
    move |s: &str| {
        parse_url(field, s, api)
            .map(|u| u.to_string().trim_end_matches('/').to_string())
            .map_err(|(_, _, problem, fix)| format!("{problem} ({fix})"))
    }
}

fn urls(
    asker: &Asker,
    flag: &str,
    prompt: &str,
    given: &[String],
    default: Option<&str>,
    field: &'static str,
    api: &'static str,
) -> Result<Vec<String>> {
    let check = url_check(field, api);
    if !given.is_empty() {
        return given
            .iter()
            .map(|g| check(g).map_err(|p| anyhow!("--{flag} {g:?}: {p}")))
            .collect();
    }
    let list_check = |s: &str| -> Result<String, String> {
        s.split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(&check)
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.join(","))
    };
    Ok(asker
        .ask(flag, prompt, None, default, true, &list_check)?
        .map(|s| {
            s.split(',')
                .filter(|x| !x.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default())
}

pub fn init(a: &InitArgs) -> Result<()> {
    if a.out.exists() && !a.force {
        bail!(
            "{} exists; fix: choose another --out, or add --force to replace it",
            a.out.display()
        );
    }
    let asker = Asker {
        interactive: !a.no_input && std::io::stdin().is_terminal(),
    };
    let req = |v: Option<String>| v.ok_or_else(|| anyhow!("internal: a required value is missing"));

    let network = req(asker.ask(
        "network",
        "Network (mainnet, stokenet, ...)",
        a.network.as_deref(),
        Some("mainnet"),
        false,
        &|s| {
            parse_network(s)
                .map(|n| n.logical_name.to_string())
                .map_err(|e| e.to_string())
        },
    )?)?;
    let net = parse_network(&network).map_err(|e| anyhow!("{e}"))?;
    let validator = req(asker.ask(
        "validator",
        "Your validator's address",
        a.validator.as_deref(),
        None,
        false,
        &|s| parse_validator_address(s, &net).map(|_| s.trim().to_string()),
    )?)?;
    let key_check = |s: &str| parse_secp256k1_public_key(s).map(|k| hex::encode(k.0));
    let primary = req(asker.ask(
        "primary-key",
        "The primary node's key (System API /identity public_key_hex)",
        a.primary_key.as_deref(),
        None,
        false,
        &key_check,
    )?)?;
    let backup_check = |s: &str| {
        let k = key_check(s)?;
        if k == primary {
            return Err("this is the primary's key; the backup must have its own".to_string());
        }
        Ok(k)
    };
    let backup = req(asker.ask(
        "backup-key",
        "The backup node's key",
        a.backup_key.as_deref(),
        None,
        false,
        &backup_check,
    )?)?;
    let key_file_check = |s: &str| {
        let p = PathBuf::from(s.trim());
        let key = load_ed25519_key(&p).map_err(|e| e.to_string())?;
        let account = account_address(
            &radix_common::crypto::PublicKey::Ed25519(key.public_key()),
            &net,
        );
        println!("  key file OK: account {account} (it must hold the owner badge)");
        let abs = std::path::absolute(&p).unwrap_or(p);
        Ok(abs.display().to_string())
    };
    let key_file = PathBuf::from(req(asker.ask(
        "key-file",
        "Key file of the badge account (from `radix-failover keys derive --out`)",
        a.key_file.as_ref().and_then(|p| p.to_str()),
        None,
        false,
        &key_file_check,
    )?)?);
    let backup_system_api = req(asker.ask(
        "backup-system-api",
        "The backup's System API URL",
        a.backup_system_api.as_deref(),
        None,
        false,
        &url_check("backup.system_api", "system"),
    )?)?;
    let backup_core_api = asker.ask(
        "backup-core-api",
        "The backup's Core API URL",
        a.backup_core_api.as_deref(),
        None,
        true,
        &url_check("backup.core_api", "core"),
    )?;
    let primary_system_api = asker.ask(
        "primary-system-api",
        "The primary's System API URL",
        a.primary_system_api.as_deref(),
        None,
        true,
        &url_check("primary.system_api", "system"),
    )?;
    let primary_core_api = asker.ask(
        "primary-core-api",
        "The primary's Core API URL",
        a.primary_core_api.as_deref(),
        None,
        true,
        &url_check("primary.core_api", "core"),
    )?;
    let default_gateway = match net.id {
        1 => Some("https://mainnet.radixdlt.com"),
        2 => Some("https://stokenet.radixdlt.com"),
        _ => None,
    };
    let gateways = urls(
        &asker,
        "gateway",
        "Gateway URLs, comma separated",
        &a.gateways,
        default_gateway.filter(|_| a.gateways.is_empty() && a.core_apis.is_empty()),
        "sources.gateways",
        "gateway",
    )?;
    let core_apis = urls(
        &asker,
        "core-api",
        "Core API URLs of other synced nodes, comma separated",
        &a.core_apis,
        None,
        "sources.core_apis",
        "core",
    )?;
    let state_file = PathBuf::from(req(asker.ask(
        "state-file",
        "State file",
        a.state_file.as_ref().and_then(|p| p.to_str()),
        Some(DEFAULT_STATE_FILE),
        false,
        &|s| Ok(s.trim().to_string()),
    )?)?);

    let answers = InitAnswers {
        network,
        validator,
        primary_public_key: primary,
        backup_public_key: backup,
        key_file,
        primary_system_api,
        primary_core_api,
        backup_system_api,
        backup_core_api,
        gateways,
        core_apis,
        state_file,
    };
    let text = render(&answers);
    write_config(&a.out, &text, a.force)
        .with_context(|| format!("cannot write {}", a.out.display()))?;
    // Load it back: what init writes must be what the daemon accepts.
    let loaded = Config::load(&a.out).and_then(|c| c.require_watch(true).map(|_| c));
    if let Err(e) = loaded {
        let _ = std::fs::remove_file(&a.out);
        bail!("the written config does not load ({e}); nothing was kept");
    }
    println!(
        "wrote {}\nnext: radix-failover config check --config {0}\n      radix-failover status --config {0}\n      radix-failover run --config {0} --dry-run",
        a.out.display()
    );
    Ok(())
}

/// Writes the config 0600 from its first byte. It names the key file and the key to switch to,
/// so no other user may write it (the daemon refuses it then) and nobody else needs to read it.
/// Without `force`, `create_new`: an existing file (even one created since the check at the
/// start) is never replaced. With `force`: a new 0600 file in the same directory, renamed over
/// the old one, so the old one is never half-written or wider than 0600.
fn write_config(path: &Path, text: &str, force: bool) -> std::io::Result<()> {
    let create = |p: &Path| {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(p)
    };
    let write = |mut f: std::fs::File| {
        // The umask can only narrow 0600; set it anyway against odd defaults.
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        f.write_all(text.as_bytes())?;
        f.sync_all()
    };
    if !force {
        return create(path).and_then(write);
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config".to_string());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = create(&tmp)
        .and_then(write)
        .and_then(|_| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
