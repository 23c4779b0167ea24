//! The output folder: run ids, one folder per run, the `latest` pointer, the
//! previous run, and atomic file writes.
//!
//! Layout of `DIR` (SPEC §3):
//!
//! ```text
//! DIR/20261125T193000Z/      one folder per run (a `-2`, `-3`… suffix when two runs share a second)
//! DIR/latest -> 20261125T193000Z   relative symlink, replaced atomically (unix)
//! DIR/latest.txt             the run id, for platforms (and tools) without symlinks
//! DIR/20261126T090000Z-rerender-of-20261125T193000Z/   `fleetscan report --snapshot`: never `latest`
//! ```
//!
//! A re-render (`fleetscan report --snapshot`) gets its own folder, whose
//! name is not a run id, its `findings.json` says `"run_kind": "re-render"`,
//! and it does not move `latest`: the next scan compares with the last
//! *scan*, never with a re-render.
//!
//! Every file is written to a temporary file in the same folder, flushed,
//! fsynced and renamed over its final name, so a reader (or a crash) never
//! sees a half-written file; a failed write removes its temporary file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};

use super::ReportError;
use crate::findings::{Finding, NotChecked};

/// Name of the symlink that points at the newest run folder.
pub const LATEST_LINK: &str = "latest";
/// Name of the file holding the newest run id (portable twin of [`LATEST_LINK`]).
pub const LATEST_TXT: &str = "latest.txt";

