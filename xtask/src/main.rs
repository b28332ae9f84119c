//! `cargo xtask <command>`: see `cargo xtask help`.

use std::process::ExitCode;
use std::time::Instant;

use xtask::spec::workspace_root;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  generate            regenerate crates/<vendor>/src/generated.rs from specs/<vendor>.yaml
  generate --check    fail with a diff if any generated file is stale (CI)
  lint                check the specs: the OpenAPI 3.0 schema, what progenitor mishandles,
                      x-userbatch, examples, then Redocly CLI (needs `npm ci` once)
  lint --no-redocly   the same without Redocly
  docs-check [--docs DIR]
                      compare the specs with the vendors' doc pages as saved in DIR
                      (default: $USERBATCH_VENDOR_DOCS); each operation names its page
                      with x-docs-page; prints every difference, exits 1 if there is one
  diff [--base REV] [--json] [--fail-on breaking] [--bump]
                      what changed from the specs at REV (default HEAD) to the working
                      tree: wire, x-userbatch rules, the generated Rust API and the
                      version bump it calls for (Markdown; --json for tools); --bump
                      writes that version into each vendor crate's manifest
  bench [--write] [--runs N]
                      scenario benchmarks against the mock (default 5 runs); --write
                      rewrites BENCHMARKS.md
  help                this text";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let root = workspace_root();
    let started = Instant::now();
    let result = match args.as_slice() {
        ["generate"] => xtask::generate::run(&root, false),
        ["generate", "--check"] => xtask::generate::run(&root, true),
        ["lint"] => xtask::lint::run(&root, true),
        ["lint", "--no-redocly"] => xtask::lint::run(&root, false),
        ["docs-check"] => match std::env::var_os("USERBATCH_VENDOR_DOCS") {
            Some(dir) => xtask::docs::run(&root, std::path::Path::new(&dir)),
            None => {
                eprintln!(
                    "xtask docs-check: pass --docs DIR (a folder of the vendors' doc pages) \
                     or set USERBATCH_VENDOR_DOCS"
                );
                return ExitCode::from(2);
            }
        },
        ["docs-check", "--docs", dir] => xtask::docs::run(&root, std::path::Path::new(dir)),
        ["diff", rest @ ..] => match diff_args(rest) {
            Some((base, json, fail, bump)) => xtask::diff::run(&root, base, json, fail, bump),
            None => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        },
        ["bench", rest @ ..] => match bench_args(rest) {
            Some((write, runs)) => xtask::bench::run(&root, write, runs),
            None => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        },
        ["help"] | ["--help"] | ["-h"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => {
            eprintln!("xtask {}: ok in {:.2?}", args.join(" "), started.elapsed());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("xtask {}: error: {e:#}", args.join(" "));
            ExitCode::FAILURE
        }
    }
}

fn diff_args<'a>(args: &[&'a str]) -> Option<(&'a str, bool, bool, bool)> {
    let (mut base, mut json, mut fail, mut bump) = ("HEAD", false, false, false);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match *arg {
            "--base" => base = it.next()?,
            "--json" => json = true,
            "--bump" => bump = true,
            // `breaking` is the only level: anything else is a usage error, not a quiet
            // "never fail".
            "--fail-on" => fail = (*it.next()? == "breaking").then_some(true)?,
            _ => return None,
        }
    }
    Some((base, json, fail, bump))
}

fn bench_args(args: &[&str]) -> Option<(bool, usize)> {
    let (mut write, mut runs) = (false, 5);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match *arg {
            "--write" => write = true,
            "--runs" => runs = it.next()?.parse().ok().filter(|n| *n >= 1)?,
            _ => return None,
        }
    }
    Some((write, runs))
}

#[cfg(test)]
mod tests {
    use super::diff_args;

    #[test]
    fn fail_on_takes_breaking_and_refuses_anything_else() {
        assert_eq!(
            diff_args(&["--fail-on", "breaking"]),
            Some(("HEAD", false, true, false))
        );
        assert_eq!(
            diff_args(&["--base", "v1", "--json", "--bump"]),
            Some(("v1", true, false, true))
        );
        assert_eq!(diff_args(&["--fail-on", "compatible"]), None);
        assert_eq!(diff_args(&["--fail-on"]), None);
    }
}
