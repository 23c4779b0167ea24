//! `fleetscan impact --snapshot FILE [changes…]`: what a proposed SCP, RCP
//! or managed-policy change would do to the required actions of every
//! running app, decided offline. Exit 0 when nothing becomes denied, 1 when
//! something does (a policy pull request that breaks an app fails its check).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{ArgMatches, CommandFactory};

use crate::cli::args::{Cli, ImpactArgs, ImpactFormat, PolicyTypeArg};
use crate::cli::runtime::load_config;
use crate::config::Overrides;
use crate::exit::Outcome;
use crate::impact::{self, Change};
use crate::inventory::{Inventory, OrgPolicyKind};
use crate::report::output::write_atomic;

pub fn run(args: &ImpactArgs) -> anyhow::Result<Outcome> {
    let changes = ordered_changes(args)?;
    if changes.is_empty() {
        bail!(
            "no change given: use --attach FILE --to TARGET, --detach NAME --from TARGET or --replace NAME --with FILE (see fleetscan impact --help)"
        );
    }
    let config = load_config(&args.config, Overrides::default())?;
    let inventory = Inventory::load(&args.snapshot)?;
    let applied = impact::apply(&inventory, &changes).context("the changes cannot be applied")?;
    crate::memory::before_evaluation();
    let result = impact::analyse(&inventory, &applied, &config);
    match args.format {
        ImpactFormat::Text => print!("{}", impact::render_text(&result)),
        ImpactFormat::Json => println!("{}", impact::render_json(&result)?),
    }
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let json = impact::render_json(&result)?;
        write_atomic(&dir.join("impact.json"), |w| w.write_all(json.as_bytes()))?;
        let page = crate::report::impact_html::render(&result, &args.snapshot)?;
        write_atomic(&dir.join("impact.html"), |w| w.write_all(page.as_bytes()))?;
    }
    Ok(if result.breaks_something() { Outcome::Findings } else { Outcome::Clean })
}

/// The change options in the order given: clap keeps each option's values
/// apart, so their positions on the command line pair them up.
fn ordered_changes(args: &ImpactArgs) -> anyhow::Result<Vec<Change>> {
    let matches = Cli::command().try_get_matches_from(std::env::args_os()).ok();
    let sub = matches.as_ref().and_then(|m| m.subcommand_matches("impact"));
    match sub {
        Some(sub) => pair(sub),
        // Not parsed from this process's command line (a test calling run):
        // take the lists in order, one change of each kind after another.
        None => pair_lists(args),
    }
}

#[derive(Debug)]
enum Event {
    Attach(PathBuf),
    To(String),
    Type(PolicyTypeArg),
    Detach(String),
    From(String),
    Replace(String),
    With(PathBuf),
}

fn events(sub: &ArgMatches) -> Vec<(usize, Event)> {
    let mut out = Vec::new();
    let mut take = |id: &str, make: &dyn Fn(&ArgMatches, usize) -> Option<Event>| {
        if let Some(indices) = sub.indices_of(id) {
            for (n, index) in indices.enumerate() {
                if let Some(event) = make(sub, n) {
                    out.push((index, event));
                }
            }
        }
    };
    take("attach", &|m, n| m.get_many::<PathBuf>("attach").and_then(|mut v| v.nth(n)).cloned().map(Event::Attach));
    take("to", &|m, n| m.get_many::<String>("to").and_then(|mut v| v.nth(n)).cloned().map(Event::To));
    take("kind", &|m, n| m.get_many::<PolicyTypeArg>("kind").and_then(|mut v| v.nth(n)).copied().map(Event::Type));
    take("detach", &|m, n| m.get_many::<String>("detach").and_then(|mut v| v.nth(n)).cloned().map(Event::Detach));
    take("from", &|m, n| m.get_many::<String>("from").and_then(|mut v| v.nth(n)).cloned().map(Event::From));
    take("replace", &|m, n| m.get_many::<String>("replace").and_then(|mut v| v.nth(n)).cloned().map(Event::Replace));
    take("with", &|m, n| m.get_many::<PathBuf>("with").and_then(|mut v| v.nth(n)).cloned().map(Event::With));
    out.sort_by_key(|(index, _)| *index);
    out
}