/// A run id for a run starting at `at`: `20261125T193000Z` (UTC).
pub fn run_id_at(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A run id for a run starting now.
pub fn new_run_id() -> String {
    run_id_at(Utc::now())
}

/// Splits a run id into its timestamp and collision suffix (`1` when none),
/// or `None` when `name` is not a run id. Also guards folder names: a run id
/// never contains a path separator or `..`.
pub fn parse_run_id(name: &str) -> Option<(&str, u32)> {
    let (stamp, suffix) = match name.split_once('-') {
        Some((stamp, suffix)) => {
            let n: u32 = suffix.parse().ok().filter(|n| *n >= 2)?;
            if !suffix.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (stamp, n)
        }
        None => (name, 1),
    };
    let b = stamp.as_bytes();
    let ok = b.len() == 16 && b[..8].iter().all(u8::is_ascii_digit) && b[8] == b'T' && b[9..15].iter().all(u8::is_ascii_digit) && b[15] == b'Z';
    ok.then_some((stamp, suffix))
}

/// Creates `out_dir/<run id>` and returns it with the run id used. `base` is
/// the run id the scan started with (when it is a valid run id), else the
/// current time. If that folder exists (two runs in one second) the id gets a
/// `-2`, `-3`, … suffix; `create_dir` makes the choice race-free between
/// processes.
pub fn create_run_folder(out_dir: &Path, base: Option<&str>) -> Result<(String, PathBuf), ReportError> {
    fs::create_dir_all(out_dir).map_err(|source| ReportError::io(out_dir, source))?;
    let stamp = match base.and_then(parse_run_id) {
        Some((stamp, _)) => stamp.to_owned(),
        None => new_run_id(),
    };
    for n in 1..=10_000u32 {
        let run_id = if n == 1 { stamp.clone() } else { format!("{stamp}-{n}") };
        let path = out_dir.join(&run_id);
        match fs::create_dir(&path) {
            Ok(()) => return Ok((run_id, path)),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(ReportError::io(&path, source)),
        }
    }
    Err(ReportError::io(out_dir.join(&stamp), io::Error::new(io::ErrorKind::AlreadyExists, "too many runs with this run id")))
}

/// Creates `out_dir/<name>` for a re-render, named
/// `<now>-rerender-of-<source run id>` (the source part only when it is a
/// valid run id), with a `-2`, `-3`, … suffix when it exists. The name is
/// not a run id, so no scan takes the folder for a run.
pub fn create_rerender_folder(out_dir: &Path, source_run_id: &str) -> Result<(String, PathBuf), ReportError> {
    fs::create_dir_all(out_dir).map_err(|source| ReportError::io(out_dir, source))?;
    let base = match parse_run_id(source_run_id) {
        Some(_) => format!("{}-rerender-of-{source_run_id}", new_run_id()),
        None => format!("{}-rerender", new_run_id()),
    };
    for n in 1..=10_000u32 {
        let name = if n == 1 { base.clone() } else { format!("{base}-{n}") };
        let path = out_dir.join(&name);
        match fs::create_dir(&path) {
            Ok(()) => return Ok((name, path)),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(ReportError::io(&path, source)),
        }
    }
    Err(ReportError::io(out_dir.join(&base), io::Error::new(io::ErrorKind::AlreadyExists, "too many re-renders with this name")))
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn temp_path(final_path: &Path) -> PathBuf {
    let name = final_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    final_path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

/// Removes the temporary file unless the write was committed (also on panic).
struct TempGuard {
    path: PathBuf,
    committed: bool,
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Writes `path` atomically: `write` fills a buffered temporary file in the
/// same folder, which is flushed, fsynced and renamed over `path`. On any
/// error (or panic) the temporary file is removed and `path` is untouched.
pub fn write_atomic<F>(path: &Path, write: F) -> Result<(), ReportError>
where
    F: FnOnce(&mut BufWriter<File>) -> io::Result<()>,
{
    let temp = temp_path(path);
    let file = OpenOptions::new().write(true).create_new(true).open(&temp).map_err(|source| ReportError::io(&temp, source))?;
    let mut guard = TempGuard { path: temp.clone(), committed: false };
    let mut writer = BufWriter::with_capacity(256 * 1024, file);
    write(&mut writer).and_then(|()| writer.flush()).map_err(|source| ReportError::io(path, source))?;
    let file = writer.into_inner().map_err(|err| ReportError::io(path, err.into_error()))?;
    file.sync_all().map_err(|source| ReportError::io(path, source))?;
    drop(file);
    fs::rename(&temp, path).map_err(|source| ReportError::io(path, source))?;
    guard.committed = true;
    sync_dir(path.parent());
    Ok(())
}

/// Makes a rename durable (best effort; not every platform can open a folder).
fn sync_dir(dir: Option<&Path>) {
    #[cfg(unix)]
    if let Some(dir) = dir {
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        if let Ok(handle) = File::open(dir) {
            let _ = handle.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Points `out_dir/latest` (symlink, unix) and `out_dir/latest.txt` at
/// `run_id`. Call it only after every file of the run is written, so
/// `latest` always names a complete run. The symlink is created under a
/// temporary name and renamed over the old one: readers see the old or the
/// new target, never no link. A failure to make the symlink (a real folder
/// named `latest`, a filesystem without symlinks) is logged, not fatal:
/// `latest.txt` still says where the run is.
pub fn update_latest(out_dir: &Path, run_id: &str) -> Result<(), ReportError> {
    write_atomic(&out_dir.join(LATEST_TXT), |w| writeln!(w, "{run_id}"))?;
    #[cfg(unix)]
    {
        let link = out_dir.join(LATEST_LINK);
        let temp = temp_path(&link);
        let result = std::os::unix::fs::symlink(run_id, &temp).and_then(|()| fs::rename(&temp, &link));
        if let Err(err) = result {
            let _ = fs::remove_file(&temp);
            tracing::warn!(link = %link.display(), error = %err, "could not update the `latest` symlink; {LATEST_TXT} names the run");
        }
        sync_dir(Some(out_dir));
    }
    Ok(())
}

/// The previous scan, as recorded in its `findings.json`.
#[derive(Debug, Clone)]
pub struct PreviousRun {
    pub run_id: String,
    pub dir: PathBuf,
    /// Whole: those not in the current run's findings.
    pub findings: Vec<Finding>,
    /// The others, by id and status (see [`super::previous`]).
    pub seen: Vec<crate::findings::SeenFinding>,
    /// The findings that run could not check (carried to this comparison).
    pub not_checked: Vec<NotChecked>,
}

/// Finds the previous *scan* in `out_dir`, for "new / resolved since the
/// previous run": the run named by `latest.txt`, else the `latest` symlink,
/// else the newest run folder; the first of these whose `findings.json`
/// reads and is a scan (a re-render is never a comparison base). With
/// `before`, only runs older than that run id count (a re-render of an old
/// snapshot compares with the scan before it). Call it before writing the
/// new run. `None` when there is none (first run) — an unreadable
/// `findings.json` is logged and skipped. `current`: this run's findings
/// (empty to keep every previous one whole).
pub fn previous_run(out_dir: &Path, current: &[Finding], before: Option<&str>) -> Option<PreviousRun> {
    let before = before.and_then(parse_run_id);
    let mut candidates: Vec<String> = Vec::new();
    if let Ok(text) = fs::read_to_string(out_dir.join(LATEST_TXT)) {
        candidates.push(text.trim().to_owned());
    }
    if let Ok(target) = fs::read_link(out_dir.join(LATEST_LINK)) {
        if let Some(name) = target.file_name() {
            candidates.push(name.to_string_lossy().into_owned());
        }
    }
    let mut folders: Vec<String> = fs::read_dir(out_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| parse_run_id(name).is_some())
        .collect();
    folders.sort_by(|a, b| parse_run_id(b).cmp(&parse_run_id(a)));
    candidates.extend(folders);

    let mut tried = std::collections::HashSet::new();
    for run_id in candidates {
        let Some(parsed) = parse_run_id(&run_id) else { continue };
        if before.is_some_and(|before| parsed >= before) || !tried.insert(run_id.clone()) {
            continue;
        }
        let dir = out_dir.join(&run_id);
        match read_run(&dir, current) {
            Ok(Some(run)) => return Some(run),
            Ok(None) => tracing::debug!(dir = %dir.display(), "skipping a re-render as comparison base"),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => {
                let path = dir.join(super::FINDINGS_JSON);
                tracing::warn!(path = %path.display(), error = %err, "skipping unreadable previous findings.json");
            }
        }
    }
    None
}

/// The findings of the scan written into `dir` (its `findings.json`), those
/// also in `current` reduced to id and status; `None` for a re-render.
pub fn read_run(dir: &Path, current: &[Finding]) -> std::io::Result<Option<PreviousRun>> {
    let now: std::collections::HashSet<&str> = current.iter().map(|f| f.finding_id.as_str()).collect();
    let file = super::previous::read_findings(dir, &|id| !now.contains(id))?;
    if file.run_kind != super::RUN_KIND_SCAN {
        return Ok(None);
    }
    Ok(Some(PreviousRun {
        run_id: file.run_id,
        dir: dir.to_path_buf(),
        findings: file.findings,
        seen: file.seen,
        not_checked: file.not_checked,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_parse_and_order() {
        assert_eq!(parse_run_id("20261125T193000Z"), Some(("20261125T193000Z", 1)));
        assert_eq!(parse_run_id("20261125T193000Z-12"), Some(("20261125T193000Z", 12)));
        for bad in ["latest", "20261125T193000Z-1", "20261125T193000Z-x", "../20261125T193000Z", "2026112T193000Z", "20261125T193000Z-+3"] {
            assert_eq!(parse_run_id(bad), None, "{bad}");
        }
        assert!(parse_run_id("20261125T193000Z-10") > parse_run_id("20261125T193000Z-2"));
        let at = DateTime::parse_from_rfc3339("2026-11-25T19:30:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(run_id_at(at), "20261125T193000Z");
    }

    #[test]
    fn two_runs_in_one_second_get_distinct_folders() {
        let dir = tempfile::tempdir().unwrap();
        let (a, _) = create_run_folder(dir.path(), Some("20261125T193000Z")).unwrap();
        let (b, pb) = create_run_folder(dir.path(), Some("20261125T193000Z")).unwrap();
        let (c, _) = create_run_folder(dir.path(), Some("not a run id")).unwrap();
        assert_eq!(a, "20261125T193000Z");
        assert_eq!(b, "20261125T193000Z-2");
        assert!(pb.is_dir());
        assert!(parse_run_id(&c).is_some());
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }

    #[test]
    fn atomic_write_replaces_whole_file_or_leaves_it_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        write_atomic(&path, |w| w.write_all(b"first\n")).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "first\n");

        // a writer failing half-way: the old content stays, no temp file is left
        let err = write_atomic(&path, |w| {
            w.write_all(b"half of the")?;
            Err(io::Error::other("disk on fire"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("disk on fire"), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "first\n");
        assert!(leftovers(dir.path()).is_empty());

        // a failing first write leaves no file at all
        let fresh = dir.path().join("fresh.json");
        assert!(write_atomic(&fresh, |_| Err(io::Error::other("no"))).is_err());
        assert!(!fresh.exists());

        // a panicking writer leaves no temp file either
        let result = std::panic::catch_unwind(|| {
            let _ = write_atomic(&dir.path().join("p.txt"), |w| {
                w.write_all(b"x")?;
                panic!("boom")
            });
        });
        assert!(result.is_err());
        assert!(leftovers(dir.path()).is_empty());
        assert!(!dir.path().join("p.txt").exists());
    }

    #[test]
    fn latest_pointer_moves_to_the_newest_run() {
        let dir = tempfile::tempdir().unwrap();
        let (first, _) = create_run_folder(dir.path(), Some("20261125T193000Z")).unwrap();
        update_latest(dir.path(), &first).unwrap();
        let (second, _) = create_run_folder(dir.path(), Some("20261126T193000Z")).unwrap();
        update_latest(dir.path(), &second).unwrap();
        assert_eq!(fs::read_to_string(dir.path().join(LATEST_TXT)).unwrap(), "20261126T193000Z\n");
        #[cfg(unix)]
        {
            assert_eq!(fs::read_link(dir.path().join(LATEST_LINK)).unwrap(), Path::new("20261126T193000Z"));
            assert!(dir.path().join(LATEST_LINK).join(".").is_dir());
        }
        assert!(leftovers(dir.path()).is_empty());
    }
}
