//! `cargo xtask docs-check`'s reader and comparison on small made-up pages, one per format
//! (`tests/fixtures/docs/<format>/`), each beside a spec that matches it. Unlike the tests on
//! the vendors' pages (`docs.rs`), these need nothing outside the repository and run by
//! default. Each edit is made to a copy of the page in a temporary folder.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use xtask::docs::{Difference, check_spec};
use xtask::spec::{Spec, workspace_root};

const MINTLIFY: (&str, &str) = ("mintlify", "gadgets-get-many.md");
const TEXT_EXPORT: (&str, &str) = ("text-export", "parts-get-by-ids.txt");
const TABLES: (&str, &str) = ("tables", "projects-retrieve-many.md");

fn fixture_rel(format: &str) -> String {
    format!("xtask/tests/fixtures/docs/{format}")
}

/// The fixture spec of `format`.
fn spec(format: &str) -> Spec {
    Spec::load(
        &workspace_root(),
        &format!("{}/spec.yaml", fixture_rel(format)),
    )
    .unwrap()
}

/// A fresh copy of `format`'s fixture folder.
fn copy(format: &str) -> PathBuf {
    static RUN: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "xtask-docs-synthetic-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let from = workspace_root().join(fixture_rel(format));
    for entry in std::fs::read_dir(&from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    dir
}

/// The differences of `format`'s spec against its page in `dir`; the page must be read.
fn check(format: &str, dir: &Path) -> Vec<Difference> {
    let (found, pages) = check_spec(&spec(format), dir).unwrap();
    assert_eq!(pages, 1, "the {format} spec names one page");
    found
}

/// The differences with `page` edited: `from`, which must occur once, replaced by `to`.
fn check_edited((format, page): (&str, &str), from: &str, to: &str) -> Vec<Difference> {
    let dir = copy(format);
    let text = std::fs::read_to_string(dir.join(page)).unwrap();
    assert_eq!(
        text.matches(from).count(),
        1,
        "{from:?} occurs once in {page}"
    );
    std::fs::write(dir.join(page), text.replacen(from, to, 1)).unwrap();
    let found = check(format, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    found
}

/// The one difference found, which must be on `page` and read `message` exactly.
fn only(found: &[Difference], page: &str, message: &str) -> Difference {
    assert_eq!(found.len(), 1, "expected only {message:?}: {found:#?}");
    let d = found[0].clone();
    assert_eq!(d.page, page, "{d}");
    assert_eq!(d.message, message, "{d}");
    d
}

#[test]
fn each_fixture_spec_matches_its_page() {
    for (format, _) in [MINTLIFY, TEXT_EXPORT, TABLES] {
        let dir = workspace_root().join(fixture_rel(format));
        let found = check(format, &dir);
        assert!(found.is_empty(), "{format}: {found:#?}");
    }
}

/// The (1-based) line of the fixture page `page` of `format` on which `needle` starts.
fn line_of((format, page): (&str, &str), needle: &str) -> usize {
    let text =
        std::fs::read_to_string(workspace_root().join(fixture_rel(format)).join(page)).unwrap();
    let at = text.find(needle).expect("the needle is on the page");
    text[..at].matches('\n').count() + 1
}

// ---------------------------------------------------------------------------------------
// Mintlify: `<ParamField>` and `<ResponseField>` tags, `### <status>` under `## Response`,
// the "not populated" list and the `Example Response` block.

#[test]
fn mintlify_a_response_field_added_or_retyped_is_reported() {
    let (_, page) = MINTLIFY;
    let anchor = "<ResponseField name=\"Weight\" type=\"integer\">";
    let found = check_edited(
        MINTLIFY,
        anchor,
        &format!(
            "<ResponseField name=\"Colour\" type=\"string\">\n  The colour.\n</ResponseField>\n\n{anchor}"
        ),
    );
    let d = only(
        &found,
        page,
        "the page documents field `Colour` (string); the spec does not have it",
    );
    assert_eq!(
        d.spec_path,
        "xtask/tests/fixtures/docs/mintlify/spec.yaml components.schemas.Gadget.properties.Colour"
    );
    assert_eq!(d.line, line_of(MINTLIFY, anchor), "the new field's line");

    let found = check_edited(
        MINTLIFY,
        anchor,
        "<ResponseField name=\"Weight\" type=\"string\">",
    );
    let d = only(
        &found,
        page,
        "the page types `Weight` string; the spec integer",
    );
    assert_eq!(d.line, line_of(MINTLIFY, anchor));
}

#[test]
fn mintlify_a_lowered_id_limit_is_reported() {
    let found = check_edited(MINTLIFY, "A maximum of 40 IDs", "A maximum of 30 IDs");
    let d = only(
        &found,
        MINTLIFY.1,
        "the page allows at most 30 ids per request; the spec 40",
    );
    assert!(d.spec_path.ends_with("x-userbatch.limits.max-ids"), "{d}");
    assert_eq!(d.line, line_of(MINTLIFY, "  The Ids of the Gadgets"));
}

#[test]
fn mintlify_statuses_added_and_removed_are_reported() {
    let page = MINTLIFY.1;
    let found = check_edited(MINTLIFY, "### 404\n", "### 404\n\n### 409\n");
    only(
        &found,
        page,
        "the page documents status 409; the spec does not",
    );
    let found = check_edited(MINTLIFY, "### 404\n", "### Errors\n");
    let d = only(
        &found,
        page,
        "the spec documents status 404; the page does not",
    );
    assert!(
        d.spec_path
            .ends_with("paths./api/gadgets.get.responses.404"),
        "{d}"
    );
}

#[test]
fn mintlify_parameters_are_compared() {
    let page = MINTLIFY.1;
    let view = "<ParamField query=\"view\" type=\"string\" default=\"summary\">";
    let found = check_edited(
        MINTLIFY,
        view,
        &format!(
            "<ParamField query=\"sort\" type=\"string\">\n  Sort order.\n</ParamField>\n\n{view}"
        ),
    );
    only(
        &found,
        page,
        "the page documents parameter `sort` in query; the spec does not have it",
    );
    // The page drops `view`: its tag is no longer a parameter.
    let found = check_edited(MINTLIFY, view, "<Note>");
    only(
        &found,
        page,
        "the spec has parameter `view`; the page does not document it",
    );
    let found = check_edited(
        MINTLIFY,
        view,
        "<ParamField query=\"view\" type=\"string\" default=\"full\">",
    );
    let d = only(
        &found,
        page,
        "the page's default is full; the spec's summary",
    );
    assert!(
        d.spec_path.ends_with(".parameters[view].schema.default"),
        "{d}"
    );
    let found = check_edited(
        MINTLIFY,
        view,
        "<ParamField query=\"view\" type=\"string\" default=\"summary\" required>",
    );
    only(
        &found,
        page,
        "the page says required; the spec says optional",
    );
    // The ids parameter's type is the ids' type in `x-userbatch`.
    let found = check_edited(
        MINTLIFY,
        "type=\"integer[]\" required",
        "type=\"string[]\" required",
    );
    let d = only(
        &found,
        page,
        "the page types the ids as string[]; the spec's ids are integer",
    );
    assert!(d.spec_path.ends_with("x-userbatch.ids.type"), "{d}");
}

#[test]
fn mintlify_the_not_populated_list_and_the_example_are_compared() {
    let page = MINTLIFY.1;
    let found = check_edited(MINTLIFY, "`ServiceLog`.", "`ServiceLog`, `Weight`.");
    let d = only(
        &found,
        page,
        "the page lists as not populated: Weight; the spec does not",
    );
    assert!(
        d.spec_path.ends_with("x-userbatch.partial.unpopulated"),
        "{d}"
    );
    // A field dropped from the list is also a field the page no longer documents.
    let found = check_edited(MINTLIFY, "`Manual`, `ServiceLog`.", "`Manual`.");
    let messages: Vec<&str> = found.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "the spec has field `ServiceLog`; the page does not document it",
            "the spec lists as not populated: ServiceLog; the page does not",
        ],
        "{found:#?}"
    );
    let found = check_edited(MINTLIFY, "\"Weight\": 850,", "\"Weight\": null,");
    let d = only(
        &found,
        page,
        "the page's example gives `Weight` null; the spec integer (not nullable)",
    );
    assert_eq!(
        d.line,
        line_of(MINTLIFY, "[\n  {"),
        "the example's first line"
    );
    let found = check_edited(
        MINTLIFY,
        "\"OnLoan\": false,",
        "\"OnLoan\": false,\n    \"Shelf\": \"B4\",",
    );
    only(
        &found,
        page,
        "the page's example has field `Shelf`; the spec does not have it",
    );
}

