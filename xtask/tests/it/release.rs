//! A field the vendor adds is a compatible release: in a copy of the workspace, a nullable
//! field added to the Nexudus User and the crate regenerated, `cargo xtask diff --fail-on
//! breaking --bump` passes, calls for a compatible bump and writes it, and a program
//! written against the old crate builds and runs unchanged against the new one.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::commit_all;
use crate::new_vendor::{Scratch, copy_workspace, seed_target};
use xtask::spec::workspace_root;

/// The consumer: what a program does with the records of the crate it pins, written
/// against today's `userbatch-nexudus` (builds a record with its builder, edits it through
/// the builder, assigns and reads fields, destructures with `..`, round-trips its JSON).
const CONSUMER: &str = r#"use nexudus::types;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let user: types::User = types::User::builder()
        .id(42)
        .full_name("Ada Lovelace".to_owned())
        .active(true)
        .try_into()?;
    let mut user = user;
    user.email = Some("ada@example.com".to_owned());
    let types::User { id, full_name, .. } = &user;
    assert_eq!((*id, full_name.as_deref()), (42, Some("Ada Lovelace")));
    let edited: types::User = types::builder::User::from(user).active(false).try_into()?;
    let json = serde_json::to_string(&edited)?;
    let back: types::User = serde_json::from_str(&json)?;
    assert_eq!(back.active, Some(false));
    assert_eq!(back.email.as_deref(), Some("ada@example.com"));
    // A builder without the required id fails, by its name.
    let no_id: Result<types::User, _> = types::User::builder().try_into();
    assert!(no_id.unwrap_err().to_string().contains("id"));
    println!("consumer ok: {json}");
    Ok(())
}
"#;

/// A copy of the workspace under `target/<name>`, committed as the released revision, and
/// the scratch folder that removes it when dropped.
fn released_copy(name: &str) -> (Scratch, PathBuf) {
    let root = workspace_root();
    let scratch = Scratch(root.join("target").join(name));
    let _ = std::fs::remove_dir_all(&scratch.0);
    let copy = scratch.0.join("workspace");
    copy_workspace(&root, &copy);
    commit_all(&copy);
    (scratch, copy)
}

