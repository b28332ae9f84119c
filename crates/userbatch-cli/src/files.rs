//! Files the command line writes: the report and `--output`. Each path is tried before the
//! ids are read, so a bad path costs no traffic; each file is written as a temporary file
//! (mode 0600) beside its destination, made once Ctrl-C is caught (so an interrupt cannot
//! leave it behind), and renamed over the destination when the run ends, so a file at the
//! destination is always whole, and a symlink there is replaced, never followed.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::exit::Exit::{self, Usage};

/// A file written in full, then renamed into place.
pub struct AtomicFile {
    path: PathBuf,
    temp: BufWriter<tempfile::NamedTempFile>,
}

impl AtomicFile {
    /// The temporary file beside `path`; `flag` names the option in errors.
    pub fn create(flag: &str, path: &Path) -> Result<Self, Exit> {
        if path.is_dir() {
            return Err(Usage(format!("{flag} {} is a folder", path.display())));
        }
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".userbatch-")
            .tempfile_in(folder)
            .map_err(|e| Usage(format!("cannot write {flag} {}: {e}", path.display())))?;
        Ok(Self {
            path: path.to_owned(),
            temp: BufWriter::with_capacity(crate::sink::WRITE_BUFFER, temp),
        })
    }

    /// Whether a file can be made for `path` (one is made and removed at once): the check
    /// before any id is read or request sent.
    pub fn check(flag: &str, path: &Path) -> Result<(), Exit> {
        Self::create(flag, path).map(drop)
    }

    /// Where the file goes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes, syncs and renames the file into place.
    pub fn persist(self) -> io::Result<()> {
        let temp = self
            .temp
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        temp.as_file().sync_all()?;
        temp.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.temp.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.temp.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.temp.flush()
    }
}

/// Refuses a file written that is also read or written by another option: `--output` over
/// the ids file would replace the ids with records, `--output` and `--report` on one path
/// would leave only the report. `inputs` and `outputs` are `(flag, path)`; `-` (standard
/// input) is no file. The report may replace the report that `--retry-failed` reads, the
/// one pair allowed (it is read first, and that is how a retry is chained).
pub fn refuse_overlaps(
    inputs: &[(&str, Option<&Path>)],
    outputs: &[(&str, Option<&Path>)],
    allowed: (&str, &str),
) -> Result<(), Exit> {
    let outputs: Vec<(&str, PathBuf)> = outputs
        .iter()
        .filter_map(|(flag, path)| Some((*flag, destination(path.as_ref()?))))
        .collect();
    for (i, (out_flag, out)) in outputs.iter().enumerate() {
        let earlier = outputs[..i]
            .iter()
            .map(|(flag, path)| (*flag, path.clone()));
        let read = inputs.iter().filter_map(|(flag, path)| {
            let path = path.filter(|p| p.as_os_str() != "-")?;
            // Reading follows symlinks; a destination is the link itself (it is replaced).
            Some((
                *flag,
                path.canonicalize().unwrap_or_else(|_| path.to_owned()),
            ))
        });
        for (flag, path) in earlier.chain(read) {
            if path == *out && (flag, *out_flag) != allowed {
                return Err(Usage(format!(
                    "{out_flag} and {flag} name the same file ({}): the run would replace it",
                    out.display()
                )));
            }
        }
    }
    Ok(())
}

/// Where a file written at `path` lands: its folder resolved, its name as given (a symlink
/// there is replaced, not followed).
fn destination(path: &Path) -> PathBuf {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match (folder.canonicalize(), path.file_name()) {
        (Ok(folder), Some(name)) => folder.join(name),
        _ => path.to_owned(),
    }
}

/// Reads a secret from a file (`-`: standard input): its first line, trimmed; an empty one
/// is refused. The error names the file, never its contents.
pub fn read_secret(flag: &str, path: &Path) -> Result<String, Exit> {
    let text = if path.as_os_str() == "-" {
        io::read_to_string(io::stdin().lock())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|e| Usage(format!("cannot read {flag} {}: {e}", path.display())))?;
    let secret = text.lines().next().unwrap_or("").trim();
    if secret.is_empty() {
        return Err(Usage(format!(
            "{flag} {}: the first line is empty",
            path.display()
        )));
    }
    Ok(secret.to_owned())
}
