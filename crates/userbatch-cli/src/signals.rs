//! Ctrl-C and SIGTERM: stop sending, then abandon what is in flight.
use crate::ui::Ui;
use std::io::{self};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use userbatch::Stopper;

/// On the first Ctrl-C or SIGTERM: no new requests; after `grace`, or on a second signal,
/// the requests in flight are abandoned too. Their ids come out of the stream as failed
/// ("interrupted").
pub(crate) async fn watch_signals(
    signals: io::Result<Signals>,
    stopper: Stopper,
    grace: Duration,
    interrupted: Arc<AtomicBool>,
    ui: Ui,
) {
    let mut signals = match signals {
        Ok(signals) => signals,
        Err(e) => {
            tracing::warn!("Ctrl-C cannot be caught, so it will lose what is in flight: {e}");
            return;
        }
    };
    signals.next().await;
    interrupted.store(true, Ordering::SeqCst);
    ui.say(format_args!(
        "interrupted: no new requests; waiting up to {}s for those in flight (Ctrl-C again \
         to stop now)",
        grace.as_secs()
    ));
    stopper.stop();
    tokio::select! {
        () = tokio::time::sleep(grace) => {}
        () = signals.next() => {}
    }
    stopper.abort();
}

/// SIGINT and SIGTERM (Ctrl-C elsewhere).
pub(crate) struct Signals {
    #[cfg(unix)]
    pub(crate) interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    pub(crate) terminate: tokio::signal::unix::Signal,
}

impl Signals {
    #[cfg(unix)]
    pub(crate) fn new() -> io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    #[cfg(not(unix))]
    pub(crate) fn new() -> io::Result<Self> {
        Ok(Self {})
    }

    #[cfg(unix)]
    pub(crate) async fn next(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }

    #[cfg(not(unix))]
    pub(crate) async fn next(&mut self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}
