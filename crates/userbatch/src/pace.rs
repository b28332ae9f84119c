//! The pace of a run: how many requests may be in flight, how fast they may start, and
//! until when nothing may start at all. Throttling slows the whole run, not one request.
//!
//! - **Concurrency, AIMD.** A throttled answer halves the number of requests in flight
//!   (down to 1); each window of as many successes as the limit allows adds one back (up to
//!   the batch's concurrency).
//! - **`Retry-After`** pauses every new request of the run until it passes. A pause says
//!   nothing of the vendor's rate: most vendors write it in whole seconds (RFC 9110), so it
//!   is often far longer than the vendor needed.
//! - **The vendor's rate, learned.** The pace models the vendor as a token bucket: a burst
//!   it lets through at once, refilled at a rate. The first throttled answer of a run tells
//!   the burst (the successes sent before that answer arrived, counted as they are
//!   answered). Each later one tells the rate: the lowest rate at which the bucket, whole
//!   when sending resumed after the pause before and drawn on by every success sent since,
//!   would not have been empty when the throttled request was sent. Requests then start at
//!   96% of that rate, which grows by 0.5% a second while answers come back (the vendor
//!   may allow more, or allow more later); one later throttle cuts it by half at most.
//!   Until a rate is learned, the pace after a throttle starts at the burst per 250 ms and
//!   doubles every 100 ms: the next throttle comes soon, and tells the rate.
//! - **The vendor's word.** Where answers carry rate-limit headers ([`crate::ratelimit`]),
//!   from the first such answer on: while more remains (what the latest answer said, less
//!   the requests sent since) than the requests in flight could take, requests start as
//!   fast as the concurrency allows; else at 98% of the stated limit per window; and none
//!   starts while nothing remains (until the window resets, or for one request's share of
//!   the window, whichever comes first). A throttled answer to a request sent after the
//!   vendor stated its limit trims the stated rate by 10% (down to half, grown back by
//!   0.5% a second) and counts as nothing left.
//! - [`crate::engine::Batch::max_rate`] caps the rate from the start.
//!
//! One throttled burst (several answers arriving together) cuts once: a throttled answer to
//! a request sent before the pause the last cut began, or within 100 ms of that cut, does
//! not cut again.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::ratelimit::Stated;

/// Cuts closer than this belong to one throttled burst.
const COOLDOWN: Duration = Duration::from_millis(100);
/// The slowest pace there is: one request every 1,000 s. A `max_rate` below it is taken
/// as this.
pub(crate) const MIN_RATE: f64 = 0.001;
/// The farthest a pause reaches: a `Retry-After` beyond it is taken as this.
pub(crate) const FARTHEST_PAUSE: Duration = Duration::from_secs(365 * 24 * 3600);
/// The share of the learned rate requests start at.
const MARGIN: f64 = 0.96;
/// The share of the rate the vendor's headers state that is counted as refilled.
const STATED_MARGIN: f64 = 0.98;
/// How fast a learned rate grows while answers come back:
/// this share per second.
const PROBE: f64 = 0.005;
/// Until the rate is learned, it doubles this often while answers come back.
const DOUBLING: Duration = Duration::from_millis(100);
/// Until a rate is learned, the ramp after the first throttle starts at the burst per
/// this long (vendors commonly allow a second's worth or less at once).
const RAMP_FROM: Duration = Duration::from_millis(250);
/// A turn this late (or one interval, if shorter) keeps the schedule it was late for.
const LATE: Duration = Duration::from_millis(2);
/// A stretch of sending shorter than this tells no rate.
const SHORTEST_SPAN: Duration = Duration::from_millis(20);
/// Successes remembered for learning the rate; past it, the older half is forgotten.
const REMEMBERED: usize = 8192;

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
    /// The rate requests start at, learned from throttled answers (`None` before the
    /// first).
    rate: Option<f64>,
    last_growth: Instant,
    next_send: Instant,
    paused_until: Instant,
    last_cut: Option<Instant>,
    /// The first throttled answer since the last one that was not: when the vendor began
    /// to throttle every request (`None` while it does not).
    throttled_since: Option<Instant>,
    throttled: u64,
    /// When the pause that ends at `paused_until` began (`paused_until` itself while none).
    pause_started: Instant,
    /// Pauses that ended before that one, all told.
    waited: Duration,
    /// Sending since the last cut, for learning the rate.
    stretch: Stretch,
    /// When the first throttled answer arrived: the successes sent before then are the
    /// burst the vendor let through at once.
    first_throttle: Option<Instant>,
    /// Those successes, counted as they are answered.
    burst: usize,
    /// Until a rate is learned: since when, and from which rate, the rate doubles.
    ramp: Option<(Instant, RampFrom)>,
    /// The rate the vendor lets through, as learned.
    learned: Option<f64>,
    /// What the vendor's headers state.
    stated: Option<StatedRate>,
    /// When each request since the latest answer that said what remains was sent.
    turns: VecDeque<Instant>,
    /// No request starts before this: the vendor said nothing remains.
    spent_until: Instant,
}

