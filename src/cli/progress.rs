//! Progress: a bar on a terminal, plain log lines otherwise.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use crate::collect::ProgressEvent;

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(targets: u64, quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(targets);
            if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} account×regions  {msg}") {
                bar.set_style(style);
            }
            bar
        });
        Self { bar }
    }

    pub fn event(&self, event: &ProgressEvent) {
        match (event, &self.bar) {
            (ProgressEvent::Started { accounts, targets }, _) => {
                tracing::info!("scanning {accounts} accounts, {targets} account × region targets");
            }
            (ProgressEvent::RegionDone { account_id, region, .. }, Some(bar)) => {
                bar.inc(1);
                bar.set_message(format!("{account_id} {region}"));
            }
            (ProgressEvent::RegionDone { account_id, region, apps, ok }, None) => {
                tracing::debug!(account = %account_id, %region, apps, ok, "region done");
            }
            (ProgressEvent::AccountDone { account_id, account_name, apps, ok }, bar) => {
                let line = format!("account {account_id} ({account_name}): {apps} apps{}", if *ok { "" } else { ", incomplete (see coverage)" });
                match bar {
                    Some(bar) => bar.println(line),
                    None => tracing::info!("{line}"),
                }
            }
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
