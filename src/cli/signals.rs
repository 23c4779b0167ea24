//! SIGINT / SIGTERM for the whole of `fleetscan scan`, as README "Running
//! it nightly" documents:
//!
//! * first signal while collecting: no new AWS call starts, calls in flight
//!   get a short grace, and the report is written marked interrupted (exit 3);
//! * first signal while evaluating or writing the report (everything is
//!   collected): the report is finished and the run ends as it would have;
//! * second signal, at any point: abandon at once (exit 2; what is not
//!   written yet is not written, and `latest` still names a complete run).
//!
//! The watcher runs on the async runtime's worker threads for the whole
//! command, so it keeps listening while evaluation and report writing run
//! on the main thread. (Once tokio has installed its handlers, a signal no
//! one listens to would be swallowed: the process would ignore SIGTERM.)

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::watch;

use crate::exit::Outcome;

/// The signal state of one run, shared with the watcher task.
#[derive(Debug, Clone)]
pub struct Signals {
    first: Arc<watch::Sender<Option<&'static str>>>,
    collecting: Arc<AtomicBool>,
}

impl Signals {
    /// Starts watching SIGINT and SIGTERM on `runtime`; the watcher lives as
    /// long as the runtime.
    pub fn watch(runtime: &tokio::runtime::Runtime) -> Self {
        let signals = Self { first: Arc::new(watch::Sender::new(None)), collecting: Arc::new(AtomicBool::new(true)) };
        let state = signals.clone();
        runtime.spawn(async move {
            state
                .run(next_signal, |name| {
                    eprintln!("{name} again: abandoning the run at once; no report written");
                    std::process::exit(i32::from(Outcome::Fatal.code()));
                })
                .await
        });
        signals
    }

    /// Collection is over: a first signal from now on lets the report finish.
    pub fn collection_done(&self) {
        self.collecting.store(false, Ordering::SeqCst);
    }

    /// Resolves with the first signal's name once one arrived (at once if
    /// one already did).
    pub async fn first(&self) -> &'static str {
        let mut rx = self.first.subscribe();
        let name = rx.wait_for(Option::is_some).await.ok().and_then(|name| *name);
        match name {
            Some(name) => name,
            // The sender lives in `self`: never closed while we wait.
            None => std::future::pending().await,
        }
    }

    /// The watcher: `next` yields each signal's name; the second one calls
    /// `abandon` (which exits the process in production).
    async fn run<N, F>(&self, mut next: N, abandon: impl Fn(&'static str))
    where
        N: FnMut() -> F,
        F: std::future::Future<Output = Option<&'static str>>,
    {
        let mut seen = 0;
        while let Some(name) = next().await {
            seen += 1;
            if seen > 1 {
                abandon(name);
                return;
            }
            if self.collecting.load(Ordering::SeqCst) {
                tracing::warn!("{name}: stopping; finishing in-flight calls, then writing the report marked interrupted (send again to abandon)");
            } else {
                tracing::warn!("{name}: everything is collected; finishing the report (send again to abandon)");
            }
            self.first.send_replace(Some(name));
        }
    }
}

#[cfg(unix)]
async fn next_signal() -> Option<&'static str> {
    use std::sync::OnceLock;
    use tokio::signal::unix::{signal, Signal, SignalKind};
    use tokio::sync::Mutex;
    // One listener per kind for the whole process (creating a new one per
    // call could miss a signal delivered in between).
    static LISTENERS: OnceLock<Option<Mutex<(Signal, Signal)>>> = OnceLock::new();
    let listeners = LISTENERS.get_or_init(|| match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
        (Ok(interrupt), Ok(terminate)) => Some(Mutex::new((interrupt, terminate))),
        _ => None,
    });
    let Some(listeners) = listeners else { return std::future::pending().await };
    let mut guard = listeners.lock().await;
    let (interrupt, terminate) = &mut *guard;
    tokio::select! {
        _ = interrupt.recv() => Some("SIGINT"),
        _ = terminate.recv() => Some("SIGTERM"),
    }
}

#[cfg(not(unix))]
async fn next_signal() -> Option<&'static str> {
    match tokio::signal::ctrl_c().await {
        Ok(()) => Some("Ctrl-C"),
        Err(_) => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Feeds `names` as signals to a watcher in the given phase; returns
    /// what the first signal recorded and the signals that abandoned.
    async fn feed(collecting: bool, names: &[&'static str]) -> (Option<&'static str>, Vec<&'static str>) {
        let signals = Signals { first: Arc::new(watch::Sender::new(None)), collecting: Arc::new(AtomicBool::new(true)) };
        if !collecting {
            signals.collection_done();
        }
        let queue = Mutex::new(names.iter().copied());
        let abandoned = Mutex::new(Vec::new());
        signals
            .run(
                || {
                    let next = queue.lock().ok().and_then(|mut q| q.next());
                    async move { next }
                },
                |name| abandoned.lock().unwrap().push(name),
            )
            .await;
        let first = *signals.first.borrow();
        (first, abandoned.into_inner().unwrap())
    }

    #[tokio::test]
    async fn first_signal_while_writing_the_report_lets_it_finish() {
        let (first, abandoned) = feed(false, &["SIGTERM"]).await;
        assert_eq!(first, Some("SIGTERM"), "recorded");
        assert!(abandoned.is_empty(), "the report is finished, not abandoned");
    }

    #[tokio::test]
    async fn second_signal_abandons_at_once_in_any_phase() {
        for collecting in [true, false] {
            let (first, abandoned) = feed(collecting, &["SIGTERM", "SIGINT", "SIGINT"]).await;
            assert_eq!(first, Some("SIGTERM"));
            assert_eq!(abandoned, vec!["SIGINT"], "abandoned on the second signal, once (collecting: {collecting})");
        }
    }

    #[tokio::test]
    async fn first_resolves_for_a_signal_that_came_before_anyone_waited() {
        let signals = Signals { first: Arc::new(watch::Sender::new(None)), collecting: Arc::new(AtomicBool::new(true)) };
        signals.first.send_replace(Some("SIGINT"));
        assert_eq!(signals.first().await, "SIGINT");
    }
}
