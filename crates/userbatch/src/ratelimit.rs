//! What a vendor says of its rate limit in an answer's headers, in the forms vendors use:
//!
//! - `RateLimit` / `RateLimit-Policy` as draft-ietf-httpapi-ratelimit-headers writes them
//!   since its 8th draft (`RateLimit: "default";r=50;t=30`, `RateLimit-Policy:
//!   "default";q=100;w=60`), and as the 7th did (`RateLimit: limit=100, remaining=50,
//!   reset=30`, `RateLimit-Policy: 100;w=60`);
//! - `RateLimit-Limit` / `-Remaining` / `-Reset`, the earlier drafts' (and Kong's) fields;
//! - the de facto `X-RateLimit-Limit` / `-Remaining` / `-Reset`, `X-Rate-Limit-Limit` /
//!   `-Remaining` / `-Reset` and `X-Rate-Limit`.
//!
//! A field that does not parse is left out, never an error: the pace then does without it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;
use userbatch_core::rules::{RateLimitHeaders, ResetForm};

/// A rate limit as one answer's headers state it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Stated {
    /// The requests a window allows.
    pub limit: Option<f64>,
    /// The requests left in the current window.
    pub remaining: Option<f64>,
    /// The time until the current window resets.
    pub reset: Option<Duration>,
    /// The window's length, where a header (`RateLimit-Policy`'s `w`) or the spec says it.
    pub window: Option<Duration>,
}

/// A reset further off than this is not believed (a day).
const FARTHEST_RESET: f64 = 86_400.0;

/// The rate limit `headers` state, if they state any.
pub(crate) fn read(headers: &HeaderMap, rules: &RateLimitHeaders) -> Option<Stated> {
    let field = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let ietf = ietf(field("ratelimit"), field("ratelimit-policy"));
    // The drafts' `t=` and `reset=` are always seconds; the older fields' reset is read as
    // the spec says.
    let form = if ietf.is_some() {
        ResetForm::Seconds
    } else {
        rules.reset
    };
    let (mut stated, raw_reset) = ietf
        .or_else(|| {
            separate(
                field("ratelimit-limit"),
                field("ratelimit-remaining"),
                field("ratelimit-reset"),
            )
        })
        .or_else(|| {
            separate(
                field("x-ratelimit-limit"),
                field("x-ratelimit-remaining"),
                field("x-ratelimit-reset"),
            )
        })
        .or_else(|| {
            separate(
                field("x-rate-limit-limit").or(field("x-rate-limit")),
                field("x-rate-limit-remaining"),
                field("x-rate-limit-reset"),
            )
        })?;
    stated.reset = raw_reset.and_then(|raw| reset(raw, form));
    // A limit of nothing is no limit a pace could keep.
    stated.limit = stated.limit.filter(|l| *l > 0.0);
    if stated == Stated::default() {
        return None;
    }
    if stated.window.is_none() {
        stated.window = rules
            .window_s
            .filter(|w| *w > 0)
            .map(|w| Duration::from_secs(w.into()));
    }
    Some(stated)
}

/// A reset value as the spec says to read it (`raw` seconds, or a Unix time).
fn reset(raw: f64, form: ResetForm) -> Option<Duration> {
    let epoch = match form {
        ResetForm::Seconds => false,
        ResetForm::EpochSeconds => true,
        ResetForm::Auto => raw > 1e9,
    };
    let secs = if epoch {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
        (raw - now.as_secs_f64()).max(0.0)
    } else {
        raw
    };
    (secs <= FARTHEST_RESET).then(|| Duration::from_secs_f64(secs))
}

/// A non-negative number (`12`, `0.5`), else nothing.
fn number(text: &str) -> Option<f64> {
    let n: f64 = text.trim().trim_matches('"').parse().ok()?;
    (n.is_finite() && n >= 0.0).then_some(n)
}

/// A stated limit, and its reset as written (seconds, or a Unix time).
type Read = (Stated, Option<f64>);

/// `RateLimit-Limit: 100`, `-Remaining: 50`, `-Reset: 30` (the limit may carry its
/// policies, `100, 100;w=60`, as the early drafts allowed: then the tightest one's quota
/// and window).
fn separate(limit: Option<&str>, remaining: Option<&str>, reset: Option<&str>) -> Option<Read> {
    let first = |v: Option<&str>| v.and_then(|v| number(v.split([',', ';']).next()?));
    let policy = limit.and_then(|l| tightest(policies(l)));
    let stated = Stated {
        limit: policy.as_ref().map(|p| p.quota).or_else(|| first(limit)),
        remaining: first(remaining),
        reset: None,
        window: policy.map(|p| p.window),
    };
    let reset = first(reset);
    (stated != Stated::default() || reset.is_some()).then_some((stated, reset))
}

/// One policy of a `RateLimit-Policy` (or of an early `RateLimit-Limit`).
struct Policy<'a> {
    name: &'a str,
    quota: f64,
    window: Duration,
}

