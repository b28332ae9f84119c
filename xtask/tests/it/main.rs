//! xtask's integration tests, one binary with a module per subject.

mod diff;
mod docs;
mod docs_synthetic;
mod new_vendor;
mod release;

use std::path::Path;
use std::process::Command;

/// Makes `dir` a git repository with everything in it committed: the base revision a test
/// diffs against.
fn commit_all(dir: &Path) {
    for args in [
        &["init", "-q"][..],
        &["add", "."],
        &["commit", "-qm", "as released"],
    ] {
        let status = Command::new("git")
            .current_dir(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?}");
    }
}
