//! Where records go: standard output or the `--output` file.
use std::borrow::Cow;
use std::io::{self, BufWriter, IsTerminal, Write};

use userbatch::RawRecord;

use crate::files::AtomicFile;

/// How much is written at once: records are kilobytes each, and a write system call per
/// 8 KB (`BufWriter`'s default) was 5,000 of them for 10,000 Nexudus coworkers.
pub(crate) const WRITE_BUFFER: usize = 64 * 1024;

/// Where records go: standard output, or the `--output` file. A closed pipe (`| head`)
/// stops the writing, not the accounting; a file that cannot be written fails the run.
pub(crate) struct Sink {
    pub(crate) out: Box<dyn Write + Send>,
    pub(crate) file: Option<AtomicFile>,
    pub(crate) error: Option<io::Error>,
    pub(crate) closed: bool,
}

impl Sink {
    pub(crate) fn new(file: Option<AtomicFile>) -> Self {
        Self {
            // A terminal shows each record as it comes (standard output flushes per line).
            out: if io::stdout().is_terminal() {
                Box::new(io::stdout())
            } else {
                Box::new(BufWriter::with_capacity(WRITE_BUFFER, io::stdout()))
            },
            file,
            error: None,
            closed: false,
        }
    }

    /// Writes one record on a line of its own, whatever white space the vendor sent: as
    /// sent, or (`redact`) with its secrets' values replaced; for a `terminal`, with the
    /// control characters it would act on escaped.
    pub(crate) fn record(&mut self, record: &RawRecord, redact: bool, terminal: bool) {
        if self.closed || self.error.is_some() {
            return;
        }
        let out: &mut dyn Write = match &mut self.file {
            Some(file) => file,
            None => &mut self.out,
        };
        let written = if terminal || userbatch::json::has_line_break(record.as_str()) {
            let text = if redact {
                record.redacted()
            } else {
                Cow::Borrowed(record.as_str())
            };
            let text = userbatch::json::one_line(&text);
            let text = if terminal {
                userbatch::json::escape_controls(&text)
            } else {
                text
            };
            out.write_all(text.as_bytes())
        } else if redact {
            // The text around the secrets, as it is: nothing copied but into the buffer.
            record
                .redacted_parts()
                .try_for_each(|part| out.write_all(part.as_bytes()))
        } else {
            out.write_all(record.as_bytes())
        }
        .and_then(|()| out.write_all(b"\n"));
        match written {
            Ok(()) => {}
            Err(e) if self.file.is_none() && e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// Flushes standard output, or renames the file into place. `Ok(false)`: standard
    /// output was closed before every record was written (`| head`), which is no error.
    pub(crate) fn finish(mut self) -> Result<bool, String> {
        let Some(file) = self.file else {
            if let Err(e) = self.out.flush() {
                if e.kind() == io::ErrorKind::BrokenPipe {
                    self.closed = true;
                } else {
                    self.error.get_or_insert(e);
                }
            }
            return match self.error {
                Some(e) => Err(format!("cannot write the records: {e}")),
                None => Ok(!self.closed),
            };
        };
        let path = file.path().display().to_string();
        match self.error {
            // Left out: a file at the path holds only complete runs' records.
            Some(e) => Err(format!("cannot write the records to {path}: {e}")),
            None => file
                .persist()
                .map(|()| true)
                .map_err(|e| format!("cannot write the records to {path}: {e}")),
        }
    }
}
