//! `radix-failover`: parse the command line, set up logging, run, map errors to exit codes.

mod cli;
mod commands;
mod completions;
mod init;
mod watch_commands;

use std::process::ExitCode;

use clap::Parser;

use cli::{
    AlertsCommand, BadgeCommand, Cli, Command, ConfigCommand, KeysCommand, ServiceCommand,
    TxCommand,
};

/// Exit code for a failed command (bad input, invalid config, unusable key file, ...).
/// clap itself exits with 2 for usage errors.
const EXIT_FAILURE: u8 = 1;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The daemon logs at info by default: one line per poll is its record of what it saw.
    let floor = if matches!(cli.command, Command::Run(_)) {
        1
    } else {
        0
    };
    init_logging(cli.verbose.max(floor));
    // Before any key or mnemonic is read: a crash must not write them to a core file.
    if let Err(e) = radix_failover::hardening::disable_core_dumps() {
        tracing::warn!(
            "{e}; a crash could write a core file: set `ulimit -c 0` (the unit sets LimitCORE=0)"
        );
    }
    let result = match &cli.command {
        Command::Keys(KeysCommand::Derive(a)) => commands::keys_derive(a),
        Command::Config(ConfigCommand::Check(a)) => commands::config_check(a),
        Command::Alerts(AlertsCommand::Test(a)) => commands::alerts_test(a),
        Command::Badge(BadgeCommand::Secure(a)) => commands::badge_secure(a),
        Command::Badge(BadgeCommand::Lock(a)) => commands::badge_lock(a),
        Command::Tx(TxCommand::UpdateKey(a)) => commands::tx_update_key(a),
        Command::Tx(TxCommand::Inspect(a)) => commands::tx_inspect(a),
        Command::Run(a) => watch_commands::run(a),
        Command::Status(a) => watch_commands::status(a),
        Command::Failover(a) => watch_commands::switch(a, watch_commands::Direction::ToBackup),
        Command::Failback(a) => watch_commands::switch(a, watch_commands::Direction::ToPrimary),
        Command::Switchover(a) => watch_commands::switchover(a),
        Command::Pause(a) => watch_commands::pause(a),
        Command::Resume(a) => watch_commands::resume(a),
        Command::Cancel(a) => watch_commands::cancel(a),
        Command::Init(a) => init::init(a),
        Command::Service(ServiceCommand::Print(a)) => watch_commands::service(a, false),
        Command::Service(ServiceCommand::Install(a)) => watch_commands::service(a, true),
        Command::Completions(a) => completions::completions(a),
        Command::Man(a) => completions::man(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// Logs go to stderr so stdout stays machine-readable (--json). Default: warnings only.
fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("RADIX_FAILOVER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    if radix_failover::systemd::under_journald() {
        // journald stamps each line itself and reads the `<N>` syslog priority prefix, so the
        // lines carry no timestamp of their own and warnings/errors keep their priority.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .event_format(radix_failover::systemd::JournaldFormat)
            .try_init();
    } else {
        // Colours only on a terminal: in a pipe or a file they would be noise.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init();
    }
}
