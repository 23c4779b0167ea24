//! `fleetscan config schema` (the config file's JSON Schema, generated from
//! its types in src/config.rs) and `fleetscan config init` (a commented
//! starter file that never overwrites one).

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::exit::Outcome;

/// The starter `fleetscan.toml`: loads with the real config loader (tested).
pub const STARTER: &str = include_str!("starter.toml");

pub fn schema() -> anyhow::Result<Outcome> {
    let text = serde_json::to_string_pretty(&crate::config::json_schema())?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").and_then(|()| out.flush()).context("cannot write the schema")?;
    Ok(Outcome::Clean)
}

/// Writes [`STARTER`] to `path`; an existing file (or anything else at that
/// path) is left alone and is an error.
pub fn write_starter(path: &Path) -> anyhow::Result<()> {
    let mut file = match std::fs::OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            anyhow::bail!("{} already exists; not overwriting it (remove it, or choose another --path)", path.display())
        }
        Err(err) => return Err(err).with_context(|| format!("cannot create {}", path.display())),
    };
    file.write_all(STARTER.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

pub fn init(path: &Path) -> anyhow::Result<Outcome> {
    write_starter(path)?;
    println!("Wrote {}. Edit it, then: fleetscan accounts --config {}", path.display(), path.display());
    Ok(Outcome::Clean)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Overrides};

    #[test]
    fn starter_loads_with_the_real_loader_and_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fleetscan.toml");
        write_starter(&path).unwrap();
        let config = Config::load(Some(&path), Overrides::default()).unwrap();
        assert_eq!(config.aws.regions, vec!["us-east-1"]);
        assert_eq!(config.aws.role_name, "OrganizationAccountAccessRole");
        // Every commented `key = value` of a real section is the built-in default:
        // uncommented, the file resolves to the same settings.
        let mut in_commented_section = false;
        let mut uncommented = String::new();
        for line in STARTER.lines() {
            if line.starts_with('[') {
                in_commented_section = false;
            } else if line.starts_with("# [") {
                in_commented_section = true;
            }
            let setting = line.strip_prefix("# ").filter(|t| t.contains(" = ") && !in_commented_section);
            uncommented.push_str(setting.unwrap_or(line));
            uncommented.push('\n');
        }
        assert_ne!(uncommented, STARTER);
        let all = Config::resolve(crate::config::FileConfig::parse(&uncommented).unwrap(), Overrides::default()).unwrap();
        assert_eq!(all.digest(), config.digest(), "{uncommented}");
        let err = write_starter(&path).unwrap_err().to_string();
        assert!(err.contains("already exists"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), STARTER);
    }

    #[test]
    fn schema_describes_every_section_and_refuses_unknown_keys() {
        let schema = crate::config::json_schema();
        let text = schema.to_string();
        for key in ["aws", "accounts", "checks", "compare", "suppress", "require", "output", "role_name", "fail_on", "formats"] {
            assert!(text.contains(&format!("\"{key}\"")), "`{key}` missing");
        }
        assert_eq!(schema["additionalProperties"], false);
        assert!(text.contains("\"sarif\"") && text.contains("\"critical\""), "enumerated values");
        assert!(!text.contains("\"null\""), "TOML has no null");
    }
}
