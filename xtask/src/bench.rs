//! `cargo xtask bench [--write] [--runs N]`: scenario benchmarks against the mock.
//!
//! Builds `userbatch-bench` in release mode, starts two mock processes (no latency,
//! `LATENCY_MS`),
//! and runs every scenario `runs` times, each in a fresh process. Every figure is a ratio
//! taken within one run; the table shows the median of the runs, with min and max.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::spec::vendors;

/// The slow mock's latency: each answer leaves this long after its request arrived.
const LATENCY_MS: u64 = 20;

/// One row of the table: a ratio (or a figure) per run.
struct Row {
    name: String,
    target: &'static str,
    values: Vec<f64>,
    unit: &'static str,
}

impl Row {
    fn new(name: impl Into<String>, target: &'static str, unit: &'static str) -> Self {
        Self {
            name: name.into(),
            target,
            values: Vec::new(),
            unit,
        }
    }

    fn stats(&self) -> (f64, f64, f64) {
        let mut v = self.values.clone();
        v.sort_by(f64::total_cmp);
        let median = if v.is_empty() {
            f64::NAN
        } else if v.len() % 2 == 1 {
            v[v.len() / 2]
        } else {
            (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
        };
        (
            median,
            *v.first().unwrap_or(&f64::NAN),
            *v.last().unwrap_or(&f64::NAN),
        )
    }
}

/// A mock server in its own process; stopped when dropped (its stdin closes).
struct MockProcess {
    child: Child,
    url: String,
}

impl MockProcess {
    fn start(bin: &Path, latency_ms: u64) -> Result<Self> {
        Self::spawn(bin, &["mock", &latency_ms.to_string()])
    }