// ---------------------------------------------------------------------------------------
// Text export: parameter blocks under `<place> Parameters`, `Enum:`/`Default:` lines,
// available values, statuses under `Responses`, the operation line and the sample.

#[test]
fn text_export_enum_values_added_and_removed_are_reported() {
    let page = TEXT_EXPORT.1;
    let found = check_edited(
        TEXT_EXPORT,
        "Enum: \"asc\" \"desc\"",
        "Enum: \"asc\" \"desc\" \"random\"",
    );
    let d = only(
        &found,
        page,
        "the page lists values: random; the spec does not",
    );
    assert!(
        d.spec_path.ends_with(".parameters[$order].schema.enum"),
        "{d}"
    );
    assert_eq!(
        d.line,
        line_of(TEXT_EXPORT, "$order\n"),
        "the parameter's line"
    );
    let found = check_edited(TEXT_EXPORT, "Enum: \"asc\" \"desc\"", "Enum: \"asc\"");
    only(
        &found,
        page,
        "the spec lists values: desc; the page does not",
    );
}

#[test]
fn text_export_lowered_limits_are_reported() {
    let page = TEXT_EXPORT.1;
    let found = check_edited(
        TEXT_EXPORT,
        "string <= 4000 characters",
        "string <= 2000 characters",
    );
    let d = only(
        &found,
        page,
        "the page allows at most 2000 characters; the spec 4000",
    );
    assert!(
        d.spec_path
            .ends_with("x-userbatch.limits.max-segment-chars"),
        "{d}"
    );
    let found = check_edited(TEXT_EXPORT, "A maximum of 25 IDs", "A maximum of 20 IDs");
    only(
        &found,
        page,
        "the page allows at most 20 ids per request; the spec 25",
    );
}

