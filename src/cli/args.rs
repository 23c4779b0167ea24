//! The command line (SPEC §3, a contract): commands, flags and their help.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::OutputFormat;
use crate::exit_codes_help;

const AFTER_HELP: &str = concat!(
    "Credentials and endpoints come from the standard AWS chain (environment,\n",
    "profile, SSO, instance role). AWS_ENDPOINT_URL points every service at one\n",
    "endpoint (an emulator, a proxy). fleetscan only reads: every call is a\n",
    "List, Describe or Get.\n\n",
    "Typical nightly run:\n",
    "  fleetscan scan --config fleetscan.toml --out /var/lib/fleetscan\n\n",
    exit_codes_help!()
);

#[derive(Debug, Parser)]
#[command(
    name = "fleetscan",
    version,
    about = "Audit Amazon Managed Service for Apache Flink applications across an AWS Organization",
    long_about = "Audit Amazon Managed Service for Apache Flink applications across every account \
of an AWS Organization: checkpoint configuration and health, snapshots, operations, and the SCPs, \
RCPs, permissions boundaries and resource policies that decide what each application's role may do. \
Compares prod with dev and tonight with last night.",
    after_help = AFTER_HELP,
    propagate_version = true
)]
pub struct Cli {
    /// More detail on stderr (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Only errors and the final summary on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan the Organization: collect, evaluate, and write the report into DIR/<run-id>/.
    #[command(after_help = "Writes report.html, findings.csv, apps.csv, drift.csv, coverage.csv, \
findings.json and snapshot.json into DIR/<run-id>/ and points DIR/latest at it; on request \
(--format) also findings.ocsf.json, findings.asff.json, findings.sarif and findings.junit.xml.")]
    Scan(ScanArgs),

    /// Re-evaluate a saved snapshot with the current config and render it again, offline.
    Report(ReportArgs),

    /// Compare two snapshots: new, resolved and still-open findings, and what changed.
    Diff(DiffArgs),

    /// Decide one IAM request from a bundle of policies and explain the decision (JSON out).
    #[command(after_help = "The bundle format is in SPEC §7 and README \"Explaining a decision\":\n\
{\"request\": {\"principal\", \"action\", \"resource\", \"resource_account\", \"context\"},\n \
\"identity_policies\", \"permission_boundaries\", \"session_policy\", \"scps\", \"rcps\",\n \
\"resource_policy\", \"endpoint_policies\"}")]
    Explain(ExplainArgs),

    /// Print the plan: every account with its OU path, status, whether it will be scanned, and regions.
    Accounts(ConfigArgs),

    /// Check the setup: caller identity, Organizations access, one AssumeRole into a member account.
    Doctor(DoctorArgs),

    /// Print the check catalogue: ids, default severities and what each check means.
    Checks(ChecksArgs),

    /// What a policy change would break: decide every app's required actions before and after, offline.
    #[command(after_long_help = IMPACT_HELP)]
    Impact(ImpactArgs),

    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(after_help = "Install, for example:\n  \
fleetscan completions bash > ~/.local/share/bash-completion/completions/fleetscan\n  \
fleetscan completions zsh > \"${fpath[1]}/_fleetscan\"\n  \
fleetscan completions fish > ~/.config/fish/completions/fleetscan.fish\n  \
fleetscan completions powershell >> $PROFILE")]
    Completions(CompletionsArgs),

    /// Print the man page (roff): fleetscan manpage > fleetscan.1; man ./fleetscan.1
    Manpage,

    /// The config file: its JSON Schema, or a commented starter file.
    #[command(subcommand)]
    Config(ConfigCommand),
}

