//! The pace of a run: how many requests may be in flight, how fast they may start, and
//! until when nothing may start at all. Throttling slows the whole run, not one request.
//!
//! - **Concurrency, AIMD.** A throttled answer halves the number of requests in flight
//!   (down to 1); each window of as many successes as the limit allows adds one back (up to
//!   the batch's concurrency).
//! - **Rate.** A throttled answer also caps the rate at which requests start: 80% of the
//!   successes per second over the last second, pauses included (what the vendor let
//!   through), never more than the rate already in effect. While answers come
//!   back it grows every 250 ms: by half while under half the rate that was throttled
//!   last (or before any was), by 10% under 90% of it, then by 1%, so it settles under the
//!   vendor's limit instead of crossing it again and again. [`crate::Batch::max_rate`] caps it from the start.
//! - **`Retry-After`** pauses every new request of the run until it passes.
//!
//! One throttled burst (several answers arriving together) cuts once: cuts are at least
//! 100 ms apart.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Cuts closer than this belong to one throttled burst.
const COOLDOWN: Duration = Duration::from_millis(100);
/// Successes counted for the measured rate.
const WINDOW: Duration = Duration::from_secs(1);
/// How often the rate may grow while answers come back.
const GROWTH_STEP: Duration = Duration::from_millis(250);
/// The slowest pace there is: one request every 1,000 s. A `max_rate` below it is taken
/// as this.
pub(crate) const MIN_RATE: f64 = 0.001;
/// The farthest a pause reaches: a `Retry-After` beyond it is taken as this.
const FARTHEST_PAUSE: Duration = Duration::from_secs(365 * 24 * 3600);

pub(crate) struct Pace {
    max: usize,
    max_rate: Option<f64>,
    permits: Arc<Semaphore>,
    state: Mutex<State>,
    /// Wakes the requests waiting for their turn when a throttled answer changes it.
    throttles: tokio::sync::Notify,
}

struct State {
    limit: usize,
    /// Permits to forget as they come back, after a cut.
    debt: usize,
    successes: usize,
    rate: Option<f64>,
    /// The rate in effect when the vendor last throttled: grown toward quickly, probed past
    /// slowly.
    ceiling: Option<f64>,
    last_growth: Instant,
    next_send: Instant,
    paused_until: Instant,
    last_cut: Option<Instant>,
    recent: VecDeque<Instant>,
    started: Instant,
    /// The first throttled answer since the last one that was not: when the vendor began
    /// to throttle every request (`None` while it does not).
    throttled_since: Option<Instant>,
    throttled: u64,
    /// When the pause that ends at `paused_until` began (`paused_until` itself while none).
    pause_started: Instant,
    /// Pauses that ended before that one, all told.
    waited: Duration,
}

/// Why a request's turn will not come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// After the run's deadline.
    Deadline,
    /// The vendor has throttled every answer for the whole patience.
    Stalled,
}

/// What the run's pacing did, for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PaceStats {
    pub throttled: u64,
    pub waited: Duration,
}

/// A request's place in flight; given back when dropped (or forgotten, after a cut).
pub(crate) struct Slot {
    permit: Option<OwnedSemaphorePermit>,
    pace: Arc<Pace>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let Some(permit) = self.permit.take() else {
            return;
        };
        let mut state = self.pace.lock();
        if state.debt > 0 {
            state.debt -= 1;
            permit.forget();
        }
    }
}

