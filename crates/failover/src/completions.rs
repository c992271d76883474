//! `completions` and `man`: generated from the clap definitions in `cli.rs`, so they always
//! list exactly the commands and flags this binary accepts.

use std::io::Write;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::{Cli, CompletionShell, CompletionsArgs, ManArgs};

pub fn completions(a: &CompletionsArgs) -> Result<()> {
    let shell = match a.shell {
        CompletionShell::Bash => clap_complete::Shell::Bash,
        CompletionShell::Zsh => clap_complete::Shell::Zsh,
        CompletionShell::Fish => clap_complete::Shell::Fish,
    };
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, BIN, &mut out);
    if shell == clap_complete::Shell::Bash {
        out = fix_bash_case_labels(&out);
    }
    write_stdout(&out)
}

const BIN: &str = "radix-failover";

/// clap_complete 4.6's bash script names the case arms of subcommands with the `-` of a
/// hyphenated binary name turned into its subcommand separator (`radix__subcmd__failover__...`)
/// while it dispatches to `radix__failover__...`: no subcommand's flags or subcommands would
/// ever complete. Rename the arms to what the dispatcher sets (tests/completions.rs runs the
/// script in bash and would catch a change).
fn fix_bash_case_labels(script: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(script);
    let wrong = BIN.replace('-', "__subcmd__");
    let right = BIN.replace('-', "__");
    text.replace(&format!("{wrong}__subcmd__"), &format!("{right}__subcmd__"))
        .into_bytes()
}

pub fn man(a: &ManArgs) -> Result<()> {
    // `help <command>` is clap's; its page would only say "see --help".
    let cmd = Cli::command().disable_help_subcommand(true);
    match &a.out_dir {
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut out)
                .context("rendering the man page")?;
            write_stdout(&out)
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| {
                format!("creating {}: check the path and permissions", dir.display())
            })?;
            // One page per command, named after its invocation: radix-failover-service-print.1.
            clap_mangen::generate_to(cmd, dir).with_context(|| {
                format!(
                    "writing the man pages into {}: check the directory's permissions",
                    dir.display()
                )
            })?;
            Ok(())
        }
    }
}

/// stdout closed early (`| head`) is not an error worth a message.
fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("writing to stdout"),
    }
}
