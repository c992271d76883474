//! Command-line arguments: one clap `Args` struct per subcommand. Parsing only; the values are
//! turned into domain types (network, keys, config) in `commands.rs`.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};

use radix_failover::tx::DEFAULT_VALID_EPOCHS;

#[derive(Debug, Parser)]
#[command(
    name = "radix-failover",
    version,
    about = "Fail a Radix validator over to its backup node by signing an update_key transaction"
)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug). Secrets are never logged.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Key derivation from a wallet mnemonic.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Configuration checks.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Build transactions offline.
    #[command(subcommand)]
    Tx(TxCommand),
    /// The daemon: watch the validator, fail over to the backup when the primary fails,
    /// confirm the switch. Logs one line per poll; stop with SIGTERM or Ctrl-C.
    Run(RunArgs),
    /// Show, once: who validates now, misses, each source's health and lag, the backup's
    /// readiness and the daemon's phase.
    Status(StatusArgs),
    /// Switch to the backup now, by hand (the same checks as the daemon; asks to confirm).
    Failover(SwitchArgs),
    /// Switch back to the primary's key, once the primary is healthy (the same checks, aimed
    /// at the primary).
    Failback(SwitchArgs),
    /// Planned switch to the standby (the node that does not validate now), with the same
    /// checks; says from which epoch it takes effect. Both nodes stay up: no proposal is lost.
    Switchover(SwitchoverArgs),
    /// Maintenance: no automatic switch for a while (e.g. before a planned restart of the
    /// primary). Resumes by itself; survives a restart of the daemon.
    Pause(PauseArgs),
    /// End a maintenance pause now: automatic failover is armed again.
    Resume(ControlArgs),
    /// Stop sending the failover (or failback) intent in flight. An intent already submitted
    /// may still commit until its window ends; the daemon keeps watching for that.
    Cancel(ControlArgs),
    /// The alert channels: send a test alert to each.
    #[command(subcommand)]
    Alerts(AlertsCommand),
    /// The owner badge: put it in an access controller, so a stolen hot key cannot take it.
    #[command(subcommand)]
    Badge(BadgeCommand),
    /// The systemd unit: print it, or install it.
    #[command(subcommand)]
    Service(ServiceCommand),
    /// Write a commented config: asks for each value (checked at once) on a terminal, or takes
    /// them all from flags.
    Init(InitArgs),
    /// Print a shell completion script (bash, zsh or fish) on stdout.
    Completions(CompletionsArgs),
    /// Print the man page (roff) on stdout, or write one page per command into a directory.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash (save as /usr/share/bash-completion/completions/radix-failover),
    /// zsh (as _radix-failover in a directory of your $fpath), fish (as
    /// ~/.config/fish/completions/radix-failover.fish).
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write radix-failover.1 and a page per subcommand (radix-failover-run.1, ...) here
    /// instead of printing the main page.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the config.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
    /// Never prompt: every required value must come from a flag.
    #[arg(long)]
    pub no_input: bool,
    /// mainnet, stokenet, localnet, simulator or a numeric id.
    #[arg(long)]
    pub network: Option<String>,
    /// Your validator's address.
    #[arg(long)]
    pub validator: Option<String>,
    /// The primary node's key (66 hex, from its System API /identity).
    #[arg(long, value_name = "HEX")]
    pub primary_key: Option<String>,
    /// The backup node's key (66 hex, from its System API /identity).
    #[arg(long, value_name = "HEX")]
    pub backup_key: Option<String>,
    /// The badge account's key file (from `keys derive --out`).
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// The primary's System API URL (e.g. http://10.0.0.1:3334/system).
    #[arg(long, value_name = "URL")]
    pub primary_system_api: Option<String>,
    /// The primary's Core API URL (e.g. http://10.0.0.1:3333/core).
    #[arg(long, value_name = "URL")]
    pub primary_core_api: Option<String>,
    /// The backup's System API URL (required).
    #[arg(long, value_name = "URL")]
    pub backup_system_api: Option<String>,
    /// The backup's Core API URL.
    #[arg(long, value_name = "URL")]
    pub backup_core_api: Option<String>,
    /// A Gateway API URL (repeat for more).
    #[arg(long = "gateway", value_name = "URL")]
    pub gateways: Vec<String>,
    /// The Core API URL of another synced node (repeat for more).
    #[arg(long = "core-api", value_name = "URL")]
    pub core_apis: Vec<String>,
    /// The state file (default /var/lib/radix-failover/state.json).
    #[arg(long, value_name = "FILE")]
    pub state_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Send one test alert to each configured channel now and print each result; exits
    /// non-zero when any fails or none is configured. On PagerDuty it opens a warning
    /// incident (`.../test`), to resolve by hand.
    Test(AlertsTestArgs),
}