/// Where a ramp starts.
#[derive(Clone, Copy)]
enum RampFrom {
    /// The burst per [`RAMP_FROM`].
    Burst,
    /// This rate.
    Rate(f64),
}

/// Sending since a cut: when it resumed, what the vendor had left for it then, and when
/// each request sent since that succeeded was sent.
struct Stretch {
    start: Instant,
    /// `None`: all of its burst.
    left: Option<f64>,
    sent: Vec<Instant>,
}

/// The limit a vendor's headers state.
struct StatedRate {
    /// Requests a second (the limit over its window), if the headers tell it.
    rate: Option<f64>,
    /// When the first answer stating it arrived.
    since: Instant,
    /// The share of `rate` requests start at: 98%, less 10% for each throttled answer to a
    /// request sent after the vendor stated it (grown back by 0.5% a second), at least half.
    trust: f64,
    /// The longest reset seen: the window, where no header or spec says it.
    longest_reset: Duration,
    /// What remained after the request of the latest answer that said so, and when that
    /// request was sent.
    left: Option<(f64, Instant)>,
}

impl StatedRate {
    /// Whether what the vendor said remains, less the requests sent since (`turns`), is
    /// more than `in_flight` requests could take: then no pace is needed.
    fn plenty(&self, turns: &VecDeque<Instant>, in_flight: usize) -> bool {
        self.left.is_some_and(|(left, at)| {
            let spent = turns.len() - turns.partition_point(|t| *t <= at);
            left - spent as f64 > in_flight as f64
        })
    }
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
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct PaceStats {
    pub throttled: u64,
    pub waited: Duration,
    /// The rate requests start at now, if one is in effect (requests a second).
    pub rate: Option<f64>,
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
                rate: None,
                last_growth: now,
                next_send: now,
                paused_until: now,
                last_cut: None,
                throttled_since: None,
                throttled: 0,
                pause_started: now,
                waited: Duration::ZERO,
                stretch: Stretch {
                    start: now,
                    left: None,
                    sent: Vec::new(),
                },
                first_throttle: None,
                burst: 0,
                ramp: None,
                learned: None,
                stated: None,
                turns: VecDeque::new(),
                spent_until: now,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The rate requests start at: the lowest of the learned one, the stated one and
    /// `max_rate`.
    fn rate(&self, state: &State, now: Instant) -> Option<f64> {
        // A stated rate paces unless the vendor says plenty remains.
        let stated = state
            .stated
            .as_ref()
            .filter(|s| !s.plenty(&state.turns, self.max))
            .and_then(|s| s.rate.map(|r| r * s.trust));
        let ramp = state.ramp.map(|(from, rate)| {
            let rate = match rate {
                // Counted on as the burst's answers arrive.
                RampFrom::Burst => (state.burst as f64).max(1.0) / RAMP_FROM.as_secs_f64(),
                RampFrom::Rate(rate) => rate,
            };
            let doublings =
                now.saturating_duration_since(from).as_secs_f64() / DOUBLING.as_secs_f64();
            rate * 2f64.powf(doublings.min(64.0))
        });
        [state.rate, ramp, stated, self.max_rate]
            .into_iter()
            .flatten()
            .reduce(f64::min)
            .map(|r| r.max(MIN_RATE))
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

    /// Waits until the run may start a request: after any pause, at the rate's next turn;
    /// returns when that was (the request's send time, for [`Pace::success`] and
    /// [`Pace::throttled`]). Ends early if that turn comes after `until`
    /// ([`Stop::Deadline`]), or if the vendor has throttled every answer for `patience` by
    /// the time its pause ends ([`Stop::Stalled`]; the pace's own spacing never counts
    /// against the patience).
    pub(crate) async fn turn(
        &self,
        until: Option<Instant>,
        patience: Duration,
    ) -> Result<Instant, Stop> {
        loop {
            // Registered before the state is read: a throttle after that wakes it.
            let throttled = self.throttles.notified();
            tokio::pin!(throttled);
            throttled.as_mut().enable();
            let ready = {
                let mut state = self.lock();
                let now = Instant::now();
                let rate = self.rate(&state, now);
                let mut ready = state.paused_until.max(state.spent_until).max(now);
                if rate.is_some() {
                    ready = ready.max(state.next_send);
                }
                if until.is_some_and(|u| ready > u) {
                    return Err(Stop::Deadline);
                }
                let stall = state.throttled_since.and_then(|t| t.checked_add(patience));
                if stall.is_some_and(|at| state.paused_until > at) {
                    return Err(Stop::Stalled);
                }
                // The vendor says nothing remains for longer than the patience.
                if state.spent_until > now + patience {
                    return Err(Stop::Stalled);
                }
                if ready <= now {
                    if let Some(rate) = rate {
                        // Turns keep to their schedule when they come a little late (the
                        // timer rounds up to the next millisecond), never catching up more.
                        let interval = Duration::from_secs_f64(1.0 / rate);
                        let late = now.saturating_duration_since(state.next_send);
                        let from = if late <= interval.min(LATE) {
                            state.next_send
                        } else {
                            now
                        };
                        state.next_send = from + interval;
                    }
                    if state.stated.as_ref().is_some_and(|s| s.left.is_some()) {
                        // Answers that stop saying what remains stop the counting going
                        // back: the oldest are forgotten.
                        if state.turns.len() >= REMEMBERED {
                            state.turns.pop_front();
                        }
                        state.turns.push_back(now);
                    }
                    return Ok(now);
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

    /// A request sent at `sent` was answered, and not throttled: progress, and a step up
    /// after a window of them.
    pub(crate) fn success(&self, sent: Instant) {
        let mut state = self.lock();
        let now = Instant::now();
        state.throttled_since = None;
        if state
            .first_throttle
            .is_some_and(|t| sent <= t && sent < state.stretch.start)
        {
            state.burst += 1;
        }
        if sent >= state.stretch.start {
            if state.stretch.sent.len() >= REMEMBERED {
                // A long stretch without a throttle: the vendor had room to spare, so its
                // bucket is taken as whole where the remembered part begins.
                let half = REMEMBERED / 2;
                state.stretch.sent.sort_unstable();
                state.stretch.sent.drain(..half);
                state.stretch.start = state.stretch.sent[0];
                state.stretch.left = None;
            }
            state.stretch.sent.push(sent);
        }
        // Grows only while sending, not across a pause.
        let from = state.last_growth.max(state.stretch.start);
        if now > from {
            let dt = (now - from).as_secs_f64();
            state.last_growth = now;
            if let Some(rate) = state.rate {
                let grown = rate * (1.0 + PROBE * dt);
                state.rate = Some(self.max_rate.map_or(grown, |m| grown.min(m)));
            }
            if let Some(stated) = &mut state.stated {
                stated.trust = (stated.trust * (1.0 + PROBE * dt)).min(STATED_MARGIN);
            }
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

    /// What the headers of an answer to a request sent at `sent` said of the vendor's rate
    /// limit.
    pub(crate) fn stated(&self, said: Stated, sent: Instant) {
        let mut state = self.lock();
        let now = Instant::now();
        let state = &mut *state;
        let stated = state.stated.get_or_insert(StatedRate {
            rate: None,
            since: now,
            trust: STATED_MARGIN,
            longest_reset: Duration::ZERO,
            left: None,
        });
        if let Some(reset) = said.reset {
            stated.longest_reset = stated.longest_reset.max(reset);
        }
        if let Some(limit) = said.limit {
            // The window, where nothing says it: the longest reset seen, in whole seconds
            // (a reset counts down from the window's length), at least 1 s.
            let window = said.window.unwrap_or_else(|| {
                Duration::from_secs_f64(stated.longest_reset.as_secs_f64().ceil().max(1.0))
            });
            let rate = limit / window.as_secs_f64();
            if stated.rate != Some(rate) {
                tracing::debug!(
                    vendor_rate = rate,
                    "pace: the vendor's rate-limit headers state {limit} requests per {:.0}s",
                    window.as_secs_f64()
                );
            }
            stated.rate = Some(rate);
        }
        // The latest word on what remains: an answer to an earlier request says less.
        if let Some(remaining) = said.remaining
            && stated.left.is_none_or(|(_, at)| sent >= at)
        {
            stated.left = Some((remaining, sent));
            let before = state.turns.partition_point(|t| *t <= sent);
            state.turns.drain(..before);
        }
        if said.remaining.is_some_and(|r| r < 1.0) {
            // Nothing left when the request arrived: until the window resets, or for one
            // request's share of it.
            let share = stated
                .rate
                .filter(|r| *r > 0.0)
                .map(|r| Duration::from_secs_f64((1.0 / r).min(FARTHEST_PAUSE.as_secs_f64())));
            let wait = match (said.reset, share) {
                (Some(reset), Some(share)) => reset.min(share),
                (Some(wait), None) | (None, Some(wait)) => wait,
                (None, None) => Duration::ZERO,
            };
            let until = sent + wait.min(FARTHEST_PAUSE);
            state.spent_until = state.spent_until.max(until);
        }
    }

    /// A throttled answer to a request sent at `sent`: the whole run pauses until
    /// `retry_after` passes, and (once per burst) in-flight requests and the rate are cut.
    pub(crate) fn throttled(&self, sent: Instant, retry_after: Option<Duration>) {
        let mut state = self.lock();
        let now = Instant::now();
        state.throttled += 1;
        state.throttled_since.get_or_insert(now);
        self.throttles.notify_waiters();
        let paused = retry_after.map(|after| after.min(FARTHEST_PAUSE));
        if let Some(after) = paused {
            let until = now + after;
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
        // Sent before the sending this throttle would end began: the last cut covered it.
        if sent < state.stretch.start || state.last_cut.is_some_and(|t| now - t < COOLDOWN) {
            return;
        }
        state.last_cut = Some(now);
        state.successes = 0;
        let cut = state.limit - (state.limit / 2).max(1);
        state.limit -= cut;
        state.debt += cut;
        let forgotten = self.permits.forget_permits(state.debt);
        state.debt -= forgotten;
        self.learn(&mut state, sent);
        // Sending resumes after the pause; the vendor's bucket refilled during it.
        let resume = if paused.is_some() {
            state.paused_until.max(now)
        } else {
            now
        };
        let pause = (resume - now).as_secs_f64();
        let burst = (state.burst as f64).max(1.0);
        let left = match state.learned {
            Some(rate) => Some((rate * pause).clamp(1.0, burst)),
            None if pause >= 0.5 => None,
            None => Some(0.0),
        };
        state.stretch = Stretch {
            start: resume,
            left,
            sent: Vec::new(),
        };
        state.last_growth = resume;
        state.next_send = state.next_send.max(resume);
        if let Some((_, from)) = &mut state.ramp {
            let rate = *from;
            state.ramp = Some((resume, rate));
        }
    }

    /// What a throttled answer to a request sent at `at` tells of the vendor: its burst
    /// (the first), else its rate; and the rate requests start at from now on.
    fn learn(&self, state: &mut State, at: Instant) {
        if let Some(stated) = &mut state.stated
            && (stated.rate.is_some() || stated.left.is_some())
        {
            // The vendor states its limit: nothing is learned. A request sent after it
            // said so was throttled anyway: the stated rate is trimmed, and nothing is
            // left.
            if at >= stated.since {
                stated.trust = (stated.trust * 0.9).max(0.5);
                if stated.left.is_none_or(|(_, last)| at >= last) {
                    stated.left = Some((0.0, at));
                }
            }
            return;
        }
        let now = Instant::now();
        let current = self.rate(state, now);
        let stretch = &mut state.stretch;
        stretch.sent.sort_unstable();
        let before = stretch.sent.partition_point(|t| *t <= at);
        let sent = &stretch.sent[..before];
        let rate = match state.first_throttle {
            None => {
                // The run's start: what went out before this answer arrived, and passed,
                // is the burst (counted on as the answers to it arrive; requests sent at
                // once reach the vendor in any order).
                state.first_throttle = Some(now);
                state.burst = stretch.sent.len();
                None
            }
            Some(_) => {
                let burst = (state.burst as f64).max(1.0);
                let left = stretch.left.unwrap_or(burst);
                estimate(stretch.start, left, burst, sent, at)
            }
        };
        let cap = |r: f64| self.max_rate.map_or(r, |m| r.min(m)).max(MIN_RATE);
        if let Some(rate) = rate {
            // Once learned, one stretch (a stray throttle after a long quiet one) cuts the
            // pace by half at most.
            let floor = current
                .filter(|_| state.learned.is_some())
                .map_or(0.0, |c| c / 2.0);
            state.learned = Some(rate);
            state.rate = Some(cap((rate * MARGIN).max(floor)));
            state.ramp = None;
            tracing::debug!(
                vendor_rate = rate,
                "pace: {:.1} requests/s (the vendor lets {rate:.1}/s through, learned from its throttled answers)",
                rate * MARGIN
            );
            return;
        }
        // No rate from this stretch (the run's start, or too short to tell): once learned,
        // what was in effect, less; until then, a ramp from the burst per 250 ms (from
        // half of where it had got to, after the first).
        if state.learned.is_some() {
            state.rate = current.map(|r| cap(r * MARGIN));
        } else {
            let from = match state.ramp {
                Some(_) => RampFrom::Rate(cap(current.map_or(1.0, |r| r / 2.0))),
                None => RampFrom::Burst,
            };
            state.ramp = Some((now, from));
        }
    }

    /// Whether the vendor has throttled every answer for longer than `patience`.
    pub(crate) fn stalled(&self, patience: Duration) -> bool {
        self.lock()
            .throttled_since
            .is_some_and(|since| since.elapsed() > patience)
    }

    /// What the pace did so far: throttled answers, the time the run was paused for them
    /// (what passed of each `Retry-After` pause, not what was asked for: a run that ends
    /// within a pause waited only until then), and the rate in effect.
    pub(crate) fn stats(&self) -> PaceStats {
        let state = self.lock();
        let now = Instant::now();
        PaceStats {
            throttled: state.throttled,
            waited: state.waited + (state.paused_until.min(now) - state.pause_started),
            rate: self.rate(&state, now),
        }
    }
}

/// The vendor's rate, modelled as a bucket of `burst` refilled at that rate, which held
/// `left` at `start` and gave one to each request in `sent` (sorted): the lowest rate at
/// which it would still have held one at `at`, when a request was throttled. `None` when
/// the stretch is too short to tell, or the bucket would have held one at any rate.
fn estimate(start: Instant, left: f64, burst: f64, sent: &[Instant], at: Instant) -> Option<f64> {
    let span = at.checked_duration_since(start)?;
    if span < SHORTEST_SPAN || sent.is_empty() {
        return None;
    }
    let held = |rate: f64| {
        let mut tokens = left;
        let mut last = start;
        for &t in sent {
            tokens = (tokens + rate * (t - last).as_secs_f64()).min(burst) - 1.0;
            last = t;
        }
        (tokens + rate * (at - last).as_secs_f64()).min(burst)
    };
    // With one left however slow the refill, the bucket does not explain the throttle
    // (a vendor that throttles at random, or a burst overestimated): no rate from it.
    if held(0.0) >= 1.0 {
        return None;
    }
    // Enough to refill every request sent and one more.
    let mut high = (sent.len() as f64 + 1.0) / span.as_secs_f64();
    while held(high) < 1.0 {
        high *= 2.0;
        if high > 1e9 {
            return None;
        }
    }
    let mut low = 0.0;
    for _ in 0..40 {
        let mid = (low + high) / 2.0;
        if held(mid) >= 1.0 {
            high = mid;
        } else {
            low = mid;
        }
    }
    Some(high)
}

#[cfg(test)]
mod tests;