const IMPACT_HELP: &str = "\
Changes, any number, applied in the order given to the snapshot's Organization:
  --attach FILE --to TARGET [--type scp|rcp]   a new policy (its name is the file's stem), attached at TARGET
  --detach NAME --from TARGET                  an attached SCP or RCP, by name or id
  --replace NAME --with FILE                   a new document for an SCP/RCP (name or id) or for a
                                               customer managed IAM policy (its ARN): every role that
                                               attaches it, as identity policy or boundary, sees it
TARGET is a root id (r-…), an OU id (ou-…), an OU path such as Root/Workloads/Prod, an account
id or an account name. Bad input (unknown target or policy, a document that does not parse, a
detach AWS would refuse) is an error and nothing is applied.

Only the apps the changes can touch are decided again (accounts under a changed target, apps
whose resources live there, roles using a replaced policy).

Exit codes: 0 no required action becomes denied, 1 some does, 2 error.

Examples:
  fleetscan impact --snapshot reports/latest/snapshot.json \\
      --attach policies/deny-kinesis-writes.json --to Root/Workloads/Dev
  fleetscan impact --snapshot snap.json --detach OrdersProdEuMigration --from Root/Workloads/Prod/Orders
  fleetscan impact --snapshot snap.json --format json \\
      --replace arn:aws:iam::111111111111:policy/payments-boundary --with boundary-v2.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyTypeArg {
    Scp,
    Rcp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImpactFormat {
    Text,
    Json,
}

/// `fleetscan impact`. The change options pair up in the order given (see
/// `cli::impact`), so they are plain lists here.
#[derive(Debug, Args)]
pub struct ImpactArgs {
    /// snapshot.json of a scan (e.g. last night's).
    #[arg(long, value_name = "FILE")]
    pub snapshot: PathBuf,

    #[command(flatten)]
    pub config: ConfigArgs,

    /// Attach the policy in FILE (JSON) at the --to target that follows.
    #[arg(long, value_name = "FILE", action = clap::ArgAction::Append)]
    pub attach: Vec<PathBuf>,

    /// Where the preceding --attach goes.
    #[arg(long, value_name = "TARGET", action = clap::ArgAction::Append)]
    pub to: Vec<String>,

    /// Policy type of the preceding --attach. [default: scp]
    #[arg(long = "type", value_enum, value_name = "scp|rcp", action = clap::ArgAction::Append)]
    pub kind: Vec<PolicyTypeArg>,

    /// Detach this SCP or RCP (name or id) from the --from target that follows.
    #[arg(long, value_name = "NAME", action = clap::ArgAction::Append)]
    pub detach: Vec<String>,

    /// Where the preceding --detach applies.
    #[arg(long, value_name = "TARGET", action = clap::ArgAction::Append)]
    pub from: Vec<String>,

    /// Replace the document of this SCP/RCP (name or id) or customer managed policy (ARN).
    #[arg(long, value_name = "NAME", action = clap::ArgAction::Append)]
    pub replace: Vec<String>,

    /// The new document (JSON) for the preceding --replace.
    #[arg(long = "with", value_name = "FILE", action = clap::ArgAction::Append)]
    pub with: Vec<PathBuf>,

    /// Output format on standard output.
    #[arg(long, value_enum, default_value_t = ImpactFormat::Text)]
    pub format: ImpactFormat,

    /// Also write impact.json and impact.html into this folder.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the JSON Schema of the config file, for editors to complete and check it.
    #[command(after_help = "For Taplo / Even Better TOML, save it and point the file at it:\n  \
fleetscan config schema > fleetscan.schema.json\n  \
then add `#:schema ./fleetscan.schema.json` as the first line of fleetscan.toml.")]
    Schema,
    /// Write a commented starter fleetscan.toml (never overwrites a file).
    Init(InitArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write it.
    #[arg(long, value_name = "FILE", default_value = "fleetscan.toml")]
    pub path: PathBuf,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Configuration file (TOML). Without it, built-in defaults apply.
    #[arg(long, short = 'c', value_name = "FILE", env = "FLEETSCAN_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub config: ConfigArgs,

    /// Output folder; each run writes DIR/<run-id>/ and updates DIR/latest. [default: reports]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Regions to scan, comma-separated (overrides aws.regions).
    #[arg(long, value_name = "R,..", value_delimiter = ',')]
    pub regions: Option<Vec<String>>,

    /// Only these accounts (ids or names, comma-separated; overrides accounts.include_accounts).
    #[arg(long, value_name = "ID,..", value_delimiter = ',')]
    pub accounts: Option<Vec<String>>,

    /// Exit 1 when an open finding is at or above this severity. [default: high]
    #[arg(long, value_name = "SEVERITY", value_parser = ["info", "low", "medium", "high", "critical"])]
    pub fail_on: Option<String>,

    /// Stop starting new work after this long (e.g. 30m, 2h); unfinished targets
    /// are recorded as skipped and the report is still written.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub max_duration: Option<std::time::Duration>,

    /// Output formats, comma-separated (replaces [output] formats): html, csv, json, ocsf, asff, sarif, junit.
    /// findings.json is always written.
    #[arg(long = "format", value_name = "FORMAT,..", value_delimiter = ',', value_parser = parse_format)]
    pub formats: Option<Vec<OutputFormat>>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// snapshot.json written by an earlier scan.
    #[arg(long, value_name = "FILE")]
    pub snapshot: PathBuf,

    #[command(flatten)]
    pub config: ConfigArgs,

    /// Output folder. [default: reports]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Exit 1 (and fail the JUnit cases) when an open finding is at or above this severity. [default: high]
    #[arg(long, value_name = "SEVERITY", value_parser = ["info", "low", "medium", "high", "critical"])]
    pub fail_on: Option<String>,

    /// Output formats, comma-separated (replaces [output] formats): html, csv, json, ocsf, asff, sarif, junit.
    /// findings.json is always written.
    #[arg(long = "format", value_name = "FORMAT,..", value_delimiter = ',', value_parser = parse_format)]
    pub formats: Option<Vec<OutputFormat>>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The older snapshot.json (e.g. last night's).
    pub old_snapshot: PathBuf,
    /// The newer snapshot.json.
    pub new_snapshot: PathBuf,

    #[command(flatten)]
    pub config: ConfigArgs,

    /// Also write diff.json and diff.csv into this folder.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    Json,
    Text,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Bundle file (JSON), or `-` for standard input.
    #[arg(long, value_name = "FILE|-")]
    pub bundle: String,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Json)]
    pub format: ExplainFormat,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub config: ConfigArgs,

    /// Member account (id or name) to try AssumeRole into. [default: the first member]
    #[arg(long, value_name = "ACCOUNT")]
    pub account: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CatalogFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct ChecksArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = CatalogFormat::Text)]
    pub format: CatalogFormat,

    /// Only this check (full documentation).
    pub check: Option<String>,
}

