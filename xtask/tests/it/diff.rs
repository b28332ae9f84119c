//! `cargo xtask diff` on real edits of the real specs.

use std::path::Path;
use std::process::Command;

use xtask::diff::{Area, Change, Impact, diff_specs};
use xtask::spec::workspace_root;

fn spec(name: &str) -> String {
    std::fs::read_to_string(workspace_root().join(format!("specs/{name}.yaml"))).unwrap()
}

/// `text` with `from` replaced by `to`, which must occur exactly once.
fn edit(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} occurs once");
    text.replacen(from, to, 1)
}

const TWO_FACTOR: &str = "        TwoFactorEnabled:
          type: boolean
          description: \"Whether two factor enabled is enabled.\"
";

fn find<'a>(changes: &'a [Change], area: Area, at: &str) -> &'a Change {
    changes
        .iter()
        .find(|c| c.area == area && c.at == at)
        .unwrap_or_else(|| panic!("no {area:?} change at {at}: {changes:#?}"))
}

#[test]
fn a_removed_field_breaks_the_wire_and_the_struct() {
    let old = spec("nexudus");
    let new = edit(&old, TWO_FACTOR, "");
    let changes = diff_specs("specs/nexudus.yaml", &old, &new).unwrap();
    let wire = find(&changes, Area::Wire, "User.TwoFactorEnabled");
    assert_eq!(wire.impact, Impact::Breaking);
    assert!(
        wire.what.starts_with("field removed (was boolean)"),
        "{wire:?}"
    );
    assert!(wire.what.contains("getUser") && wire.what.contains("updateUser"));
    let api = find(&changes, Area::RustApi, "types::User::two_factor_enabled");
    assert_eq!(api.impact, Impact::Breaking);
    assert_eq!(api.what, "field removed (was `Option<bool>`)");
    // The summary type generated from the partial list loses it too.
    find(
        &changes,
        Area::RustApi,
        "types::UserSummary::two_factor_enabled",
    );
    let report = xtask::diff::vendor_changes("nexudus", changes, "0.1.0");
    assert!(report.is_breaking());
    assert_eq!(report.next_version, "0.2.0");
}

#[test]
fn an_added_field_is_an_addition_on_the_wire_and_says_what_struct_literals_need() {
    let old = spec("nexudus");
    let new = edit(
        &old,
        TWO_FACTOR,
        &format!(
            "{TWO_FACTOR}        BadgeColour:\n          type: string\n          nullable: true\n"
        ),
    );
    let changes = diff_specs("specs/nexudus.yaml", &old, &new).unwrap();
    let wire = find(&changes, Area::Wire, "User.BadgeColour");
    assert_eq!(wire.impact, Impact::Addition);
    assert!(wire.what.contains("older clients ignore it"), "{wire:?}");
    let api = find(&changes, Area::RustApi, "types::User::badge_colour");
    assert!(
        api.what
            .contains("code that builds `types::User` with a struct literal must set it")
            && api.what.contains("`badge_colour: None`")
            && api.what.contains("code that only reads it is unaffected"),
        "{api:?}"
    );
    // Nothing else moved.
    assert!(
        changes.iter().all(|c| c.at.contains("adge")),
        "{changes:#?}"
    );
}

#[test]
fn a_lowered_id_limit_is_a_rule_change() {
    let old = spec("usermgr");
    let new = edit(&old, "max-ids: 75,", "max-ids: 50,");
    let changes = diff_specs("specs/usermgr.yaml", &old, &new).unwrap();
    let rule = find(&changes, Area::Rules, "getUsersByIds.limits.max-ids");
    assert_eq!(rule.impact, Impact::Breaking);
    assert!(
        rule.what.starts_with("limit lowered from 75 to 50"),
        "{rule:?}"
    );
    // The generated constant carries it.
    let constant = find(&changes, Area::RustApi, "rules::GET_USERS_BY_IDS");
    assert!(constant.what.contains("50usize"), "{constant:?}");
    // Raising it back is compatible.
    let back = diff_specs("specs/usermgr.yaml", &new, &old).unwrap();
    assert_eq!(
        find(&back, Area::Rules, "getUsersByIds.limits.max-ids").impact,
        Impact::Compatible
    );
}

#[test]
fn an_added_enum_value_is_reported_on_the_wire_and_as_a_variant() {
    let old = spec("usermgr");
    let new = edit(&old, "ko-KR, sv-SE]", "ko-KR, sv-SE, pl-PL]");
    let changes = diff_specs("specs/usermgr.yaml", &old, &new).unwrap();
    let wire = find(
        &changes,
        Area::Wire,
        "getUsersByIds parameter header Accept-Language",
    );
    assert_eq!(wire.what, "enum values added: \"pl-PL\"");
    assert_eq!(wire.impact, Impact::Addition, "callers send it");
    let variant = find(
        &changes,
        Area::RustApi,
        "types::GetUsersByIdsAcceptLanguage::PlPl",
    );
    assert_eq!(variant.impact, Impact::Breaking, "exhaustive matches break");
}

#[test]
fn a_field_added_to_the_unpopulated_list_is_a_breaking_rule_change() {
    let old = spec("nexudus");
    let new = edit(
        &old,
        "          - OnIdentityCheckUpdate\n  /api/sys/users:",
        "          - OnIdentityCheckUpdate\n          - Email\n  /api/sys/users:",
    );
    let changes = diff_specs("specs/nexudus.yaml", &old, &new).unwrap();
    let rule = find(&changes, Area::Rules, "getUsers.partial.unpopulated");
    assert_eq!(rule.impact, Impact::Breaking);
    assert!(rule.what.contains("added \"Email\""), "{rule:?}");
    find(&changes, Area::RustApi, "types::UserSummary::email");
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .current_dir(dir)
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

#[test]
fn the_command_compares_a_revision_with_the_working_tree_and_can_fail_on_breaking() {
    let dir = std::env::temp_dir().join(format!("xtask-diff-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("specs")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[workspace.package]\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    for name in ["nexudus", "usermgr", "avepoint"] {
        std::fs::write(dir.join(format!("specs/{name}.yaml")), spec(name)).unwrap();
    }
    git(&dir, &["init", "-q"]);
    git(&dir, &["add", "."]);
    git(
        &dir,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "commit",
            "-qm",
            "specs",
        ],
    );
    // No change: fine even with --fail-on breaking.
    xtask::diff::run(&dir, "HEAD", false, true).unwrap();
    // A breaking change fails it; without the flag it only reports.
    std::fs::write(
        dir.join("specs/nexudus.yaml"),
        edit(&spec("nexudus"), TWO_FACTOR, ""),
    )
    .unwrap();
    xtask::diff::run(&dir, "HEAD", false, false).unwrap();
    let error = xtask::diff::run(&dir, "HEAD", true, true).unwrap_err();
    assert!(error.to_string().contains("breaking"), "{error}");
    assert!(xtask::diff::run(&dir, "no-such-rev", false, false).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