#[derive(Debug, Args)]
pub struct AlertsTestArgs {
    /// Config file (TOML) with an [alerts] section.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum BadgeCommand {
    /// Print (on stdout) the manifest that moves the owner badge from the daemon key's account
    /// into a new access controller: primary role = the daemon's key, recovery = your cold
    /// account or badge. Checked offline with the official compiler; you sign it with your
    /// wallet. The steps and the resulting config lines go to stderr.
    Secure(BadgeSecureArgs),
    /// Print (on stdout) the manifest that locks the primary role of the access controller in
    /// badge_holder, for the recovery key to sign: the hot key can then prove nothing. For
    /// when the authority tripwire reports a change you did not make.
    Lock(BadgeLockArgs),
}

#[derive(Debug, Args)]
pub struct BadgeLockArgs {
    /// Config file (TOML) with badge_holder set.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// The controller's recovery role, as given to `badge secure --recovery`: your cold
    /// account (its signature), a badge (resource_...:#1#) or a resource (resource_...).
    #[arg(long, value_name = "ACCOUNT_OR_BADGE")]
    pub recovery: String,
    /// The account that pays the fee (and, for a badge, holds it). Default: the --recovery
    /// account.
    #[arg(long, value_name = "ACCOUNT")]
    pub fee_account: Option<String>,
    /// Lock the fee from the controller's recovery fee vault (funded by `badge secure
    /// --recovery-fee-xrd`) instead of an account: for a recovery account without XRD.
    #[arg(long)]
    pub fee_from_controller: bool,
}

#[derive(Debug, Args)]
pub struct BadgeSecureArgs {
    /// Config file (TOML): the validator, the network and the daemon's key file.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// The recovery role: your cold account (account_..., its owner's signature), a badge
    /// (resource_...:#1#) or a resource (resource_...). It can lock the daemon key out and
    /// replace the rules.
    #[arg(long, value_name = "ACCOUNT_OR_BADGE")]
    pub recovery: String,
    /// The confirmation role (default: the same as --recovery).
    #[arg(long, value_name = "ACCOUNT_OR_BADGE")]
    pub confirmation: Option<String>,
    /// Let a recovery proposed by the recovery role alone complete after this many days
    /// (1 to 365); without it every recovery also needs the confirmation role.
    #[arg(long, value_name = "DAYS")]
    pub timed_recovery_days: Option<u32>,
    /// XRD moved from the daemon key's account into the controller's recovery fee vault, so
    /// the recovery role can pay for a lock or a recovery from there (`badge lock
    /// --fee-from-controller`) even if its own account is empty; 0: no vault. The primary
    /// role (so a thief of the hot key) can withdraw it: keep it small.
    #[arg(long, value_name = "XRD", default_value = "30")]
    pub recovery_fee_xrd: String,
}

#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Print the systemd unit for this config (Type=notify, watchdog, hardening).
    Print(ServiceArgs),
    /// Write the systemd unit file (mode 0644); with --dry-run, only show what would be written.
    Install(ServiceArgs),
}

#[derive(Debug, Args)]
pub struct ServiceArgs {
    /// Config file (TOML) the service runs with (its absolute path goes into the unit).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,

    /// User the daemon runs as (it must own the key file).
    #[arg(long, default_value = "radix-failover")]
    pub user: String,

    /// Group the daemon runs as.
    #[arg(long, default_value = "radix-failover")]
    pub group: String,

    /// The radix-failover binary (default: this one).
    #[arg(long, value_name = "PATH")]
    pub binary: Option<PathBuf>,

    /// WatchdogSec (default: two worst-case polls, at least 60 s).
    #[arg(long, value_name = "SECONDS")]
    pub watchdog_sec: Option<u64>,

    /// Unit file path (install).
    #[arg(long, value_name = "PATH", default_value = radix_failover::systemd::DEFAULT_UNIT_PATH)]
    pub path: PathBuf,

    /// The key file, given to the service as a systemd credential (LoadCredential=): the
    /// config's key_file must then be "$CREDENTIALS_DIRECTORY/<name>".
    #[arg(long, value_name = "FILE")]
    pub key_credential: Option<PathBuf>,