/// One `--format` name (the message names the bad value and every allowed one).
fn parse_format(text: &str) -> Result<OutputFormat, String> {
    text.parse()
}

/// Parses `90s`, `30m`, `2h` or plain seconds.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: u64 = number.parse().map_err(|_| format!("`{text}` is not a duration such as 90s, 30m or 2h"))?;
    let seconds = match unit {
        "s" => value,
        "m" => value * 60,
        "h" => value * 3600,
        _ => return Err(format!("`{text}` is not a duration such as 90s, 30m or 2h")),
    };
    if seconds == 0 {
        return Err("the duration must be above zero".into());
    }
    Ok(std::time::Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("90").unwrap().as_secs(), 90);
        assert_eq!(parse_duration("30m").unwrap().as_secs(), 1800);
        assert_eq!(parse_duration("2h").unwrap().as_secs(), 7200);
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("0s").is_err());
    }

    #[test]
    fn contract_flags_parse() {
        let cli = Cli::try_parse_from([
            "fleetscan",
            "scan",
            "--config",
            "c.toml",
            "--out",
            "o",
            "--regions",
            "us-east-1,eu-west-1",
            "--accounts",
            "111111111111,dev",
            "--fail-on",
            "medium",
        ])
        .unwrap();
        let Command::Scan(scan) = cli.command else { panic!("not scan") };
        assert_eq!(scan.regions.unwrap(), vec!["us-east-1", "eu-west-1"]);
        assert_eq!(scan.accounts.unwrap(), vec!["111111111111", "dev"]);
        assert_eq!(scan.fail_on.as_deref(), Some("medium"));
        assert!(Cli::try_parse_from(["fleetscan", "diff", "a.json", "b.json"]).is_ok());
        assert!(Cli::try_parse_from(["fleetscan", "explain", "--bundle", "-"]).is_ok());
        assert!(Cli::try_parse_from(["fleetscan", "report", "--snapshot", "s.json"]).is_ok());
        assert!(Cli::try_parse_from(["fleetscan", "report", "--snapshot", "s.json", "--fail-on", "low"]).is_ok());
        assert!(Cli::try_parse_from(["fleetscan", "scan", "--fail-on", "severe"]).is_err());
        for shell in ["bash", "zsh", "fish", "powershell"] {
            assert!(Cli::try_parse_from(["fleetscan", "completions", shell]).is_ok(), "{shell}");
        }
        assert!(Cli::try_parse_from(["fleetscan", "completions", "tcsh"]).is_err());
        assert!(Cli::try_parse_from(["fleetscan", "config", "init", "--path", "x.toml"]).is_ok());
    }

    #[test]
    fn formats_are_a_comma_list_and_unknown_names_are_refused() {
        let cli = Cli::try_parse_from(["fleetscan", "report", "--snapshot", "s.json", "--format", "html,SARIF,junit"]).unwrap();
        let Command::Report(report) = cli.command else { panic!("not report") };
        assert_eq!(report.formats.unwrap(), vec![OutputFormat::Html, OutputFormat::Sarif, OutputFormat::Junit]);
        let err = Cli::try_parse_from(["fleetscan", "scan", "--format", "csv,pdf"]).unwrap_err().to_string();
        assert!(err.contains("`pdf`") && err.contains("ocsf, asff, sarif, junit"), "{err}");
    }
}
