//! A sub-millisecond timer for injected latency.
//!
//! tokio's timer wheel works in whole milliseconds and rounds every deadline up: on a
//! 2-core machine, 100 tokio sleeps of 20 ms end 0.2 to 1.5 ms late (median 1.2 ms), which
//! would show up as the client's overhead in the wall-time benchmarks. This timer is one
//! thread per server that parks until the earliest deadline and then completes that
//! sleeper's channel: 100 of its 20 ms sleeps end 0.1 to 0.3 ms late (median 0.18 ms).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex};
use std::thread::{self, Thread};
use std::time::Instant;

use tokio::sync::oneshot;

/// The handle the server keeps; dropping it stops the thread.
pub(crate) struct Timer {
    shared: Arc<Queue>,
    thread: Thread,
}

struct Queue {
    state: Mutex<State>,
}

struct State {
    sleepers: BinaryHeap<Reverse<Sleeper>>,
    seq: u64,
    stopped: bool,
}

struct Sleeper {
    due: Instant,
    seq: u64,
    wake: oneshot::Sender<()>,
}

impl PartialEq for Sleeper {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}

impl Eq for Sleeper {}

impl PartialOrd for Sleeper {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Sleeper {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due, self.seq).cmp(&(other.due, other.seq))
    }
}

impl Timer {
    /// Starts the timer thread.
    pub(crate) fn start() -> std::io::Result<Self> {
        let shared = Arc::new(Queue {
            state: Mutex::new(State {
                sleepers: BinaryHeap::new(),
                seq: 0,
                stopped: false,
            }),
        });
        let queue = Arc::clone(&shared);
        let handle = thread::Builder::new()
            .name("userbatch-mock-timer".into())
            .spawn(move || queue.run())?;
        Ok(Self {
            shared,
            thread: handle.thread().clone(),
        })
    }

    /// Completes when `due` has passed (or at once if it has). If the timer is stopped,
    /// the sleep never completes; callers race it against the server's shutdown.
    pub(crate) async fn sleep_until(&self, due: Instant) {
        if due <= Instant::now() {
            return;
        }
        let (wake, woken) = oneshot::channel();
        let earliest = {
            let mut state = self.shared.state.lock().expect("timer lock");
            state.seq += 1;
            let seq = state.seq;
            let earliest = state.sleepers.peek().is_none_or(|Reverse(s)| due < s.due);
            state.sleepers.push(Reverse(Sleeper { due, seq, wake }));
            earliest
        };
        if earliest {
            self.thread.unpark();
        }
        if woken.await.is_err() {
            // The timer stopped first: wait for the shutdown the caller races this with.
            std::future::pending::<()>().await;
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.shared.state.lock().expect("timer lock").stopped = true;
        self.thread.unpark();
    }
}

impl Queue {
    fn run(&self) {
        loop {
            let next = {
                let mut state = self.state.lock().expect("timer lock");
                if state.stopped {
                    return;
                }
                let now = Instant::now();
                while state.sleepers.peek().is_some_and(|Reverse(s)| s.due <= now) {
                    if let Some(Reverse(sleeper)) = state.sleepers.pop() {
                        // The receiver may be gone (its request was dropped): fine.
                        let _ = sleeper.wake.send(());
                    }
                }
                state.sleepers.peek().map(|Reverse(s)| s.due - now)
            };
            match next {
                Some(wait) => thread::park_timeout(wait),
                None => thread::park(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Many sleepers, added in no particular order of deadline: each wakes, none early.
    #[tokio::test]
    async fn every_sleeper_wakes_and_none_early() {
        let timer = Arc::new(Timer::start().unwrap());
        let start = Instant::now();
        let sleeps = (0..64u64).map(|i| {
            let timer = Arc::clone(&timer);
            // Deadlines from 0 to 31 ms, interleaved, some equal, some already past.
            let due = start + Duration::from_millis((i * 37) % 32);
            tokio::spawn(async move {
                timer.sleep_until(due).await;
                Instant::now() >= due
            })
        });
        for sleep in sleeps.collect::<Vec<_>>() {
            assert!(sleep.await.unwrap(), "woken before its deadline");
        }
    }
}