/// A change still missing its second half.
enum Pending {
    Attach(PathBuf, Option<String>, OrgPolicyKind),
    Detach(String),
    Replace(String),
}

fn kind_of(kind: PolicyTypeArg) -> OrgPolicyKind {
    match kind {
        PolicyTypeArg::Scp => OrgPolicyKind::ServiceControlPolicy,
        PolicyTypeArg::Rcp => OrgPolicyKind::ResourceControlPolicy,
    }
}

fn pair(sub: &ArgMatches) -> anyhow::Result<Vec<Change>> {
    let mut changes = Vec::new();
    let mut pending: Option<Pending> = None;
    let finish = |pending: Option<Pending>, changes: &mut Vec<Change>| -> anyhow::Result<()> {
        match pending {
            None => Ok(()),
            Some(Pending::Attach(file, Some(target), kind)) => {
                changes.push(Change::Attach { file, target, kind });
                Ok(())
            }
            Some(Pending::Attach(file, None, _)) => bail!("--attach {} needs --to TARGET after it", file.display()),
            Some(Pending::Detach(policy)) => bail!("--detach {policy} needs --from TARGET after it"),
            Some(Pending::Replace(policy)) => bail!("--replace {policy} needs --with FILE after it"),
        }
    };
    for (_, event) in events(sub) {
        pending = match (pending.take(), event) {
            (Some(Pending::Attach(file, None, kind)), Event::To(target)) => Some(Pending::Attach(file, Some(target), kind)),
            (Some(Pending::Attach(file, target, _)), Event::Type(kind)) => Some(Pending::Attach(file, target, kind_of(kind))),
            (Some(Pending::Detach(policy)), Event::From(target)) => {
                changes.push(Change::Detach { policy, target });
                None
            }
            (Some(Pending::Replace(policy)), Event::With(file)) => {
                changes.push(Change::Replace { policy, file });
                None
            }
            (before, Event::Attach(file)) => {
                finish(before, &mut changes)?;
                Some(Pending::Attach(file, None, OrgPolicyKind::ServiceControlPolicy))
            }
            (before, Event::Detach(policy)) => {
                finish(before, &mut changes)?;
                Some(Pending::Detach(policy))
            }
            (before, Event::Replace(policy)) => {
                finish(before, &mut changes)?;
                Some(Pending::Replace(policy))
            }
            (_, Event::To(target)) => bail!("--to {target} must follow an --attach FILE"),
            (_, Event::Type(_)) => bail!("--type must follow an --attach FILE"),
            (_, Event::From(target)) => bail!("--from {target} must follow a --detach NAME"),
            (_, Event::With(file)) => bail!("--with {} must follow a --replace NAME", file.display()),
        };
    }
    finish(pending, &mut changes)?;
    Ok(changes)
}

fn pair_lists(args: &ImpactArgs) -> anyhow::Result<Vec<Change>> {
    if args.attach.len() != args.to.len() || args.detach.len() != args.from.len() || args.replace.len() != args.with.len() {
        bail!("each --attach needs a --to, each --detach a --from and each --replace a --with");
    }
    let kind = |n: usize| args.kind.get(n).copied().map(kind_of).unwrap_or(OrgPolicyKind::ServiceControlPolicy);
    let mut changes: Vec<Change> = args
        .attach
        .iter()
        .zip(&args.to)
        .enumerate()
        .map(|(n, (file, target))| Change::Attach { file: file.clone(), target: target.clone(), kind: kind(n) })
        .collect();
    changes.extend(
        args.detach
            .iter()
            .zip(&args.from)
            .map(|(policy, target)| Change::Detach { policy: policy.clone(), target: target.clone() }),
    );
    changes.extend(args.replace.iter().zip(&args.with).map(|(policy, file)| Change::Replace { policy: policy.clone(), file: file.clone() }));
    Ok(changes)
}
