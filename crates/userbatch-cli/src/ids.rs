//! The ids to fetch, read the same way wherever they come from: arguments, then the
//! failed ids of an earlier report (`--retry-failed`), then an ids file's lines. Each is
//! trimmed of surrounding white space, blank ones are skipped, a UTF-8 byte order mark at
//! the start of a file is dropped. They are handed to the planner one at a time (it keeps
//! them compactly, so a file of millions is never held as strings); where an id came from is
//! kept only as runs of positions, so an error can name the argument or the file and line.

use std::io::{self, BufRead, Read};
use std::path::Path;

use crate::exit::Exit::{self, Usage};

/// The longest line an ids file may have, in bytes: more than any vendor's id (User
/// Manager's path segment holds 20,000 characters), and a bound on what one line can cost
/// (`--ids-file /dev/zero` ends here instead of filling memory).
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Where ids come from.
pub struct InputIds {
    /// Ids not from the file, with where each came from.
    given: std::vec::IntoIter<(String, Source)>,
    file: Option<IdsFile>,
    /// Ids handed out so far (the planner's input positions).
    count: usize,
    max: usize,
    /// Where the ids at each position came from: `(first position, its source)`, a new run
    /// whenever positions and sources stop advancing together.
    runs: Vec<(usize, Source)>,
    /// The first problem with the input; it stops the reading.
    pub error: Option<String>,
}

/// Where one id came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The n-th (1-based) id argument.
    Argument(usize),
    /// The n-th (1-based) failed id of the `--retry-failed` report.
    Report(usize),
    /// Line n (1-based) of the ids file.
    Line(usize),
}

impl Source {
    fn advanced(self, by: usize) -> Self {
        match self {
            Self::Argument(n) => Self::Argument(n + by),
            Self::Report(n) => Self::Report(n + by),
            Self::Line(n) => Self::Line(n + by),
        }
    }
}

struct IdsFile {
    reader: Box<dyn BufRead>,
    name: String,
    line: usize,
}

impl InputIds {
    /// The ids of the arguments and of `retry` (the failed ids of an earlier report), and
    /// the ids file opened (one that cannot be opened is an error before anything else).
    pub fn open(
        arguments: &[String],
        retry: Vec<String>,
        ids_file: Option<&Path>,
        max: usize,
    ) -> Result<Self, Exit> {
        let file = match ids_file {
            None => None,
            Some(path) if path.as_os_str() == "-" => Some(IdsFile {
                reader: Box::new(io::stdin().lock()),
                name: "standard input".to_owned(),
                line: 0,
            }),
            Some(path) => {
                let file = std::fs::File::open(path).map_err(|e| {
                    Usage(format!("cannot read --ids-file {}: {e}", path.display()))
                })?;
                Some(IdsFile {
                    reader: Box::new(io::BufReader::new(file)),
                    name: path.display().to_string(),
                    line: 0,
                })
            }
        };
        let given = arguments
            .iter()
            .enumerate()
            .map(|(i, id)| (id.trim().to_owned(), Source::Argument(i + 1)))
            .chain(
                retry
                    .into_iter()
                    .enumerate()
                    .map(|(i, id)| (id, Source::Report(i + 1))),
            )
            .filter(|(id, _)| !id.is_empty())
            .collect::<Vec<_>>();
        Ok(Self {
            given: given.into_iter(),
            file,
            count: 0,
            max,
            runs: Vec::new(),
            error: None,
        })
    }

    /// Where the id at `index` (the planner's 0-based input position) came from, in words.
    pub fn describe(&self, index: usize, report: Option<&Path>) -> String {
        let at = self.runs.partition_point(|(start, _)| *start <= index);
        let Some(&(start, source)) = at.checked_sub(1).and_then(|i| self.runs.get(i)) else {
            return format!("input position {index}");
        };
        match source.advanced(index - start) {
            Source::Argument(n) => format!("argument {n}"),
            Source::Report(n) => format!(
                "failed id {n} of {}",
                report.map_or_else(String::new, |p| p.display().to_string())
            ),
            Source::Line(n) => format!(
                "{} line {n}",
                self.file
                    .as_ref()
                    .map_or("the ids file", |f| f.name.as_str())
            ),
        }
    }

    fn note(&mut self, source: Source) {
        let continues = self
            .runs
            .last()
            .is_some_and(|&(start, s)| s.advanced(self.count - start) == source);
        if !continues {
            self.runs.push((self.count, source));
        }
    }

    fn next_line(&mut self) -> Option<(String, Source)> {
        let file = self.file.as_mut()?;
        loop {
            file.line += 1;
            let mut buf = Vec::new();
            let read = (&mut file.reader)
                .take(MAX_LINE_BYTES as u64 + 1)
                .read_until(b'\n', &mut buf);
            match read {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    self.error = Some(format!("cannot read the ids from {}: {e}", file.name));
                    return None;
                }
            }
            if buf.last() == Some(&b'\n') {
                buf.pop();
            } else if buf.len() > MAX_LINE_BYTES {
                self.error = Some(format!(
                    "{} line {} is longer than {MAX_LINE_BYTES} bytes: no vendor takes such an id",
                    file.name, file.line
                ));
                return None;
            }
            if file.line == 1 && buf.starts_with(b"\xEF\xBB\xBF") {
                buf.drain(..3);
            }
            let Ok(text) = String::from_utf8(buf) else {
                self.error = Some(format!("{} line {} is not UTF-8", file.name, file.line));
                return None;
            };
            let id = text.trim();
            if !id.is_empty() {
                return Some((id.to_owned(), Source::Line(file.line)));
            }
        }
    }
}

impl Iterator for InputIds {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        if self.error.is_some() {
            return None;
        }
        let (id, source) = match self.given.next() {
            Some(given) => given,
            None => self.next_line()?,
        };
        if self.count >= self.max {
            self.error = Some(format!(
                "more than {} ids (raise --max-ids to fetch more)",
                self.max
            ));
            return None;
        }
        self.note(source);
        self.count += 1;
        Some(id)
    }
}

/// What `--retry-failed` reads of a report written by `--report`.
#[derive(serde::Deserialize)]
struct ReportFile {
    vendor: Option<String>,
    resource: Option<String>,
    failed: Vec<FailedFile>,
}

#[derive(serde::Deserialize)]
struct FailedFile {
    ids: Vec<String>,
}

fn read_report(path: &Path) -> Result<ReportFile, Exit> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Usage(format!("cannot read --retry-failed {shown}: {e}")))?;
    serde_json::from_str(&text).map_err(|e| {
        Usage(format!(
            "--retry-failed {shown} is not a report written by --report: {e}"
        ))
    })
}

/// The failed ids of a report written by `--report`, in its order, after checking that it
/// was written for the same vendor and resource.
pub fn failed_ids_of(path: &Path, vendor: &str, resource: &str) -> Result<Vec<String>, Exit> {
    let report = read_report(path)?;
    for (what, asked, was) in [
        ("vendor", vendor, &report.vendor),
        ("resource", resource, &report.resource),
    ] {
        if let Some(was) = was.as_deref().filter(|was| *was != asked) {
            return Err(Usage(format!(
                "--retry-failed {} is a report of {what} {was}, not {asked}",
                path.display()
            )));
        }
    }
    Ok(report.failed.into_iter().flat_map(|f| f.ids).collect())
}

/// The vendor and the resource a report written by `--report` was written for, to fill in
/// what the command line leaves out of `--retry-failed REPORT`.
pub fn target_of(path: &Path) -> Result<(Option<String>, Option<String>), Exit> {
    let report = read_report(path)?;
    Ok((report.vendor, report.resource))
}