impl Pace {
    pub(crate) fn new(concurrency: usize, max_rate: Option<f64>) -> Arc<Self> {
        let now = Instant::now();
        let max_rate = max_rate
            .filter(|r| r.is_finite() && *r > 0.0)
            .map(|r| r.max(MIN_RATE));
        Arc::new(Self {
            max: concurrency.max(1),
            max_rate,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            throttles: tokio::sync::Notify::new(),
            state: Mutex::new(State {
                limit: concurrency.max(1),
                debt: 0,
                successes: 0,
                rate: max_rate,
                ceiling: None,
                last_growth: now,
                next_send: now,
                paused_until: now,
                last_cut: None,
                recent: VecDeque::new(),
                started: now,
                throttled_since: None,
                throttled: 0,
                pause_started: now,
                waited: Duration::ZERO,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A place in flight, once the limit allows one.
    pub(crate) async fn slot(self: &Arc<Self>) -> Slot {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        Slot {
            permit: Some(permit),
            pace: Arc::clone(self),
        }
    }

    /// Waits until the run may start a request: after any pause, at the rate's next turn.
    /// Ends early if that turn comes after `until` ([`Stop::Deadline`]), or if the vendor has
    /// throttled every answer for `patience` by the time its pause ends
    /// ([`Stop::Stalled`]; the pace's own spacing never counts against the patience).
    pub(crate) async fn turn(
        &self,
        until: Option<Instant>,
        patience: Duration,
    ) -> Result<(), Stop> {
        loop {
            // Registered before the state is read: a throttle after that wakes it.
            let throttled = self.throttles.notified();
            tokio::pin!(throttled);
            throttled.as_mut().enable();
            let ready = {
                let mut state = self.lock();
                let now = Instant::now();
                let mut ready = state.paused_until.max(now);
                if state.rate.is_some() {
                    ready = ready.max(state.next_send);
                }
                if until.is_some_and(|u| ready > u) {
                    return Err(Stop::Deadline);
                }
                let stall = state.throttled_since.and_then(|t| t.checked_add(patience));
                if stall.is_some_and(|at| state.paused_until > at) {
                    return Err(Stop::Stalled);
                }
                if ready <= now {
                    if let Some(rate) = state.rate {
                        state.next_send = now.max(state.next_send)
                            + Duration::from_secs_f64(1.0 / rate.max(MIN_RATE));
                    }
                    return Ok(());
                }
                ready
            };
            // Until the turn, or until a throttle moves it (a longer pause, past the
            // patience, ends the wait at once).
            tokio::select! {
                () = tokio::time::sleep_until(ready) => {}
                () = &mut throttled => {}
            }
        }
    }

    /// A request was answered, and not throttled: progress, and a step up after a window
    /// of them.
    pub(crate) fn success(&self) {
        let mut state = self.lock();
        let now = Instant::now();
        state.throttled_since = None;
        state.recent.push_back(now);
        while state.recent.front().is_some_and(|t| now - *t > WINDOW) {
            state.recent.pop_front();
        }
        if let Some(rate) = state.rate
            && now - state.last_growth >= GROWTH_STEP
        {
            state.last_growth = now;
            let raised = match state.ceiling {
                Some(c) if rate >= 0.9 * c => rate * 1.01,
                Some(c) if rate >= 0.5 * c => rate * 1.10,
                _ => rate * 1.5,
            };
            state.rate = Some(self.max_rate.map_or(raised, |m| raised.min(m)));
        }
        state.successes += 1;
        if state.successes < state.limit {
            return;
        }
        state.successes = 0;
        if state.limit < self.max {
            state.limit += 1;
            if state.debt > 0 {
                state.debt -= 1;
            } else {
                self.permits.add_permits(1);
            }
        }
    }

    /// A throttled answer: the whole run pauses until `retry_after` passes, and (once per
    /// burst) in-flight requests and the rate are cut.
    pub(crate) fn throttled(&self, retry_after: Option<Duration>) {
        let mut state = self.lock();
        let now = Instant::now();
        state.throttled += 1;
        state.throttled_since.get_or_insert(now);
        self.throttles.notify_waiters();
        if let Some(after) = retry_after {
            let until = now + after.min(FARTHEST_PAUSE);
            if state.paused_until <= now {
                // The pause before (if any) ran its course: all of it was waited.
                let ran = state.paused_until - state.pause_started;
                state.waited += ran;
                state.pause_started = now;
                state.paused_until = until;
            } else if until > state.paused_until {
                state.paused_until = until;
            }
        }
        if state.last_cut.is_some_and(|t| now - t < COOLDOWN) {
            return;
        }
        state.last_cut = Some(now);
        state.successes = 0;
        let cut = state.limit - (state.limit / 2).max(1);
        state.limit -= cut;
        state.debt += cut;
        let forgotten = self.permits.forget_permits(state.debt);
        state.debt -= forgotten;
        while state.recent.front().is_some_and(|t| now - *t > WINDOW) {
            state.recent.pop_front();
        }
        // What the vendor let through: successes per second over the last window, pauses
        // included (right after a pause, a refilled bucket lets a burst through in a few
        // milliseconds, which says nothing of its rate).
        let span = (now - state.started).clamp(Duration::from_millis(10), WINDOW);
        let measured = state.recent.len() as f64 / span.as_secs_f64();
        // A cut never raises the rate (right after a pause, a refilled bucket makes the
        // vendor look faster than it is).
        let rate = match (measured > 0.0, state.rate) {
            (true, Some(current)) => (measured * 0.8).min(current),
            (true, None) => measured * 0.8,
            (false, current) => current.map_or(1.0, |r| r / 2.0),
        };
        // The rate that was throttled: grown back to quickly, probed past slowly. Before
        // the first cut there was no rate, so no ceiling either.
        state.ceiling = state.rate;
        let rate = self.max_rate.map_or(rate, |m| rate.min(m)).max(0.5);
        state.rate = Some(rate);
        state.last_growth = now;
        state.next_send = state.next_send.max(now);
    }

    /// Whether the vendor has throttled every answer for longer than `patience`.
    pub(crate) fn stalled(&self, patience: Duration) -> bool {
        self.lock()
            .throttled_since
            .is_some_and(|since| since.elapsed() > patience)
    }

    /// What the pace did so far: throttled answers, and the time the run was paused for
    /// them (what passed of each `Retry-After` pause, not what was asked for: a run that
    /// ends within a pause waited only until then).
    pub(crate) fn stats(&self) -> PaceStats {
        let state = self.lock();
        let now = Instant::now();
        PaceStats {
            throttled: state.throttled,
            waited: state.waited + (state.paused_until.min(now) - state.pause_started),
        }
    }
}