/// The policies of a field: `"name";q=100;w=60` (8th draft on) or `100;w=60` (before);
/// one without a quota or with a window under a millisecond is left out.
fn policies(value: &str) -> impl Iterator<Item = Policy<'_>> {
    value.split(',').filter_map(|item| {
        let mut parts = item.split(';');
        let head = parts.next()?.trim();
        let params = params(parts);
        let quota = params.q.or_else(|| number(head))?;
        let window = params.w.filter(|w| *w >= 0.001)?;
        Some(Policy {
            name: head,
            quota,
            window: Duration::from_secs_f64(window.min(FARTHEST_RESET)),
        })
    })
}

/// The tightest policy: the lowest quota per second.
fn tightest<'a>(policies: impl Iterator<Item = Policy<'a>>) -> Option<Policy<'a>> {
    let per_second = |p: &Policy<'_>| p.quota / p.window.as_secs_f64();
    policies.min_by(|a, b| per_second(a).total_cmp(&per_second(b)))
}

/// The parameters a structured field item may carry (`;r=50;t=30`).
#[derive(Default)]
struct Params {
    q: Option<f64>,
    w: Option<f64>,
    r: Option<f64>,
    t: Option<f64>,
}

fn params<'a>(parts: impl Iterator<Item = &'a str>) -> Params {
    let mut p = Params::default();
    for part in parts {
        let Some((key, value)) = part.split_once('=') else {
            continue;
        };
        let slot = match key.trim() {
            "q" => &mut p.q,
            "w" => &mut p.w,
            "r" => &mut p.r,
            "t" => &mut p.t,
            _ => continue,
        };
        *slot = number(value);
    }
    p
}

