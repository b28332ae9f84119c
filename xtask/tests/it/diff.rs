//! `cargo xtask diff` on real edits of the real specs.

use crate::commit_all;
use xtask::diff::{Area, Change, Impact, Release, diff_specs};
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

/// A spec's text edited.
type SpecEdit = fn(&str) -> String;

/// The real edits these tests make, each of one vendor's spec: the diff's verdict on each
/// is checked against cargo-semver-checks (`semver_checks_agree`).
pub(crate) const REAL_EDITS: &[(&str, &str, SpecEdit)] = &[
    ("a removed field", "nexudus", |s| edit(s, TWO_FACTOR, "")),
    ("an added nullable field", "nexudus", |s| {
        edit(
            s,
            TWO_FACTOR,
            &format!(
                "{TWO_FACTOR}        BadgeColour:\n          type: string\n          nullable: true\n"
            ),
        )
    }),
    ("an added required field", "nexudus", |s| {
        edit(
            &edit(
                s,
                TWO_FACTOR,
                &format!("{TWO_FACTOR}        BadgeColour:\n          type: string\n"),
            ),
            "      required: [Id]\n      properties:\n        FullName:",
            "      required: [Id, BadgeColour]\n      properties:\n        FullName:",
        )
    }),
    ("an added required nullable field", "nexudus", |s| {
        edit(
            &edit(
                s,
                TWO_FACTOR,
                &format!(
                    "{TWO_FACTOR}        BadgeColour:\n          type: string\n          nullable: true\n"
                ),
            ),
            "      required: [Id]\n      properties:\n        FullName:",
            "      required: [Id, BadgeColour]\n      properties:\n        FullName:",
        )
    }),
    ("a nullable field made required", "nexudus", |s| {
        edit(
            s,
            "      required: [Id]\n      properties:\n        FullName:",
            "      required: [Id, PreferredLanguageId]\n      properties:\n        FullName:",
        )
    }),
    ("a lowered id limit", "usermgr", |s| {
        edit(s, "max-ids: 75,", "max-ids: 50,")
    }),
    ("an added enum value", "usermgr", |s| {
        edit(s, "ko-KR, sv-SE]", "ko-KR, sv-SE, pl-PL]")
    }),
    ("a field added to the unpopulated list", "nexudus", |s| {
        edit(
            s,
            "          - OnIdentityCheckUpdate\n  /api/sys/users:",
            "          - OnIdentityCheckUpdate\n          - Email\n  /api/sys/users:",
        )
    }),
];

/// The vendor's spec before and after the real edit called `name`.
fn real_edit(name: &str) -> (String, String) {
    let (_, vendor, edit) = REAL_EDITS
        .iter()
        .find(|(n, _, _)| *n == name)
        .expect("a real edit");
    let old = spec(vendor);
    let new = edit(&old);
    (old, new)
}

fn find<'a>(changes: &'a [Change], area: Area, at: &str) -> &'a Change {
    changes
        .iter()
        .find(|c| c.area == area && c.at == at)
        .unwrap_or_else(|| panic!("no {area:?} change at {at}: {changes:#?}"))
}