#[test]
fn text_export_statuses_added_and_removed_are_reported() {
    let page = TEXT_EXPORT.1;
    let found = check_edited(
        TEXT_EXPORT,
        "404\n\nNot Found\n",
        "404\n\nNot Found\n\n409\n\nConflict\n",
    );
    only(
        &found,
        page,
        "the page documents status 409; the spec does not",
    );
    let found = check_edited(TEXT_EXPORT, "404\n\nNot Found\n\n", "");
    only(
        &found,
        page,
        "the spec documents status 404; the page does not",
    );
}

#[test]
fn text_export_parameters_are_compared() {
    let page = TEXT_EXPORT.1;
    let found = check_edited(
        TEXT_EXPORT,
        "$order\nstring\n",
        "$page\ninteger\n\nThe page to return.\n\n$order\nstring\n",
    );
    only(
        &found,
        page,
        "the page documents parameter `$page` in query; the spec does not have it",
    );
    let found = check_edited(
        TEXT_EXPORT,
        "$order\nstring\n",
        "$order\nrequired\nstring\n",
    );
    only(
        &found,
        page,
        "the page says required; the spec says optional",
    );
    let found = check_edited(
        TEXT_EXPORT,
        "Default: application/json",
        "Default: text/csv",
    );
    only(
        &found,
        page,
        "the page's default is text/csv; the spec's application/json",
    );
    // An attribute that becomes available for several ids at once.
    let found = check_edited(
        TEXT_EXPORT,
        "If multiple part IDs provided: all, supplier, stock,",
        "If multiple part IDs provided: all, supplier, stock, history,",
    );
    let d = only(
        &found,
        page,
        "the page lists attributes (If multiple part IDs): history; the spec does not",
    );
    assert!(d.spec_path.ends_with("x-userbatch.attributes"), "{d}");
}

#[test]
fn text_export_the_operation_line_and_the_sample_are_compared() {
    let page = TEXT_EXPORT.1;
    let found = check_edited(TEXT_EXPORT, "get/parts/{ids}", "get/parts/{partIds}");
    only(
        &found,
        page,
        "the page documents GET /parts/{partIds}; the spec has GET /catalogue/v1/parts/{ids}",
    );
    let found = check_edited(TEXT_EXPORT, "\"weight\": 12,", "\"weight\": \"12\",");
    only(
        &found,
        page,
        "the page's example gives `weight` the value \"12\"; the spec integer",
    );
    let found = check_edited(
        TEXT_EXPORT,
        "\"discontinued\": false,",
        "\"discontinued\": false, \"colour\": \"grey\",",
    );
    let d = only(
        &found,
        page,
        "the page's example has field `colour`; the spec does not have it",
    );
    assert!(
        d.spec_path
            .ends_with("components.schemas.PartList.properties.colour"),
        "{d}"
    );
}

