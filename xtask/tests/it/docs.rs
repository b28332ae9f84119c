//! `cargo xtask docs-check` against the vendors' pages, and against copies of them changed
//! the way vendors change their docs. The pages are not part of this repository, so these
//! tests are ignored by default: run them with `--ignored` and `USERBATCH_VENDOR_DOCS`
//! naming a folder of the pages (`.ci/run` does when it finds one).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use xtask::docs::{Difference, check_spec};
use xtask::spec::{Spec, workspace_root};

/// The folder of the vendors' pages; a test run without one fails (it was asked for).
fn docs() -> PathBuf {
    let dir = std::env::var_os("USERBATCH_VENDOR_DOCS")
        .map(PathBuf::from)
        .expect("USERBATCH_VENDOR_DOCS names a folder of the vendors' doc pages");
    assert!(
        dir.is_dir(),
        "USERBATCH_VENDOR_DOCS={} is not a folder",
        dir.display()
    );
    dir
}

fn spec(vendor: &str) -> Spec {
    Spec::load(&workspace_root(), &format!("specs/{vendor}.yaml")).unwrap()
}

/// The differences of `vendor`'s spec against the pages, with `page` edited (`from`, which
/// must occur once, replaced by `to`).
fn check_edited(docs: &PathBuf, vendor: &str, page: &str, from: &str, to: &str) -> Vec<Difference> {
    static RUN: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "xtask-docs-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(docs).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    let text = std::fs::read_to_string(dir.join(page)).unwrap();
    assert_eq!(
        text.matches(from).count(),
        1,
        "{from:?} occurs once in {page}"
    );
    std::fs::write(dir.join(page), text.replacen(from, to, 1)).unwrap();
    let (found, pages) = check_spec(&spec(vendor), &dir).unwrap();
    assert!(pages > 0);
    let _ = std::fs::remove_dir_all(&dir);
    found
}

/// The one difference found, which must be on `line` of `page` and mention `needle`.
fn only(found: &[Difference], page: &str, needle: &str) -> Difference {
    assert_eq!(
        found.len(),
        1,
        "expected one difference like {needle:?}: {found:#?}"
    );
    let d = found[0].clone();
    assert_eq!(d.page, page);
    assert!(d.to_string().contains(needle), "{d}");
    d
}

#[test]
#[ignore = "needs USERBATCH_VENDOR_DOCS, a folder of the vendors' pages"]
fn todays_specs_match_todays_pages() {
    let docs = docs();
    for vendor in ["nexudus", "usermgr", "avepoint"] {
        let (found, pages) = check_spec(&spec(vendor), &docs).unwrap();
        assert!(pages >= 1, "{vendor} names its pages");
        assert!(found.is_empty(), "{vendor}: {found:#?}");
    }
}

#[test]
#[ignore = "needs USERBATCH_VENDOR_DOCS, a folder of the vendors' pages"]
fn a_field_added_to_a_page_is_reported() {
    let docs = docs();
    let found = check_edited(
        &docs,
        "nexudus",
        "nexudus-get-one-user.md",
        "<ResponseField name=\"SystemId\" type=\"string\">",
        "<ResponseField name=\"BadgeColour\" type=\"string\">\n  The badge colour.\n</ResponseField>\n\n<ResponseField name=\"SystemId\" type=\"string\">",
    );
    let d = only(
        &found,
        "nexudus-get-one-user.md",
        "the page documents field `BadgeColour` (string); the spec does not have it",
    );
    assert!(
        d.spec_path
            .ends_with("components.schemas.User.properties.BadgeColour"),
        "{d}"
    );
    assert_eq!(d.line, 316, "the line of the new field");
}

#[test]
#[ignore = "needs USERBATCH_VENDOR_DOCS, a folder of the vendors' pages"]
fn a_changed_type_is_reported() {
    let docs = docs();
    let found = check_edited(
        &docs,
        "nexudus",
        "nexudus-get-one-user.md",
        "<ResponseField name=\"InvalidLoginAttempts\" type=\"integer\">",
        "<ResponseField name=\"InvalidLoginAttempts\" type=\"string\">",
    );
    only(
        &found,
        "nexudus-get-one-user.md",
        "the page types `InvalidLoginAttempts` string; the spec integer",
    );
    // A table's type, too (AvePoint).
    let found = check_edited(
        &docs,
        "avepoint",
        "avepoint-retrieve-multiple-users.md",
        "| age | The password age of the user. | integer |",
        "| age | The password age of the user. | string |",
    );
    only(
        &found,
        "avepoint-retrieve-multiple-users.md",
        "the page types `age` string; the spec integer",
    );
}

#[test]
#[ignore = "needs USERBATCH_VENDOR_DOCS, a folder of the vendors' pages"]
fn a_lowered_limit_is_reported() {
    let docs = docs();
    let found = check_edited(
        &docs,
        "usermgr",
        "usermgr-get-users-by-ids.txt",
        "A maximum of 75 IDs",
        "A maximum of 50 IDs",
    );
    let d = only(
        &found,
        "usermgr-get-users-by-ids.txt",
        "the page allows at most 50 ids per request; the spec 75",
    );
    assert!(d.spec_path.ends_with("x-userbatch.limits.max-ids"), "{d}");
    let found = check_edited(
        &docs,
        "usermgr",
        "usermgr-get-users-by-ids.txt",
        "string <= 20000 characters",
        "string <= 8000 characters",
    );
    only(
        &found,
        "usermgr-get-users-by-ids.txt",
        "the page allows at most 8000 characters; the spec 20000",
    );
}