#[test]
fn a_removed_field_breaks_the_wire_and_the_struct() {
    let (old, new) = real_edit("a removed field");
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
fn an_added_nullable_field_is_a_compatible_release() {
    let (old, new) = real_edit("an added nullable field");
    let changes = diff_specs("specs/nexudus.yaml", &old, &new).unwrap();
    let wire = find(&changes, Area::Wire, "User.BadgeColour");
    assert_eq!(wire.impact, Impact::Addition);
    assert!(wire.what.contains("older clients ignore it"), "{wire:?}");
    // The record types are #[non_exhaustive] and built with builders: a new field and a
    // new builder method, nothing a caller wrote breaks.
    let api = find(&changes, Area::RustApi, "types::User::badge_colour");
    assert_eq!(api.impact, Impact::Addition, "{api:?}");
    assert!(
        api.what.starts_with("field added (`Option<String>`)"),
        "{api:?}"
    );
    let setter = find(
        &changes,
        Area::RustApi,
        "types::builder::User::badge_colour",
    );
    assert_eq!(setter.impact, Impact::Addition, "{setter:?}");
    // Nothing else moved.
    assert!(
        changes.iter().all(|c| c.at.contains("adge")),
        "{changes:#?}"
    );
    let report = xtask::diff::vendor_changes("nexudus", changes, "0.1.0");
    assert!(!report.is_breaking());
    assert_eq!(report.next_version, "0.1.1");
    assert_eq!(report.release, Release::Compatible);
    let md = xtask::diff::markdown(&[report], "HEAD");
    assert!(
        md.contains("Crate `userbatch-nexudus`: 0.1.0 → **0.1.1**")
            && md.contains("a **compatible** release"),
        "{md}"
    );
}

#[test]
fn an_added_required_field_stays_breaking() {
    let (old, new) = real_edit("an added required field");
    let changes = diff_specs("specs/nexudus.yaml", &old, &new).unwrap();
    let api = find(&changes, Area::RustApi, "types::User::badge_colour");
    assert_eq!(api.impact, Impact::Breaking, "{api:?}");
    assert!(api.what.contains("its builder at `try_into`"), "{api:?}");
    let report = xtask::diff::vendor_changes("nexudus", changes, "0.1.0");
    assert_eq!(report.next_version, "0.2.0");
    assert_eq!(report.release, Release::Breaking);
}

#[test]
fn a_required_field_that_may_be_null_is_required_too() {
    // An `Option` in Rust, but its builder fails without it: breaking, added or made so.
    for edit in [
        "an added required nullable field",
        "a nullable field made required",
    ] {
        let (old, new) = real_edit(edit);
        let changes = diff_specs("specs/nexudus.yaml", &old, &new).unwrap();
        let report = xtask::diff::vendor_changes("nexudus", changes, "0.1.0");
        assert_eq!(
            report.release,
            Release::Breaking,
            "{edit}: {:#?}",
            report.changes
        );
        assert!(
            report
                .changes
                .iter()
                .any(|c| c.area == Area::RustApi && c.what.contains("`try_into`")),
            "{edit}: {:#?}",
            report.changes
        );
    }
}

#[test]
fn a_lowered_id_limit_is_a_rule_change() {
    let (old, new) = real_edit("a lowered id limit");
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
    // A tighter rule is a breaking release of the crate, though it compiles.
    let report = xtask::diff::vendor_changes("usermgr", changes.clone(), "0.1.0");
    assert_eq!(
        (report.release, &*report.next_version),
        (Release::Breaking, "0.2.0")
    );
    // Raising it back is compatible.
    let back = diff_specs("specs/usermgr.yaml", &new, &old).unwrap();
    assert_eq!(
        find(&back, Area::Rules, "getUsersByIds.limits.max-ids").impact,
        Impact::Compatible
    );
}

#[test]
fn an_added_enum_value_is_reported_on_the_wire_and_as_a_variant() {
    let (old, new) = real_edit("an added enum value");
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
    let (old, new) = real_edit("a field added to the unpopulated list");
    let changes = diff_specs("specs/nexudus.yaml", &old, &new).unwrap();
    let rule = find(&changes, Area::Rules, "getUsers.partial.unpopulated");
    assert_eq!(rule.impact, Impact::Breaking);
    assert!(rule.what.contains("added \"Email\""), "{rule:?}");
    find(&changes, Area::RustApi, "types::UserSummary::email");
}

#[test]
fn the_command_compares_a_revision_with_the_working_tree_and_can_fail_on_breaking() {
    let dir = std::env::temp_dir().join(format!("xtask-diff-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("specs")).unwrap();
    // The Nexudus crate as released at 0.3.1 (its manifest's version is what users have).
    std::fs::create_dir_all(dir.join("crates/nexudus")).unwrap();
    std::fs::write(
        dir.join("crates/nexudus/Cargo.toml"),
        "[package]\nname = \"userbatch-nexudus\"\nversion = \"0.3.1+2025-01\"\n",
    )
    .unwrap();
    for name in ["nexudus", "usermgr", "avepoint"] {
        std::fs::write(dir.join(format!("specs/{name}.yaml")), spec(name)).unwrap();
    }
    commit_all(&dir);
    // No change: fine even with --fail-on breaking.
    xtask::diff::run(&dir, "HEAD", false, true, false).unwrap();
    // A breaking change fails it; without the flag it only reports.
    std::fs::write(
        dir.join("specs/nexudus.yaml"),
        edit(&spec("nexudus"), TWO_FACTOR, ""),
    )
    .unwrap();
    xtask::diff::run(&dir, "HEAD", false, false, false).unwrap();
    let all = xtask::diff::changes(&dir, "HEAD").unwrap();
    let nexudus = all.iter().find(|v| v.vendor == "nexudus").unwrap();
    assert_eq!(
        (&*nexudus.version, &*nexudus.next_version),
        ("0.3.1", "0.4.0")
    );
    let usermgr = all.iter().find(|v| v.vendor == "usermgr").unwrap();
    assert_eq!(
        (&*usermgr.version, &*usermgr.next_version, usermgr.release),
        ("0.1.0", "0.1.0", Release::None),
        "no manifest at the base, no change: 0.1.0 stays"
    );
    // --fail-on breaking with --bump fails before it writes anything.
    let error = xtask::diff::run(&dir, "HEAD", false, true, true).unwrap_err();
    assert!(error.to_string().contains("no version bumped"), "{error}");
    assert!(
        std::fs::read_to_string(dir.join("crates/nexudus/Cargo.toml"))
            .unwrap()
            .contains("0.3.1+")
    );
    let error = xtask::diff::run(&dir, "HEAD", true, true, false).unwrap_err();
    assert!(error.to_string().contains("breaking"), "{error}");
    assert!(xtask::diff::run(&dir, "no-such-rev", false, false, false).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
