//! `radix-sim`: parse the command line, set up logging, run; errors become exit code 1.

use clap::Parser;
use radix_sim::cli::{self, Cli, Command};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // The demo prints its own timeline; the network's own info lines would drown it.
    // The benchmarks print their own figures and report the clock's real pace (an overrun
    // round is reflected in the measured epoch length), so only errors are logged.
    let default_level = match cli.command {
        Command::Demo(_) => "warn",
        Command::BenchFailover(_)
        | Command::BenchFootprint(_)
        | Command::BenchFalseFailovers(_) => "error",
        _ => "info",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        )
        .with_target(false)
        // Logs go to stderr so stdout carries only the start-up printout; colours only on a terminal.
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let result = match cli.command {
        Command::Run(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|rt| rt.block_on(cli::run(args))),
        Command::Config(args) => cli::config(args),
        Command::Bench(args) => cli::bench(args),
        Command::Demo(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|rt| rt.block_on(radix_sim::demo::demo(args)))
            .and_then(|ok| {
                if ok {
                    Ok(())
                } else {
                    Err(anyhow::anyhow!("the failover did not complete"))
                }
            }),
        Command::BenchFailover(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|rt| rt.block_on(radix_sim::bench::missed::run(args))),
        Command::BenchFootprint(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|rt| rt.block_on(radix_sim::bench::footprint::run(args))),
        Command::BenchFalseFailovers(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|rt| rt.block_on(radix_sim::bench::false_failovers::run(args))),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("radix-sim: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