// ---------------------------------------------------------------------------------------
// Tables: the method and endpoint, parameters by section, request body and response
// fields, the "200 OK response" sentence and the response sample.

#[test]
fn tables_a_response_field_added_or_retyped_is_reported() {
    let page = TABLES.1;
    let row = "| budget | The budget of the project, in whole euros. | integer |";
    let found = check_edited(
        TABLES,
        row,
        "| budget | The budget of the project, in whole euros. | string |",
    );
    let d = only(
        &found,
        page,
        "the page types `budget` string; the spec integer",
    );
    assert_eq!(
        d.spec_path,
        "xtask/tests/fixtures/docs/tables/spec.yaml components.schemas.ProjectPage.properties.budget"
    );
    assert_eq!(d.line, line_of(TABLES, row), "the row's line");
    let found = check_edited(
        TABLES,
        row,
        &format!("{row}\n| owner | Who runs the project. | string |"),
    );
    only(
        &found,
        page,
        "the page documents field `owner` (string); the spec does not have it",
    );
}

#[test]
fn tables_a_lowered_id_limit_is_reported() {
    let found = check_edited(TABLES, "A maximum of 200 IDs", "A maximum of 150 IDs");
    only(
        &found,
        TABLES.1,
        "the page allows at most 150 ids per request; the spec 200",
    );
}

#[test]
fn tables_parameters_and_the_body_are_compared() {
    let page = TABLES.1;
    let found = check_edited(
        TABLES,
        "| pageSize | The number of projects in one page. | integer | No |",
        "| pageSize | The number of projects in one page. | integer | No |\n| orderBy | The field to sort by. | string | No |",
    );
    only(
        &found,
        page,
        "the page documents parameter `orderBy` in query; the spec does not have it",
    );
    let found = check_edited(
        TABLES,
        "| workspaceId | The ID of the workspace. | string | Yes |",
        "| workspaceId | The ID of the workspace. | string | No |",
    );
    only(
        &found,
        page,
        "the page says optional; the spec says required",
    );
    let found = check_edited(
        TABLES,
        "| pageIndex | The page to retrieve, from 1. | integer | No |\n",
        "",
    );
    only(
        &found,
        page,
        "the spec has parameter `pageIndex`; the page does not document it",
    );
    let found = check_edited(
        TABLES,
        "| projectIds | The IDs of the projects. | string[] | No |",
        "| projectIds | The IDs of the projects. | integer[] | No |",
    );
    let d = only(
        &found,
        page,
        "the page types `projectIds` integer[]; the spec array<string>",
    );
    assert!(d.spec_path.ends_with(".requestBody.projectIds"), "{d}");
}

#[test]
fn tables_the_endpoint_status_and_sample_are_compared() {
    let page = TABLES.1;
    let found = check_edited(TABLES, "|POST|", "|PUT|");
    only(
        &found,
        page,
        "the page documents PUT /api/v2/workspaces/{workspaceId}/projects/batch; \
         the spec has POST /api/v2/workspaces/{workspaceId}/projects/batch",
    );
    let found = check_edited(TABLES, "a 200 OK response", "a 202 OK response");
    let messages: Vec<&str> = found.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "the page documents status 202; the spec does not",
            "the spec documents status 200; the page does not",
        ],
        "{found:#?}"
    );
    let found = check_edited(TABLES, "\"archived\": false,", "\"archived\": \"no\",");
    only(
        &found,
        page,
        "the page's example gives `archived` the value \"no\"; the spec boolean",
    );
}

#[test]
fn a_page_that_cannot_be_read_is_one_finding_and_the_check_goes_on() {
    for (format, page) in [MINTLIFY, TEXT_EXPORT, TABLES] {
        let dir = copy(format);
        std::fs::remove_file(dir.join(page)).unwrap();
        let (found, pages) = check_spec(&spec(format), &dir).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(pages, 0, "{format}");
        assert_eq!(found.len(), 1, "{format}: {found:#?}");
        assert_eq!(found[0].page, page);
        assert!(
            found[0]
                .message
                .starts_with("the page cannot be read from "),
            "{}",
            found[0]
        );
        assert!(found[0].spec_path.ends_with(".x-docs-page"), "{}", found[0]);
    }
}
