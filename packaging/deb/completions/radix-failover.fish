# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_radix_failover_global_optspecs
    string join \n v/verbose h/help V/version
end

function __fish_radix_failover_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_radix_failover_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_radix_failover_using_subcommand
    set -l cmd (__fish_radix_failover_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c radix-failover -n "__fish_radix_failover_needs_command" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_needs_command" -s h -l help -d 'Print help'
complete -c radix-failover -n "__fish_radix_failover_needs_command" -s V -l version -d 'Print version'
complete -c radix-failover -n "__fish_radix_failover_needs_command" -f -a "keys" -d 'Key derivation from a wallet mnemonic'
complete -c radix-failover -n "__fish_radix_failover_needs_command" -f -a "config" -d 'Configuration checks'
complete -c radix-failover -n "__fish_radix_failover_needs_command" -f -a "tx" -d 'Build transactions offline'
complete -c radix-failover -n "__fish_radix_failover_needs_command" -f -a "run" -d 'The daemon: watch the validator, fail over to the backup when the primary fails, confirm the switch. Logs one line per poll; stop with SIGTERM or Ctrl-C'
complete -c radix-failover -n "__fish_radix_failover_needs_command" -f -a "status" -d 'Show, once: who validates now, misses, each source\'s health and lag, the backup\'s readiness and the daemon\'s phase'
complete -c radix-failover -n "__fish_radix_failover_needs_command" -f -a "failover" -d 'Switch to the backup now, by hand (the same checks as the daemon; asks to confirm)'
complete -c radix-failover -n "__fish_radix_failover_needs_command" -f -a "failback" -d 'Switch back to the primary\'s key, once the primary is healthy (the same checks, aimed at the primary)'
complete -c radix-failover -n "__fish_radix_failover_needs_command" -f -a "switchover" -d 'Planned switch to the standby (the node that does not validate now), with the same checks; says from which epoch it takes effect. Both nodes stay up: no proposal is lost'
complete -c radix-failover -n "__fish_radix_failover_needs_command" -f -a "pause" -d 'Maintenance: no automatic switch for a while (e.g. before a planned restart of the primary). Resumes by itself; survives a restart of the daemon'
complete -c radix-failover -n "__fish_radix_failover_needs_command" -f -a "resume" -d 'End a maintenance pause now: automatic failover is armed again'
complete -c radix-failover -n "__fish_radix_failover_needs_command" -f -a "cancel" -d 'Stop sending the failover (or failback) intent in flight. An intent already submitted may still commit until its window ends; the daemon keeps watching for that'
complete -c radix-failover -n "__fish_radix_failover_needs_command" -f -a "alerts" -d 'The alert channels: send a test alert to each'
complete -c radix-failover -n "__fish_radix_failover_needs_command" -f -a "badge" -d 'The owner badge: put it in an access controller, so a stolen hot key cannot take it'
complete -c radix-failover -n "__fish_radix_failover_needs_command" -f -a "service" -d 'The systemd unit: print it, or install it'
complete -c radix-failover -n "__fish_radix_failover_needs_command" -f -a "init" -d 'Write a commented config: asks for each value (checked at once) on a terminal, or takes them all from flags'
complete -c radix-failover -n "__fish_radix_failover_needs_command" -f -a "completions" -d 'Print a shell completion script (bash, zsh or fish) on stdout'
complete -c radix-failover -n "__fish_radix_failover_needs_command" -f -a "man" -d 'Print the man page (roff) on stdout, or write one page per command into a directory'
complete -c radix-failover -n "__fish_radix_failover_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand keys; and not __fish_seen_subcommand_from derive help" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand keys; and not __fish_seen_subcommand_from derive help" -s h -l help -d 'Print help'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand keys; and not __fish_seen_subcommand_from derive help" -f -a "derive" -d 'Derive the badge account\'s key from a Radix wallet mnemonic, as the wallet does'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand keys; and not __fish_seen_subcommand_from derive help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand keys; and __fish_seen_subcommand_from derive" -l network -d 'Network: mainnet, stokenet, localnet, simulator or a numeric id' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand keys; and __fish_seen_subcommand_from derive" -l index -d 'Account index (the wallet\'s first account is 0)' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand keys; and __fish_seen_subcommand_from derive" -l out -d 'Write the private key (64 hex characters) to a new file with mode 0600' -r -F
complete -c radix-failover -n "__fish_radix_failover_using_subcommand keys; and __fish_seen_subcommand_from derive" -l passphrase -d 'Prompt (no echo) for a BIP39 passphrase ("25th word"). Default: none'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand keys; and __fish_seen_subcommand_from derive" -l olympia -d 'Derive the legacy Olympia secp256k1 key (m/44\'/1022\'/0\'/0/<index>\') instead of CAP-26 Ed25519'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand keys; and __fish_seen_subcommand_from derive" -l show-private-key -d 'Also print the private key (hex). Without it the private key is never printed'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand keys; and __fish_seen_subcommand_from derive" -l force -d 'With --out: replace an existing file'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand keys; and __fish_seen_subcommand_from derive" -l json -d 'Print one JSON object instead of text'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand keys; and __fish_seen_subcommand_from derive" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand keys; and __fish_seen_subcommand_from derive" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "derive" -d 'Derive the badge account\'s key from a Radix wallet mnemonic, as the wallet does'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand config; and not __fish_seen_subcommand_from check help" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand config; and not __fish_seen_subcommand_from check help" -s h -l help -d 'Print help'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand config; and not __fish_seen_subcommand_from check help" -f -a "check" -d 'Validate a config file; print the resolved config and the key file\'s account address'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand config; and not __fish_seen_subcommand_from check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand config; and __fish_seen_subcommand_from check" -l config -d 'Config file (TOML)' -r -F
complete -c radix-failover -n "__fish_radix_failover_using_subcommand config; and __fish_seen_subcommand_from check" -l json -d 'Print one JSON object instead of text'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand config; and __fish_seen_subcommand_from check" -l connect -d 'Also connect to every source and System API: report TLS, auth and what each answered, or the problem and its fix. Exits non-zero when any fails'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand config; and __fish_seen_subcommand_from check" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand config; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "check" -d 'Validate a config file; print the resolved config and the key file\'s account address'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand tx; and not __fish_seen_subcommand_from update-key inspect help" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand tx; and not __fish_seen_subcommand_from update-key inspect help" -s h -l help -d 'Print help'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand tx; and not __fish_seen_subcommand_from update-key inspect help" -f -a "update-key" -d 'Build, sign and validate the update_key (failover) transaction offline, and print it'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand tx; and not __fish_seen_subcommand_from update-key inspect help" -f -a "inspect" -d 'Decode and validate a compiled notarized transaction (hex); print its header, manifest and intent hash. Use it to review bytes the daemon logged or another host built'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand tx; and not __fish_seen_subcommand_from update-key inspect help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand tx; and __fish_seen_subcommand_from update-key" -l config -d 'Config file (TOML)' -r -F
complete -c radix-failover -n "__fish_radix_failover_using_subcommand tx; and __fish_seen_subcommand_from update-key" -l epoch -d 'Start epoch (inclusive) of the validity window' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand tx; and __fish_seen_subcommand_from update-key" -l valid-epochs -d 'Length of the validity window in epochs (end epoch = E + K, exclusive)' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand tx; and __fish_seen_subcommand_from update-key" -l nonce -d 'Nonce; default: derived from validator, new key and start epoch, so every host builds the same transaction' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand tx; and __fish_seen_subcommand_from update-key" -l to-key -d 'New consensus key (66 hex, compressed secp256k1) instead of the configured backup_public_key, e.g. the primary\'s key to fail back' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand tx; and __fish_seen_subcommand_from update-key" -l json -d 'Print one JSON object instead of text'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand tx; and __fish_seen_subcommand_from update-key" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand tx; and __fish_seen_subcommand_from update-key" -s h -l help -d 'Print help'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand tx; and __fish_seen_subcommand_from inspect" -l network -d 'Network the transaction is for: mainnet, stokenet, localnet, simulator or a numeric id' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand tx; and __fish_seen_subcommand_from inspect" -l hex -d 'The notarized transaction as hex; read from standard input when absent' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand tx; and __fish_seen_subcommand_from inspect" -l json -d 'Print one JSON object instead of text'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand tx; and __fish_seen_subcommand_from inspect" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand tx; and __fish_seen_subcommand_from inspect" -s h -l help -d 'Print help'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand tx; and __fish_seen_subcommand_from help" -f -a "update-key" -d 'Build, sign and validate the update_key (failover) transaction offline, and print it'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand tx; and __fish_seen_subcommand_from help" -f -a "inspect" -d 'Decode and validate a compiled notarized transaction (hex); print its header, manifest and intent hash. Use it to review bytes the daemon logged or another host built'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand tx; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand run" -l config -d 'Config file (TOML)' -r -F
complete -c radix-failover -n "__fish_radix_failover_using_subcommand run" -l dry-run -d 'Do everything except submit: the transaction that would be sent is logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand run" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand run" -s h -l help -d 'Print help'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand status" -l config -d 'Config file (TOML)' -r -F
complete -c radix-failover -n "__fish_radix_failover_using_subcommand status" -l json -d 'Print one JSON object instead of text'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand status" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand status" -s h -l help -d 'Print help'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand failover" -l config -d 'Config file (TOML)' -r -F
complete -c radix-failover -n "__fish_radix_failover_using_subcommand failover" -l yes -d 'Do not ask for confirmation (needed when standard input is not a terminal)'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand failover" -l no-wait -d 'Return once the transaction commits, without waiting for the next epoch to confirm that the target node validates'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand failover" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand failover" -s h -l help -d 'Print help'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand failback" -l config -d 'Config file (TOML)' -r -F
complete -c radix-failover -n "__fish_radix_failover_using_subcommand failback" -l yes -d 'Do not ask for confirmation (needed when standard input is not a terminal)'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand failback" -l no-wait -d 'Return once the transaction commits, without waiting for the next epoch to confirm that the target node validates'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand failback" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand failback" -s h -l help -d 'Print help'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand switchover" -l to -d 'The node to switch to: primary or backup (default: the one not validating now)' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand switchover" -l config -d 'Config file (TOML)' -r -F
complete -c radix-failover -n "__fish_radix_failover_using_subcommand switchover" -l yes -d 'Do not ask for confirmation (needed when standard input is not a terminal)'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand switchover" -l no-wait -d 'Return once the transaction commits, without waiting for the next epoch to confirm that the target node validates'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand switchover" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand switchover" -s h -l help -d 'Print help'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand pause" -l config -d 'Config file (TOML)' -r -F
complete -c radix-failover -n "__fish_radix_failover_using_subcommand pause" -l for -d 'How long, e.g. 20m or 1h30m (default and maximum: [daemon] max_pause, 1h unless set)' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand pause" -l reason -d 'Why (shown by status, the logs and the alerts)' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand pause" -l json -d 'Print the answer as one JSON object'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand pause" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand pause" -s h -l help -d 'Print help'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand resume" -l config -d 'Config file (TOML)' -r -F
complete -c radix-failover -n "__fish_radix_failover_using_subcommand resume" -l json -d 'Print the answer as one JSON object'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand resume" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand resume" -s h -l help -d 'Print help'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand cancel" -l config -d 'Config file (TOML)' -r -F
complete -c radix-failover -n "__fish_radix_failover_using_subcommand cancel" -l json -d 'Print the answer as one JSON object'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand cancel" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand cancel" -s h -l help -d 'Print help'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand alerts; and not __fish_seen_subcommand_from test help" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand alerts; and not __fish_seen_subcommand_from test help" -s h -l help -d 'Print help'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand alerts; and not __fish_seen_subcommand_from test help" -f -a "test" -d 'Send one test alert to each configured channel now and print each result; exits non-zero when any fails or none is configured. On PagerDuty it opens a warning incident (`.../test`), to resolve by hand'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand alerts; and not __fish_seen_subcommand_from test help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand alerts; and __fish_seen_subcommand_from test" -l config -d 'Config file (TOML) with an [alerts] section' -r -F
complete -c radix-failover -n "__fish_radix_failover_using_subcommand alerts; and __fish_seen_subcommand_from test" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand alerts; and __fish_seen_subcommand_from test" -s h -l help -d 'Print help'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand alerts; and __fish_seen_subcommand_from help" -f -a "test" -d 'Send one test alert to each configured channel now and print each result; exits non-zero when any fails or none is configured. On PagerDuty it opens a warning incident (`.../test`), to resolve by hand'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand alerts; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand badge; and not __fish_seen_subcommand_from secure lock help" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand badge; and not __fish_seen_subcommand_from secure lock help" -s h -l help -d 'Print help'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand badge; and not __fish_seen_subcommand_from secure lock help" -f -a "secure" -d 'Print (on stdout) the manifest that moves the owner badge from the daemon key\'s account into a new access controller: primary role = the daemon\'s key, recovery = your cold account or badge. Checked offline with the official compiler; you sign it with your wallet. The steps and the resulting config lines go to stderr'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand badge; and not __fish_seen_subcommand_from secure lock help" -f -a "lock" -d 'Print (on stdout) the manifest that locks the primary role of the access controller in badge_holder, for the recovery key to sign: the hot key can then prove nothing. For when the authority tripwire reports a change you did not make'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand badge; and not __fish_seen_subcommand_from secure lock help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand badge; and __fish_seen_subcommand_from secure" -l config -d 'Config file (TOML): the validator, the network and the daemon\'s key file' -r -F
complete -c radix-failover -n "__fish_radix_failover_using_subcommand badge; and __fish_seen_subcommand_from secure" -l recovery -d 'The recovery role: your cold account (account_..., its owner\'s signature), a badge (resource_...:#1#) or a resource (resource_...). It can lock the daemon key out and replace the rules' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand badge; and __fish_seen_subcommand_from secure" -l confirmation -d 'The confirmation role (default: the same as --recovery)' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand badge; and __fish_seen_subcommand_from secure" -l timed-recovery-days -d 'Let a recovery proposed by the recovery role alone complete after this many days (1 to 365); without it every recovery also needs the confirmation role' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand badge; and __fish_seen_subcommand_from secure" -l recovery-fee-xrd -d 'XRD moved from the daemon key\'s account into the controller\'s recovery fee vault, so the recovery role can pay for a lock or a recovery from there (`badge lock --fee-from-controller`) even if its own account is empty; 0: no vault. The primary role (so a thief of the hot key) can withdraw it: keep it small' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand badge; and __fish_seen_subcommand_from secure" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand badge; and __fish_seen_subcommand_from secure" -s h -l help -d 'Print help'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand badge; and __fish_seen_subcommand_from lock" -l config -d 'Config file (TOML) with badge_holder set' -r -F
complete -c radix-failover -n "__fish_radix_failover_using_subcommand badge; and __fish_seen_subcommand_from lock" -l recovery -d 'The controller\'s recovery role, as given to `badge secure --recovery`: your cold account (its signature), a badge (resource_...:#1#) or a resource (resource_...)' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand badge; and __fish_seen_subcommand_from lock" -l fee-account -d 'The account that pays the fee (and, for a badge, holds it). Default: the --recovery account' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand badge; and __fish_seen_subcommand_from lock" -l fee-from-controller -d 'Lock the fee from the controller\'s recovery fee vault (funded by `badge secure --recovery-fee-xrd`) instead of an account: for a recovery account without XRD'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand badge; and __fish_seen_subcommand_from lock" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand badge; and __fish_seen_subcommand_from lock" -s h -l help -d 'Print help'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand badge; and __fish_seen_subcommand_from help" -f -a "secure" -d 'Print (on stdout) the manifest that moves the owner badge from the daemon key\'s account into a new access controller: primary role = the daemon\'s key, recovery = your cold account or badge. Checked offline with the official compiler; you sign it with your wallet. The steps and the resulting config lines go to stderr'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand badge; and __fish_seen_subcommand_from help" -f -a "lock" -d 'Print (on stdout) the manifest that locks the primary role of the access controller in badge_holder, for the recovery key to sign: the hot key can then prove nothing. For when the authority tripwire reports a change you did not make'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand badge; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and not __fish_seen_subcommand_from print install help" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and not __fish_seen_subcommand_from print install help" -s h -l help -d 'Print help'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and not __fish_seen_subcommand_from print install help" -f -a "print" -d 'Print the systemd unit for this config (Type=notify, watchdog, hardening)'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and not __fish_seen_subcommand_from print install help" -f -a "install" -d 'Write the systemd unit file (mode 0644); with --dry-run, only show what would be written'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and not __fish_seen_subcommand_from print install help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and __fish_seen_subcommand_from print" -l config -d 'Config file (TOML) the service runs with (its absolute path goes into the unit)' -r -F
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and __fish_seen_subcommand_from print" -l user -d 'User the daemon runs as (it must own the key file)' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and __fish_seen_subcommand_from print" -l group -d 'Group the daemon runs as' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and __fish_seen_subcommand_from print" -l binary -d 'The radix-failover binary (default: this one)' -r -F
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and __fish_seen_subcommand_from print" -l watchdog-sec -d 'WatchdogSec (default: two worst-case polls, at least 60 s)' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and __fish_seen_subcommand_from print" -l path -d 'Unit file path (install)' -r -F
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and __fish_seen_subcommand_from print" -l key-credential -d 'The key file, given to the service as a systemd credential (LoadCredential=): the config\'s key_file must then be "$CREDENTIALS_DIRECTORY/<name>"' -r -F
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and __fish_seen_subcommand_from print" -l dry-run -d 'Install: show what would be written, write nothing'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and __fish_seen_subcommand_from print" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and __fish_seen_subcommand_from print" -s h -l help -d 'Print help'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and __fish_seen_subcommand_from install" -l config -d 'Config file (TOML) the service runs with (its absolute path goes into the unit)' -r -F
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and __fish_seen_subcommand_from install" -l user -d 'User the daemon runs as (it must own the key file)' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and __fish_seen_subcommand_from install" -l group -d 'Group the daemon runs as' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and __fish_seen_subcommand_from install" -l binary -d 'The radix-failover binary (default: this one)' -r -F
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and __fish_seen_subcommand_from install" -l watchdog-sec -d 'WatchdogSec (default: two worst-case polls, at least 60 s)' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and __fish_seen_subcommand_from install" -l path -d 'Unit file path (install)' -r -F
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and __fish_seen_subcommand_from install" -l key-credential -d 'The key file, given to the service as a systemd credential (LoadCredential=): the config\'s key_file must then be "$CREDENTIALS_DIRECTORY/<name>"' -r -F
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and __fish_seen_subcommand_from install" -l dry-run -d 'Install: show what would be written, write nothing'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and __fish_seen_subcommand_from install" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and __fish_seen_subcommand_from install" -s h -l help -d 'Print help'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and __fish_seen_subcommand_from help" -f -a "print" -d 'Print the systemd unit for this config (Type=notify, watchdog, hardening)'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and __fish_seen_subcommand_from help" -f -a "install" -d 'Write the systemd unit file (mode 0644); with --dry-run, only show what would be written'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand service; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand init" -l out -d 'Where to write the config' -r -F
complete -c radix-failover -n "__fish_radix_failover_using_subcommand init" -l network -d 'mainnet, stokenet, localnet, simulator or a numeric id' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand init" -l validator -d 'Your validator\'s address' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand init" -l primary-key -d 'The primary node\'s key (66 hex, from its System API /identity)' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand init" -l backup-key -d 'The backup node\'s key (66 hex, from its System API /identity)' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand init" -l key-file -d 'The badge account\'s key file (from `keys derive --out`)' -r -F
complete -c radix-failover -n "__fish_radix_failover_using_subcommand init" -l primary-system-api -d 'The primary\'s System API URL (e.g. http://10.0.0.1:3334/system)' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand init" -l primary-core-api -d 'The primary\'s Core API URL (e.g. http://10.0.0.1:3333/core)' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand init" -l backup-system-api -d 'The backup\'s System API URL (required)' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand init" -l backup-core-api -d 'The backup\'s Core API URL' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand init" -l gateway -d 'A Gateway API URL (repeat for more)' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand init" -l core-api -d 'The Core API URL of another synced node (repeat for more)' -r
complete -c radix-failover -n "__fish_radix_failover_using_subcommand init" -l state-file -d 'The state file (default /var/lib/radix-failover/state.json)' -r -F
complete -c radix-failover -n "__fish_radix_failover_using_subcommand init" -l force -d 'Replace an existing file'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand init" -l no-input -d 'Never prompt: every required value must come from a flag'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand init" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand init" -s h -l help -d 'Print help'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand completions" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand completions" -s h -l help -d 'Print help'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand man" -l out-dir -d 'Write radix-failover.1 and a page per subcommand (radix-failover-run.1, ...) here instead of printing the main page' -r -F
complete -c radix-failover -n "__fish_radix_failover_using_subcommand man" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug). Secrets are never logged'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand man" -s h -l help -d 'Print help'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and not __fish_seen_subcommand_from keys config tx run status failover failback switchover pause resume cancel alerts badge service init completions man help" -f -a "keys" -d 'Key derivation from a wallet mnemonic'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and not __fish_seen_subcommand_from keys config tx run status failover failback switchover pause resume cancel alerts badge service init completions man help" -f -a "config" -d 'Configuration checks'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and not __fish_seen_subcommand_from keys config tx run status failover failback switchover pause resume cancel alerts badge service init completions man help" -f -a "tx" -d 'Build transactions offline'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and not __fish_seen_subcommand_from keys config tx run status failover failback switchover pause resume cancel alerts badge service init completions man help" -f -a "run" -d 'The daemon: watch the validator, fail over to the backup when the primary fails, confirm the switch. Logs one line per poll; stop with SIGTERM or Ctrl-C'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and not __fish_seen_subcommand_from keys config tx run status failover failback switchover pause resume cancel alerts badge service init completions man help" -f -a "status" -d 'Show, once: who validates now, misses, each source\'s health and lag, the backup\'s readiness and the daemon\'s phase'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and not __fish_seen_subcommand_from keys config tx run status failover failback switchover pause resume cancel alerts badge service init completions man help" -f -a "failover" -d 'Switch to the backup now, by hand (the same checks as the daemon; asks to confirm)'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and not __fish_seen_subcommand_from keys config tx run status failover failback switchover pause resume cancel alerts badge service init completions man help" -f -a "failback" -d 'Switch back to the primary\'s key, once the primary is healthy (the same checks, aimed at the primary)'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and not __fish_seen_subcommand_from keys config tx run status failover failback switchover pause resume cancel alerts badge service init completions man help" -f -a "switchover" -d 'Planned switch to the standby (the node that does not validate now), with the same checks; says from which epoch it takes effect. Both nodes stay up: no proposal is lost'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and not __fish_seen_subcommand_from keys config tx run status failover failback switchover pause resume cancel alerts badge service init completions man help" -f -a "pause" -d 'Maintenance: no automatic switch for a while (e.g. before a planned restart of the primary). Resumes by itself; survives a restart of the daemon'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and not __fish_seen_subcommand_from keys config tx run status failover failback switchover pause resume cancel alerts badge service init completions man help" -f -a "resume" -d 'End a maintenance pause now: automatic failover is armed again'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and not __fish_seen_subcommand_from keys config tx run status failover failback switchover pause resume cancel alerts badge service init completions man help" -f -a "cancel" -d 'Stop sending the failover (or failback) intent in flight. An intent already submitted may still commit until its window ends; the daemon keeps watching for that'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and not __fish_seen_subcommand_from keys config tx run status failover failback switchover pause resume cancel alerts badge service init completions man help" -f -a "alerts" -d 'The alert channels: send a test alert to each'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and not __fish_seen_subcommand_from keys config tx run status failover failback switchover pause resume cancel alerts badge service init completions man help" -f -a "badge" -d 'The owner badge: put it in an access controller, so a stolen hot key cannot take it'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and not __fish_seen_subcommand_from keys config tx run status failover failback switchover pause resume cancel alerts badge service init completions man help" -f -a "service" -d 'The systemd unit: print it, or install it'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and not __fish_seen_subcommand_from keys config tx run status failover failback switchover pause resume cancel alerts badge service init completions man help" -f -a "init" -d 'Write a commented config: asks for each value (checked at once) on a terminal, or takes them all from flags'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and not __fish_seen_subcommand_from keys config tx run status failover failback switchover pause resume cancel alerts badge service init completions man help" -f -a "completions" -d 'Print a shell completion script (bash, zsh or fish) on stdout'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and not __fish_seen_subcommand_from keys config tx run status failover failback switchover pause resume cancel alerts badge service init completions man help" -f -a "man" -d 'Print the man page (roff) on stdout, or write one page per command into a directory'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and not __fish_seen_subcommand_from keys config tx run status failover failback switchover pause resume cancel alerts badge service init completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "derive" -d 'Derive the badge account\'s key from a Radix wallet mnemonic, as the wallet does'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "check" -d 'Validate a config file; print the resolved config and the key file\'s account address'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and __fish_seen_subcommand_from tx" -f -a "update-key" -d 'Build, sign and validate the update_key (failover) transaction offline, and print it'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and __fish_seen_subcommand_from tx" -f -a "inspect" -d 'Decode and validate a compiled notarized transaction (hex); print its header, manifest and intent hash. Use it to review bytes the daemon logged or another host built'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and __fish_seen_subcommand_from alerts" -f -a "test" -d 'Send one test alert to each configured channel now and print each result; exits non-zero when any fails or none is configured. On PagerDuty it opens a warning incident (`.../test`), to resolve by hand'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and __fish_seen_subcommand_from badge" -f -a "secure" -d 'Print (on stdout) the manifest that moves the owner badge from the daemon key\'s account into a new access controller: primary role = the daemon\'s key, recovery = your cold account or badge. Checked offline with the official compiler; you sign it with your wallet. The steps and the resulting config lines go to stderr'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and __fish_seen_subcommand_from badge" -f -a "lock" -d 'Print (on stdout) the manifest that locks the primary role of the access controller in badge_holder, for the recovery key to sign: the hot key can then prove nothing. For when the authority tripwire reports a change you did not make'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and __fish_seen_subcommand_from service" -f -a "print" -d 'Print the systemd unit for this config (Type=notify, watchdog, hardening)'
complete -c radix-failover -n "__fish_radix_failover_using_subcommand help; and __fish_seen_subcommand_from service" -f -a "install" -d 'Write the systemd unit file (mode 0644); with --dry-run, only show what would be written'