    /// Install: show what would be written, write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Config file (TOML).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,

    /// Do everything except submit: the transaction that would be sent is logged.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Config file (TOML).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,

    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PauseArgs {
    /// Config file (TOML).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,

    /// How long, e.g. 20m or 1h30m (default and maximum: [daemon] max_pause, 1h unless set).
    #[arg(long = "for", value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub for_: Option<std::time::Duration>,

    /// Why (shown by status, the logs and the alerts).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,

    /// Print the answer as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SwitchoverArgs {
    /// The node to switch to: primary or backup (default: the one not validating now).
    #[arg(long, value_name = "NODE")]
    pub to: Option<String>,

    #[command(flatten)]
    pub switch: SwitchArgs,
}

#[derive(Debug, Args)]
pub struct ControlArgs {
    /// Config file (TOML).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,

    /// Print the answer as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SwitchArgs {
    /// Config file (TOML).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,

    /// Do not ask for confirmation (needed when standard input is not a terminal).
    #[arg(long)]
    pub yes: bool,

    /// Return once the transaction commits, without waiting for the next epoch to confirm
    /// that the target node validates.
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Derive the badge account's key from a Radix wallet mnemonic, as the wallet does.
    ///
    /// The mnemonic is read from the terminal without echo, or from standard input when that is
    /// not a terminal (first line; with --passphrase the second line is the passphrase).
    Derive(DeriveArgs),
}

#[derive(Debug, Args)]
pub struct DeriveArgs {
    /// Prompt (no echo) for a BIP39 passphrase ("25th word"). Default: none.
    #[arg(long)]
    pub passphrase: bool,

    /// Network: mainnet, stokenet, localnet, simulator or a numeric id.
    #[arg(long, default_value = "mainnet")]
    pub network: String,

    /// Account index (the wallet's first account is 0).
    #[arg(long, default_value_t = 0)]
    pub index: u32,

    /// Derive the legacy Olympia secp256k1 key (m/44'/1022'/0'/0/<index>') instead of CAP-26 Ed25519.
    #[arg(long)]
    pub olympia: bool,

    /// Also print the private key (hex). Without it the private key is never printed.
    #[arg(long)]
    pub show_private_key: bool,

    /// Write the private key (64 hex characters) to a new file with mode 0600.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// With --out: replace an existing file.
    #[arg(long, requires = "out")]
    pub force: bool,

    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a config file; print the resolved config and the key file's account address.
    Check(ConfigCheckArgs),
}

#[derive(Debug, Args)]
pub struct ConfigCheckArgs {
    /// Config file (TOML).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,

    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,

    /// Also connect to every source and System API: report TLS, auth and what each answered,
    /// or the problem and its fix. Exits non-zero when any fails.
    #[arg(long)]
    pub connect: bool,
}

#[derive(Debug, Subcommand)]
pub enum TxCommand {
    /// Build, sign and validate the update_key (failover) transaction offline, and print it.
    UpdateKey(UpdateKeyArgs),
    /// Decode and validate a compiled notarized transaction (hex); print its header, manifest
    /// and intent hash. Use it to review bytes the daemon logged or another host built.
    Inspect(InspectArgs),
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Network the transaction is for: mainnet, stokenet, localnet, simulator or a numeric id.
    #[arg(long, default_value = "mainnet")]
    pub network: String,

    /// The notarized transaction as hex; read from standard input when absent.
    #[arg(long, value_name = "HEX")]
    pub hex: Option<String>,

    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct UpdateKeyArgs {
    /// Config file (TOML).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,

    /// Start epoch (inclusive) of the validity window.
    #[arg(long, value_name = "E")]
    pub epoch: u64,

    /// Length of the validity window in epochs (end epoch = E + K, exclusive).
    #[arg(long, value_name = "K", default_value_t = DEFAULT_VALID_EPOCHS)]
    pub valid_epochs: u64,

    /// Nonce; default: derived from validator, new key and start epoch, so every host builds
    /// the same transaction.
    #[arg(long, value_name = "N")]
    pub nonce: Option<u32>,

    /// New consensus key (66 hex, compressed secp256k1) instead of the configured
    /// backup_public_key, e.g. the primary's key to fail back.
    #[arg(long, value_name = "HEX")]
    pub to_key: Option<String>,

    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}