    fn spawn(bin: &Path, args: &[&str]) -> Result<Self> {
        let mut child = on(Core::Mock, bin)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("starting the mock process")?;
        let stdout = child.stdout.take().context("mock stdout")?;
        let mut url = String::new();
        BufReader::new(stdout).read_line(&mut url)?;
        Ok(Self {
            child,
            url: url.trim().to_owned(),
        })
    }
}

impl Drop for MockProcess {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// The allocator setting the memory scenarios run under. The library makes no allocator choice of
/// its own (that belongs to binaries); this is the bench binary's. glibc's default raises
/// its mmap threshold to the size of any large block freed (up to 32 MiB), after which the
/// ~1 MB response bodies of a long stream come from the heap arenas and fragment them: at a
/// million ids that is 10 to 15 MB of peak RSS that says nothing about the library. A fixed
/// threshold (glibc's default starting value, 128 KiB) keeps those bodies mmapped.
const MALLOC_ENV: (&str, &str) = ("MALLOC_MMAP_THRESHOLD_", "131072");

/// Who runs on which core.
#[derive(Clone, Copy)]
enum Core {
    /// The scenario processes (the client, and the `userbatch` binary they start).
    Client,
    /// The mock processes.
    Mock,
}

/// The cores this process may use (its affinity list, as `taskset -cp` prints it).
fn allowed_cores() -> Vec<usize> {
    let Ok(out) = Command::new("taskset")
        .args(["-cp", &std::process::id().to_string()])
        .output()
    else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let list = text.rsplit(':').next().unwrap_or_default().trim();
    let mut cores = Vec::new();
    for part in list.split(',') {
        let (from, to) = part.split_once('-').unwrap_or((part, part));
        if let (Ok(from), Ok(to)) = (from.trim().parse::<usize>(), to.trim().parse::<usize>()) {
            cores.extend(from..=to);
        }
    }
    cores
}

/// The command running `bin` on its core: the client alone on the first allowed core, the
/// mocks on the others, so the client's CPU and wall rows measure the client, not the two
/// sharing cores. Unpinned on a machine with one core or without `taskset`.
fn on(core: Core, bin: &Path) -> Command {
    static CORES: std::sync::OnceLock<Vec<usize>> = std::sync::OnceLock::new();
    let cores = CORES.get_or_init(allowed_cores);
    if cores.len() < 2 {
        return Command::new(bin);
    }
    let list = match core {
        Core::Client => cores[0].to_string(),
        Core::Mock => cores[1..]
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
    };
    let mut command = Command::new("taskset");
    command.args(["-c", &list]).arg(bin);
    command
}

fn scenario(bin: &Path, args: &[&str]) -> Result<Vec<Value>> {
    scenario_with(bin, args, &[])
}

fn scenario_with(bin: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<Vec<Value>> {
    let out = on(Core::Client, bin)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .with_context(|| format!("running {args:?}"))?;
    if !out.status.success() {
        bail!(
            "scenario {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8(out.stdout)?
        .lines()
        .map(|l| serde_json::from_str(l).with_context(|| format!("scenario output: {l}")))
        .collect()
}

fn num(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

fn row<'a>(
    rows: &'a mut Vec<Row>,
    name: &str,
    target: &'static str,
    unit: &'static str,
) -> &'a mut Row {
    if let Some(i) = rows.iter().position(|r| r.name == name) {
        return &mut rows[i];
    }
    rows.push(Row::new(name, target, unit));
    rows.last_mut().expect("just pushed")
}

/// Runs the benchmarks; with `write`, rewrites BENCHMARKS.md.
pub fn run(root: &Path, write: bool, runs: usize) -> Result<()> {
    let started = Instant::now();
    println!("building userbatch-bench (release)...");
    let status = Command::new(env!("CARGO"))
        .current_dir(root)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "userbatch-bench",
            "-p",
            "userbatch-cli",
        ])
        .status()?;
    if !status.success() {
        bail!("building userbatch-bench and userbatch-cli failed");
    }
    let bin = target_dir(root).join("release/userbatch-bench");
    let cli = target_dir(root).join("release/userbatch");
    let fast = MockProcess::start(&bin, 0)?;
    let slow = MockProcess::start(&bin, LATENCY_MS)?;
    let limited = MockProcess::spawn(&bin, &["mock-limited", "200", "10", "fractional"])?;
    let limited_seconds = MockProcess::spawn(&bin, &["mock-limited", "200", "10", "seconds"])?;
    let limited_headers = MockProcess::spawn(
        &bin,
        &["mock-limited", "200", "10", "seconds", "x-rate-limit"],
    )?;
    let limited_slow = MockProcess::spawn(&bin, &["mock-limited", "50", "10", "seconds"])?;
    let mut rows: Vec<Row> = Vec::new();
    for run in 1..=runs {
        println!("run {run}/{runs}...");
        for v in scenario(&bin, &["requests"])? {
            let name = format!(
                "1. requests / minimum: {}",
                v["name"].as_str().unwrap_or("?")
            );
            row(&mut rows, &name, "1.00", "x")
                .values
                .push(num(&v, "requests") / num(&v, "minimum"));
        }
        for conc in ["4", "16"] {
            for v in scenario(&bin, &["wall", &slow.url, &LATENCY_MS.to_string(), conc])? {
                let name = format!(
                    "2. wall / floor, c={conc}: {}",
                    v["name"].as_str().unwrap_or("?")
                );
                row(&mut rows, &name, "<= 1.10", "x")
                    .values
                    .push(num(&v, "wall_ms") / num(&v, "floor_ms"));
                if conc == "16" {
                    let name = format!(
                        "2. client CPU / wall, c=16: {}",
                        v["name"].as_str().unwrap_or("?")
                    );
                    row(&mut rows, &name, "report", "x")
                        .values
                        .push(num(&v, "client_cpu_ms") / num(&v, "wall_ms"));
                    // A client that needs more CPU than the floor lasts cannot beat the first
                    // answer's latency plus its CPU: how close it comes is how well it
                    // overlaps waiting and working.
                    let name = format!(
                        "2. wall / max(floor, latency + client CPU), c=16: {}",
                        v["name"].as_str().unwrap_or("?")
                    );
                    let latency = LATENCY_MS as f64;
                    let bound = num(&v, "floor_ms").max(latency + num(&v, "client_cpu_ms"));
                    row(&mut rows, &name, "report", "x")
                        .values
                        .push(num(&v, "wall_ms") / bound);
                }
            }
        }
        for v in scenario(&bin, &["naive", &slow.url])? {
            let name = "3. speedup over the naive get-one loop (nexudus users, 1,000 ids)";
            row(&mut rows, name, "report", "x")
                .values
                .push(num(&v, "naive_ms") / num(&v, "facade_ms"));
        }
        // Both sides in one process, in turn, three times each: a paired ratio.
        for v in scenario(&bin, &["cpu", &fast.url, "3"])? {
            row(
                &mut rows,
                "4. CPU facade / hand-written baseline (10,000 coworkers)",
                "<= 1.10",
                "x",
            )
            .values
            .push(num(&v, "facade_s") / num(&v, "baseline_s"));
            row(
                &mut rows,
                "4. CPU facade / hand-written per-record baseline (the same job)",
                "<= 1.10",
                "x",
            )
            .values
            .push(num(&v, "facade_s") / num(&v, "per_record_s"));
        }
        for (mock, rate, n, name, target, share) in [
            (
                &limited,
                "200",
                "1000",
                "200/s burst 10, 1,000 requests, c=16: Retry-After in fractions of a second",
                "<= 1.20",
                "<= 0.20",
            ),
            (
                &limited_seconds,
                "200",
                "1000",
                "200/s burst 10, 1,000 requests, c=16: Retry-After in whole seconds",
                "<= 1.30",
                "<= 0.10",
            ),
            (
                &limited_headers,
                "200",
                "1000",
                "200/s burst 10, 1,000 requests, c=16: X-RateLimit-* headers, Retry-After in whole seconds",
                "<= 1.10",
                "<= 0.02",
            ),
            (
                &limited_slow,
                "50",
                "3000",
                "50/s burst 10, 3,000 requests, c=16: Retry-After in whole seconds",
                "<= 1.30",
                "<= 0.10",
            ),
        ] {
            for v in scenario(&bin, &["limited", &mock.url, rate, "10", n])? {
                row(
                    &mut rows,
                    &format!("8. wall / rate floor, {name}"),
                    target,
                    "x",
                )
                .values
                .push(num(&v, "wall_ms") / num(&v, "floor_ms"));
                let short = name.split_once(": ").map_or(name, |(_, s)| s);
                let rows_name = if n == "1000" {
                    format!("8. throttled answers / requests: {short}")
                } else {
                    format!("8. throttled answers / requests: {rate}/s, {short}")
                };
                row(&mut rows, &rows_name, share, "x")
                    .values
                    .push(num(&v, "throttled") / num(&v, "requests"));
            }
        }
        let cli_path = cli.to_string_lossy();
        for v in scenario(&bin, &["cli", &cli_path, &fast.url, "10000"])? {
            row(
                &mut rows,
                "7. CLI CPU per record (10,000 coworkers to /dev/null)",
                "report",
                "us",
            )
            .values
            .push(num(&v, "cpu_s") * 1e6 / num(&v, "records"));
        }
        for v in scenario(&bin, &["costs", &cli_path, &fast.url])? {
            let per_record = |key: &str| num(&v, key);
            for (name, target, value) in [
                (
                    "9. client CPU per record, typed (facade, 10,000 coworkers, c=16)",
                    "report",
                    per_record("typed_us"),
                ),
                (
                    "9. client CPU per record, raw (CLI, the same job)",
                    "report",
                    per_record("raw_us"),
                ),
                (
                    "9. decoding one record into its type (the same bytes)",
                    "report",
                    per_record("decode_us"),
                ),
                (
                    "9. finding one record and its id (the same bytes)",
                    "report",
                    per_record("scan_us"),
                ),
                (
                    "9. finding one record, its id and its secrets, checking it is JSON (the engine's scan)",
                    "report",
                    per_record("engine_scan_us"),
                ),
            ] {
                row(&mut rows, name, target, "us").values.push(value);
            }
            row(
                &mut rows,
                "9. typed client CPU per record / decoding it",
                "<= 2.0",
                "x",
            )
            .values
            .push(per_record("typed_us") / per_record("decode_us"));
            row(
                &mut rows,
                "9. raw client CPU per record / finding it",
                "<= 3.0",
                "x",
            )
            .values
            .push(per_record("raw_us") / per_record("scan_us"));
        }
        let small = scenario_with(&bin, &["stream", &fast.url, "10000"], &[MALLOC_ENV])?;
        let large = scenario_with(&bin, &["stream", &fast.url, "1000000"], &[MALLOC_ENV])?;
        row(
            &mut rows,
            "5. peak RSS streaming 1,000,000 / 10,000 coworkers",
            "<= 1.5",
            "x",
        )
        .values
        .push(num(&large[0], "peak_rss_kib") / num(&small[0], "peak_rss_kib"));
        row(
            &mut rows,
            "5. peak RSS streaming 10,000 coworkers",
            "report",
            "MiB",
        )
        .values
        .push(num(&small[0], "peak_rss_kib") / 1024.0);
        row(
            &mut rows,
            "5. peak RSS streaming 1,000,000 coworkers",
            "report",
            "MiB",
        )
        .values
        .push(num(&large[0], "peak_rss_kib") / 1024.0);
        mock_throughput(&bin, &mut rows)?;
        let (generate_s, rebuild_s) = regeneration(root)?;
        row(
            &mut rows,
            "6. cargo xtask generate (3 specs, in process)",
            "report",
            "ms",
        )
        .values
        .push(generate_s * 1e3);
        row(
            &mut rows,
            "6. warm rebuild of nexudus after a one-field spec edit",
            "report",
            "s",
        )
        .values
        .push(rebuild_s);
    }
    drop((
        fast,
        slow,
        limited,
        limited_seconds,
        limited_headers,
        limited_slow,
    ));
    let table = table(&rows, runs);
    println!("{table}");
    let micro = micro_benchmarks(root)?;
    println!("{micro}");
    println!("bench finished in {:.0} s", started.elapsed().as_secs_f64());
    if write {
        let doc = benchmarks_md(&table, &micro, runs, started.elapsed().as_secs_f64())?;
        std::fs::write(root.join("BENCHMARKS.md"), doc)?;
        println!("BENCHMARKS.md written");
    }
    Ok(())
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// Time to generate all three crates, and a warm rebuild of `nexudus` after one
/// field's description changes (the spec is restored afterwards).
fn regeneration(root: &Path) -> Result<(f64, f64)> {
    let t = Instant::now();
    for v in vendors(root)? {
        crate::generate::generate_vendor(root, &v)?;
    }
    let generate_s = t.elapsed().as_secs_f64();
    let build = || -> Result<f64> {
        let t = Instant::now();
        let ok = Command::new(env!("CARGO"))
            .current_dir(root)
            .args(["build", "--quiet", "-p", "userbatch-nexudus"])
            .status()?
            .success();
        if !ok {
            bail!("building nexudus failed");
        }
        Ok(t.elapsed().as_secs_f64())
    };
    build()?; // warm the target dir
    let spec = root.join("specs/nexudus.yaml");
    let original = std::fs::read_to_string(&spec)?;
    let needle = "The support team user email value for this user.";
    if !original.contains(needle) {
        bail!(
            "the benchmark's spec edit no longer applies: {needle:?} is gone from specs/nexudus.yaml"
        );
    }
    let edited = original.replacen(
        needle,
        "The support team user email value for this user (bench).",
        1,
    );
    std::fs::write(&spec, edited)?;
    let result = crate::generate::run(root, false).and_then(|()| build());
    std::fs::write(&spec, &original)?;
    crate::generate::run(root, false)?;
    build()?;
    Ok((generate_s, result?))
}

/// The mock's own throughput, to show it is not the bottleneck.
fn mock_throughput(bin: &Path, rows: &mut Vec<Row>) -> Result<()> {
    let fast = MockProcess::start(bin, 0)?;
    for v in scenario(bin, &["mockrate", &fast.url])? {
        row(
            rows,
            "mock: getUser, full records, 16 in flight",
            "report",
            "req/s",
        )
        .values
        .push(num(&v, "single_per_s"));
        row(
            rows,
            "mock: getCoworkers, 100 summaries each, 16 in flight",
            "report",
            "req/s",
        )
        .values
        .push(num(&v, "coworker_lists_per_s"));
    }
    Ok(())
}

fn table(rows: &[Row], runs: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "| scenario | target | median | min | max | unit |");
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    for r in rows {
        let (median, min, max) = r.stats();
        let _ = writeln!(
            out,
            "| {} | {} | {median:.2} | {min:.2} | {max:.2} | {} |",
            r.name, r.target, r.unit
        );
    }
    let _ = writeln!(
        out,
        "\n{runs} runs; each figure is a ratio or a measure taken within one run."
    );
    out
}

/// The divan micro-benchmarks of the facade (planning, encoding, decoding beside
/// `serde_json::Value`), as divan prints them.
fn micro_benchmarks(root: &Path) -> Result<String> {
    println!("running the micro-benchmarks (divan)...");
    let out = Command::new(env!("CARGO"))
        .current_dir(root)
        .args(["bench", "--quiet", "-p", "userbatch", "--bench", "micro"])
        .output()?;
    if !out.status.success() {
        bail!(
            "the micro-benchmarks failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?.trim_end().to_owned())
}

fn benchmarks_md(table: &str, micro: &str, runs: usize, seconds: f64) -> Result<String> {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().map(str::to_owned))
        .unwrap_or_default();
    let date = Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d %H:%M UTC")
        .output()?;
    let date = String::from_utf8_lossy(&date.stdout).trim().to_owned();
    let pinning = if allowed_cores().len() >= 2 {
        "; the client processes run alone on one core and the mocks on the others \
         (`taskset`), so the client's CPU and wall rows measure the client"
    } else {
        ""
    };
    Ok(format!(
        "# Benchmarks\n\n\
         Written by `cargo xtask bench --write` ({runs} runs, {seconds:.0} s). Machine: {cpu}, {cores} \
         cores, {mem}. Date: {date}.\n\n\
         Scenarios run against `userbatch-mock` on loopback, the mock in its own processes (one \
         with no latency, one answering each request {LATENCY_MS} ms after it arrived){pinning}. Requests are counted by the engine; the floor of a \
         wall time is ceil(requests / concurrency) x latency; CPU is user + system time of the \
         client process (getrusage), facade and baseline in turn in one process; peak RSS is the client's VmHWM.\n\n{table}\n\
         ## Micro-benchmarks (divan)\n\n`cargo bench -p userbatch --bench micro`: planning 10,000 \
         ids, and decoding 1,000 records into the generated types beside `serde_json::Value` \
         decoding of the same bytes.\n\n```text\n{micro}\n```\n\n{NOTES}"
    ))
}

/// The explanations under the table, kept in a file of their own so they can be read and
/// edited as Markdown.
const NOTES: &str = include_str!("../bench-notes.md");
