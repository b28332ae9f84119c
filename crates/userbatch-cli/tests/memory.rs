//! Peak memory of the command line on an endless ids file. Its own test binary: a child's
//! peak memory (`ru_maxrss`) starts from its spawner's, which must therefore be small; the
//! `it` binary, running many tests at once, is not.

use std::process::{Command, Output};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn userbatch(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_userbatch"));
    cmd.args(args)
        .env_remove("USERBATCH_TOKEN")
        .env_remove("USERBATCH_BASE_URL");
    cmd
}

#[test]
fn an_endless_ids_file_ends_with_an_error_in_bounded_memory() {
    use std::io::Read;
    // Reaped by `wait4` below, which also gives its peak memory.
    #[allow(clippy::zombie_processes)]
    let mut child = userbatch(&["--mock", "nexudus", "users", "--ids-file", "/dev/zero"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    // This child's own exit status and peak memory (it runs a mock in-process, about
    // 20 MB), reaped here rather than by `Child::wait`.
    let mut status = 0;
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: wait4 writes a status and a whole rusage into the pointers it is given.
    let usage = unsafe {
        assert_eq!(libc::wait4(pid, &mut status, 0, usage.as_mut_ptr()), pid);
        usage.assume_init()
    };
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 2,
        "{err}"
    );
    assert!(
        err.contains("/dev/zero line 1 is longer than 65536 bytes"),
        "{err}"
    );
    assert!(err.len() < 200, "the line is not echoed: {err}");
    assert!(
        usage.ru_maxrss < 64 * 1024,
        "peak RSS {} KiB",
        usage.ru_maxrss
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ids.txt");
    let mut long = "1\n2\n".to_owned();
    long.push_str(&"9".repeat(70_000));
    std::fs::write(&file, long).unwrap();
    let out = userbatch(&["--mock", "nexudus", "users", "--ids-file"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("ids.txt line 3 is longer"),
        "{}",
        stderr(&out)
    );
    let out = userbatch(&[
        "--mock",
        "nexudus",
        "users",
        "1",
        "2",
        "3",
        "--max-ids",
        "2",
    ])
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("more than 2 ids"), "{}", stderr(&out));
}