/// Builds and runs the consumer; its standard output.
fn build_and_run(consumer: &Path, target: &Path) -> String {
    let out = Command::new(env!("CARGO"))
        .current_dir(consumer)
        .env("CARGO_TARGET_DIR", target)
        .args(["run", "--offline", "--quiet"])
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "the consumer does not build or run:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[ignore = "builds the Nexudus crate twice in a copy of the workspace (about a minute); CI runs \
            it with --include-ignored"]
fn a_nullable_field_added_by_the_vendor_is_a_compatible_release() {
    let root = workspace_root();
    let (scratch, copy) = released_copy("release-check");

    // A program depending on the released crate, resolved with the workspace's lock file.
    let consumer = scratch.0.join("consumer");
    std::fs::create_dir_all(consumer.join("src")).unwrap();
    std::fs::write(
        consumer.join("Cargo.toml"),
        format!(
            "[package]\nname = \"consumer\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\
             publish = false\n\n[workspace]\n\n[dependencies]\n\
             nexudus = {{ path = {:?}, version = \"0.1.0\", package = \"userbatch-nexudus\" }}\n\
             serde_json = \"1\"\n",
            copy.join("crates/nexudus")
        ),
    )
    .unwrap();
    std::fs::write(consumer.join("src/main.rs"), CONSUMER).unwrap();
    std::fs::copy(root.join("Cargo.lock"), consumer.join("Cargo.lock")).unwrap();
    let target = scratch.0.join("target");
    seed_target(&root.join("target/debug"), &target.join("debug"));
    let before = build_and_run(&consumer, &target);
    assert!(before.starts_with("consumer ok:"), "{before}");

    // The vendor documents a new nullable field; the crate is regenerated.
    let spec = copy.join("specs/nexudus.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    let anchor = "        TwoFactorEnabled:\n";
    assert_eq!(text.matches(anchor).count(), 1);
    std::fs::write(
        &spec,
        text.replacen(
            anchor,
            &format!(
                "        BadgeColour:\n          type: string\n          nullable: true\n          \
                 description: \"The colour of the user's badge.\"\n{anchor}"
            ),
            1,
        ),
    )
    .unwrap();
    xtask::generate::run(&copy, false).expect("generate");
    let generated = std::fs::read_to_string(copy.join("crates/nexudus/src/generated.rs")).unwrap();
    assert!(
        generated.contains("pub badge_colour:"),
        "the field is generated"
    );

    // The diff: compatible, 0.1.0 -> 0.1.1; --fail-on breaking passes; --bump writes it.
    let all = xtask::diff::changes(&copy, "HEAD").unwrap();
    let nexudus = all.iter().find(|v| v.vendor == "nexudus").unwrap();
    assert!(!nexudus.is_breaking(), "{:#?}", nexudus.changes);
    assert_eq!(nexudus.release, xtask::diff::Release::Compatible);
    assert_eq!(
        (&*nexudus.version, &*nexudus.next_version),
        ("0.1.0", "0.1.1")
    );
    let md = xtask::diff::markdown(&all, "HEAD");
    assert!(
        md.contains("`userbatch-nexudus`: 0.1.0 → **0.1.1**") && md.contains("**compatible**"),
        "{md}"
    );
    xtask::diff::run(&copy, "HEAD", false, true, true).expect("--fail-on breaking passes");
    let manifest = std::fs::read_to_string(copy.join("crates/nexudus/Cargo.toml")).unwrap();
    assert!(manifest.contains("version = \"0.1.1+"), "{manifest}");
    xtask::generate::run(&copy, true).expect("generate --check is clean after the bump");

    // The program, unchanged, builds and runs against the new crate.
    let after = build_and_run(&consumer, &target);
    assert_eq!(after, before);
    let lock = std::fs::read_to_string(consumer.join("Cargo.lock")).unwrap();
    assert!(
        lock.contains("name = \"userbatch-nexudus\"\nversion = \"0.1.1+"),
        "the consumer resolved the bumped crate"
    );
}

/// The cargo-semver-checks this project's verdicts are compared with.
const SEMVER_CHECKS: &str = "0.51.0";

#[test]
#[ignore = "needs cargo-semver-checks 0.51.0 on PATH (`cargo install cargo-semver-checks@0.51.0 \
            --locked`, 9 minutes here) and builds rustdoc twice per edit (about 10 minutes); \
            the README's release step"]
fn semver_checks_agree_with_the_diff_on_the_real_edits() {
    let version = Command::new("cargo-semver-checks")
        .args(["semver-checks", "--version"])
        .output()
        .expect("cargo-semver-checks is on PATH");
    let version = String::from_utf8_lossy(&version.stdout);
    assert!(
        version.trim().ends_with(SEMVER_CHECKS),
        "cargo-semver-checks {SEMVER_CHECKS} is the one compared with, not {version}"
    );
    let (_scratch, copy) = released_copy("semver-check");
    let mut table = Vec::new();
    for (name, vendor, edit) in crate::diff::REAL_EDITS {
        let spec = copy.join(format!("specs/{vendor}.yaml"));
        let text = std::fs::read_to_string(&spec).unwrap();
        std::fs::write(&spec, edit(&text)).unwrap();
        xtask::generate::run(&copy, false).expect("generate");
        let ours = xtask::diff::changes(&copy, "HEAD").unwrap();
        let ours = ours.iter().find(|v| v.vendor == *vendor).unwrap();
        let out = Command::new("cargo-semver-checks")
            .current_dir(&copy)
            .args(["semver-checks", "-p", &format!("userbatch-{vendor}")])
            .args(["--baseline-rev", "HEAD"])
            .output()
            .expect("cargo-semver-checks runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        let summary = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("Summary "))
            .unwrap_or_else(|| panic!("{name}: no summary from cargo-semver-checks:\n{text}"))
            .to_owned();
        let theirs_breaking = summary.contains("requires new major version");
        assert_eq!(
            !out.status.success(),
            theirs_breaking,
            "{name}: exit status and summary disagree:\n{text}"
        );
        table.push((
            *name,
            ours.release,
            ours.next_version.clone(),
            summary,
            (ours.release == xtask::diff::Release::Breaking) == theirs_breaking,
            text,
        ));
        let reset = Command::new("git")
            .current_dir(&copy)
            .args(["checkout", "-q", "--", "."])
            .status()
            .expect("git runs");
        assert!(reset.success(), "git checkout in the copy");
    }
    for (name, release, next, summary, agree, _) in &table {
        println!(
            "{name}: ours {release:?} ({next}); cargo-semver-checks: {summary}; agree: {agree}"
        );
    }
    // Where the two differ, and why; any other difference fails.
    let disagree: Vec<&str> = table.iter().filter(|row| !row.4).map(|row| row.0).collect();
    let explained: Vec<&str> = STRICTER_THAN_SEMVER_CHECKS
        .iter()
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(
        disagree,
        explained,
        "{}",
        table
            .iter()
            .filter(|row| !row.4)
            .map(|row| format!("{}:\n{}", row.0, row.5))
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}

/// The real edits on which the diff calls for a breaking release and cargo-semver-checks
/// does not, with the reason (it reads the public API from rustdoc, not what the code does).
const STRICTER_THAN_SEMVER_CHECKS: &[(&str, &str)] = &[
    (
        "an added required field",
        "the record gains a field on a #[non_exhaustive] struct and its builder a method, both \
         additions to rustdoc; but the builder's default for the new field is an error, so \
         code that built the record without it compiles and fails at `try_into`",
    ),
    (
        "an added required nullable field",
        "as the required field; that it may be null makes it an `Option`, not optional",
    ),
    (
        "a nullable field made required",
        "nothing changes in rustdoc; the builder's default for the field becomes an error",
    ),
    (
        "a lowered id limit",
        "a constant's value changes, which compiles; but the id types' `from_ids` refuses \
         lists it took, and the facade cuts smaller requests",
    ),
];