/// `RateLimit` and `RateLimit-Policy`, either draft's form.
fn ietf(fields: Option<&str>, policy: Option<&str>) -> Option<Read> {
    let fields = fields?;
    let mut stated = Stated::default();
    let mut reset = None;
    let mut name = None;
    if fields.contains(";r=") || fields.contains("; r=") {
        // `"default";r=50;t=30`, one item per policy: the one with the fewest left binds,
        // with the policy of its name.
        let (item_name, item) = fields
            .split(',')
            .map(|item| {
                let mut parts = item.split(';');
                let head = parts.next().unwrap_or("").trim();
                (head, params(parts))
            })
            .filter(|(_, p)| p.r.is_some())
            .min_by(|a, b| a.1.r.unwrap_or(0.0).total_cmp(&b.1.r.unwrap_or(0.0)))?;
        stated.remaining = item.r;
        reset = item.t;
        name = Some(item_name);
    } else {
        // `limit=100, remaining=50, reset=30`.
        for member in fields.split(',') {
            let Some((key, value)) = member.split_once('=') else {
                continue;
            };
            let value = number(value.split(';').next().unwrap_or(""));
            match key.trim() {
                "limit" => stated.limit = value,
                "remaining" => stated.remaining = value,
                "reset" => reset = value,
                _ => {}
            }
        }
    }
    let policy = policy.and_then(|p| {
        let named = name.and_then(|n| policies(p).find(|policy| policy.name == n));
        named.or_else(|| tightest(policies(p)))
    });
    if let Some(policy) = policy {
        stated.limit = Some(policy.quota);
        stated.window = Some(policy.window);
    }
    (stated != Stated::default() || reset.is_some()).then_some((stated, reset))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(pairs: &[(&'static str, &str)], rules: RateLimitHeaders) -> Option<Stated> {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, value.parse().unwrap());
        }
        read(&headers, &rules)
    }

    fn of(pairs: &[(&'static str, &str)]) -> Option<Stated> {
        read_all(pairs, RateLimitHeaders::default())
    }

    fn secs(s: f64) -> Option<Duration> {
        Some(Duration::from_secs_f64(s))
    }

    #[test]
    fn every_family_reads_alike() {
        let want = Stated {
            limit: Some(100.0),
            remaining: Some(7.0),
            reset: secs(30.0),
            window: None,
        };
        for prefix in ["x-ratelimit", "x-rate-limit", "ratelimit"] {
            let (l, r, t) = (
                format!("{prefix}-limit"),
                format!("{prefix}-remaining"),
                format!("{prefix}-reset"),
            );
            let mut headers = HeaderMap::new();
            headers.insert(
                reqwest::header::HeaderName::from_bytes(l.as_bytes()).unwrap(),
                "100".parse().unwrap(),
            );
            headers.insert(
                reqwest::header::HeaderName::from_bytes(r.as_bytes()).unwrap(),
                "7".parse().unwrap(),
            );
            headers.insert(
                reqwest::header::HeaderName::from_bytes(t.as_bytes()).unwrap(),
                "30".parse().unwrap(),
            );
            assert_eq!(
                read(&headers, &RateLimitHeaders::default()),
                Some(want),
                "{prefix}"
            );
        }
        assert_eq!(
            of(&[("x-rate-limit", "100"), ("x-rate-limit-remaining", "7")]),
            Some(Stated {
                limit: Some(100.0),
                remaining: Some(7.0),
                ..Stated::default()
            })
        );
        assert_eq!(
            of(&[
                ("ratelimit", "limit=100, remaining=7, reset=30"),
                ("ratelimit-policy", "100;w=60"),
            ]),
            Some(Stated {
                window: secs(60.0),
                ..want
            })
        );
    }

    #[test]
    fn the_current_draft_names_its_policies() {
        let stated = of(&[
            ("ratelimit", r#""hour";r=900;t=1800, "second";r=3;t=1"#),
            (
                "ratelimit-policy",
                r#""hour";q=1000;w=3600, "second";q=10;w=1"#,
            ),
        ])
        .unwrap();
        // The fewest left binds, with its own policy.
        assert_eq!(stated.remaining, Some(3.0));
        assert_eq!(stated.reset, secs(1.0));
        assert_eq!(stated.limit, Some(10.0));
        assert_eq!(stated.window, secs(1.0));
        // Unnamed or unmatched: the lowest quota per second.
        let unnamed = of(&[
            ("ratelimit", r#""x";r=3;t=1"#),
            (
                "ratelimit-policy",
                r#""hour";q=1000;w=3600, "second";q=10;w=1"#,
            ),
        ])
        .unwrap();
        assert_eq!(
            (unnamed.limit, unnamed.window),
            (Some(1000.0), secs(3600.0))
        );
        // A quota and its window come from one policy.
        let early = of(&[("ratelimit-limit", "10, 10;w=1, 1000;w=3600")]).unwrap();
        assert_eq!((early.limit, early.window), (Some(1000.0), secs(3600.0)));
    }

    #[test]
    fn a_reset_as_a_unix_time_is_a_wait() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let at = (now + 60).to_string();
        let reset = of(&[("x-ratelimit-reset", &at)]).unwrap().reset.unwrap();
        assert!((58..=60).contains(&reset.as_secs()), "{reset:?}");
        // The spec can say which it is.
        let epoch = RateLimitHeaders {
            reset: ResetForm::EpochSeconds,
            window_s: Some(60),
        };
        // The drafts' reset is always seconds.
        let draft = read_all(&[("ratelimit", r#""a";r=1;t=30"#)], epoch).unwrap();
        assert_eq!(draft.reset, secs(30.0));
        let past = read_all(&[("x-ratelimit-reset", "1000")], epoch).unwrap();
        assert_eq!(past.reset, Some(Duration::ZERO));
        assert_eq!(past.window, secs(60.0));
        let seconds = RateLimitHeaders {
            reset: ResetForm::Seconds,
            window_s: None,
        };
        assert_eq!(
            read_all(&[("x-ratelimit-reset", "1.5")], seconds)
                .unwrap()
                .reset,
            secs(1.5)
        );
        // A reset more than a day off is not believed.
        assert_eq!(
            read_all(
                &[("x-ratelimit-reset", &at), ("x-ratelimit-limit", "5")],
                seconds
            )
            .unwrap()
            .reset,
            None
        );
    }

    #[test]
    fn what_does_not_parse_is_left_out() {
        assert_eq!(of(&[]), None);
        // Numbers too large for a wait, a limit of nothing, a window of nothing.
        assert_eq!(of(&[("x-ratelimit-reset", "1e300")]), None);
        assert_eq!(
            of(&[("ratelimit", r#""a";r=1;t=1e300"#)]).unwrap().reset,
            None
        );
        assert_eq!(
            of(&[("ratelimit", "limit=5, remaining=1, reset=1e300")])
                .unwrap()
                .reset,
            None
        );
        assert_eq!(of(&[("x-ratelimit-limit", "0")]), None);
        assert_eq!(
            of(&[
                ("ratelimit", r#""a";r=1"#),
                ("ratelimit-policy", r#""a";q=5;w=0"#)
            ])
            .unwrap()
            .window,
            None
        );
        assert_eq!(of(&[("x-ratelimit-limit", "lots")]), None);
        assert_eq!(of(&[("ratelimit", "garbage")]), None);
        assert_eq!(
            of(&[
                ("x-ratelimit-limit", "-5"),
                ("x-ratelimit-remaining", "NaN")
            ]),
            None
        );
        assert_eq!(
            of(&[
                ("x-ratelimit-remaining", "4"),
                ("x-ratelimit-reset", "soon")
            ]),
            Some(Stated {
                remaining: Some(4.0),
                ..Stated::default()
            })
        );
        // A policy without a window says no rate.
        assert_eq!(
            of(&[
                ("ratelimit", r#""a";r=1"#),
                ("ratelimit-policy", r#""a";q=5"#)
            ]),
            Some(Stated {
                remaining: Some(1.0),
                ..Stated::default()
            })
        );
    }
}