#[test]
#[ignore = "needs USERBATCH_VENDOR_DOCS, a folder of the vendors' pages"]
fn a_field_added_to_the_not_populated_list_is_reported() {
    let docs = docs();
    let found = check_edited(
        &docs,
        "nexudus",
        "nexudus-get-multiple-users.md",
        "`OnIdentityCheckUpdate`.",
        "`OnIdentityCheckUpdate`, `Email`.",
    );
    let d = only(
        &found,
        "nexudus-get-multiple-users.md",
        "the page lists as not populated: Email; the spec does not",
    );
    assert!(
        d.spec_path.ends_with("x-userbatch.partial.unpopulated"),
        "{d}"
    );
    // The text export of the coworkers page too.
    let found = check_edited(
        &docs,
        "nexudus",
        "nexudus-get-multiple-coworkers.txt",
        "InvoiceDueDateDay.To get all fields",
        "InvoiceDueDateDay, Teams.To get all fields",
    );
    only(
        &found,
        "nexudus-get-multiple-coworkers.txt",
        "the page lists as not populated: Teams; the spec does not",
    );
}

#[test]
#[ignore = "needs USERBATCH_VENDOR_DOCS, a folder of the vendors' pages"]
fn enum_values_statuses_parameters_and_examples_are_compared() {
    let docs = docs();
    let page = "usermgr-get-users-by-ids.txt";
    let found = check_edited(
        &docs,
        "usermgr",
        page,
        "\"ko-KR\" \"sv-SE\"",
        "\"ko-KR\" \"sv-SE\" \"pl-PL\"",
    );
    only(
        &found,
        page,
        "the page lists values: pl-PL; the spec does not",
    );
    let found = check_edited(
        &docs,
        "usermgr",
        page,
        "406\n\nNot Acceptable",
        "406\n\nNot Acceptable\n\n409\n\nConflict",
    );
    only(
        &found,
        page,
        "the page documents status 409; the spec does not",
    );
    let found = check_edited(
        &docs,
        "usermgr",
        page,
        "$order\nstring",
        "$order\nrequired\nstring",
    );
    only(
        &found,
        page,
        "the page says required; the spec says optional",
    );
    // An attribute that became available for several ids at once.
    let found = check_edited(
        &docs,
        "usermgr",
        page,
        "mobileNumber, externalId, custom.<name>\nExamples:",
        "mobileNumber, groups, externalId, custom.<name>\nExamples:",
    );
    only(
        &found,
        page,
        "the page lists attributes (If multiple user IDs): groups; the spec does not",
    );
    // An example value the spec's type does not allow (null where it is not nullable).
    let found = check_edited(
        &docs,
        "nexudus",
        "nexudus-get-multiple-coworkers.txt",
        "\"CheckinSinceLastRenewal\": 0,",
        "\"CheckinSinceLastRenewal\": null,",
    );
    only(
        &found,
        "nexudus-get-multiple-coworkers.txt",
        "the page's example gives `CheckinSinceLastRenewal` null; the spec integer (not nullable)",
    );
    // A parameter the spec lacks, from a table.
    let found = check_edited(
        &docs,
        "avepoint",
        "avepoint-retrieve-multiple-users.md",
        "| pageSize | The number of users that will be retrieved in one time.",
        "| orderBy | The field to sort by. | string | No |\n| pageSize | The number of users that will be retrieved in one time.",
    );
    only(
        &found,
        "avepoint-retrieve-multiple-users.md",
        "the page documents parameter `orderBy` in query; the spec does not have it",
    );
    // The method and path, from a table and from a text export's operation line.
    let found = check_edited(
        &docs,
        "avepoint",
        "avepoint-retrieve-multiple-users.md",
        "|POST|`/partner",
        "|PUT|`/partner",
    );
    only(
        &found,
        "avepoint-retrieve-multiple-users.md",
        "the page documents PUT /partner/external/v3/um/customers/{customerId}/tenants/{tenantId}/users/batch; the spec has POST",
    );
    let found = check_edited(
        &docs,
        "usermgr",
        page,
        "get/users/{ids}",
        "get/users/{userIds}",
    );
    only(&found, page, "the page documents GET /users/{userIds}");
    // A request body field, from a table.
    let found = check_edited(
        &docs,
        "avepoint",
        "avepoint-retrieve-multiple-users.md",
        "| userIds | The unique identifiers of users. | string[] | No |",
        "| userIds | The unique identifiers of users. | integer[] | No |",
    );
    only(
        &found,
        "avepoint-retrieve-multiple-users.md",
        "the page types `userIds` integer[]; the spec array<string>",
    );
}

#[test]
#[ignore = "needs USERBATCH_VENDOR_DOCS, a folder of the vendors' pages"]
fn a_missing_page_is_one_finding_and_the_other_pages_are_checked() {
    let docs = docs();
    let spec = spec("nexudus");
    let (_, all) = check_spec(&spec, &docs).unwrap();
    let dir = std::env::temp_dir().join(format!("xtask-docs-missing-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let gone = spec
        .operations()
        .iter()
        .find_map(|(_, _, op)| op.get("x-docs-page").and_then(|p| p.as_str()))
        .expect("the spec names its pages")
        .to_owned();
    for entry in std::fs::read_dir(&docs).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name().to_str() != Some(gone.as_str()) {
            std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
        }
    }
    let (found, pages) = check_spec(&spec, &dir).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(all > 1, "the spec names several pages");
    let once = spec
        .operations()
        .iter()
        .filter(|(_, _, op)| op.get("x-docs-page").and_then(|p| p.as_str()) == Some(&gone))
        .count();
    assert_eq!(pages, all - once);
    let d = only(&found, &gone, "the page cannot be read");
    assert_eq!(d.line, 0);
}
