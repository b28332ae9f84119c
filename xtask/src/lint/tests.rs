//! `lint_spec` on a small clean spec broken one way per test, and on the real specs.

use super::lint_spec;
use crate::spec::{Spec, vendors};

/// A small, clean spec; each test breaks one thing and expects lint to say so.
const BASE: &str = r##"
openapi: 3.0.3
info: { title: T, version: "1" }
servers: [{ url: "https://{host}", variables: { host: { default: example.com } } }]
x-userbatch: { throttle-statuses: [429] }
paths:
  /things/{id}:
    get:
      operationId: getThing
      parameters:
        - { name: id, in: path, required: true, schema: { type: integer, format: int64 } }
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Thing" }
              example: { Id: 1, Name: a }
        "404":
          description: missing
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Message" }
      x-userbatch:
        resource: things
        ids: { in: path, name: id, encoding: single, type: integer }
        records: { pointer: "", many: false, id-field: Id }
        unknown-ids: { fails-request: 404 }
  /things/:
    get:
      operationId: getThings
      parameters:
        - name: id
          in: query
          required: true
          schema: { type: string, pattern: '^\[[0-9]+(,[0-9]+)*\]$' }
          example: "[1,2]"
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: { $ref: "#/components/schemas/ThingList" }
      x-userbatch:
        resource: things
        ids: { in: query, name: id, encoding: bracketed-csv, type: integer }
        limits: { max-query-bytes: 2048 }
        records: { pointer: "", many: true, id-field: Id }
        unknown-ids: omitted
        partial: { of: Thing, full-operation: getThing, unpopulated: [Secret] }
components:
  schemas:
    Message: { type: string }
    ThingList: { type: array, items: { $ref: "#/components/schemas/Thing" } }
    Thing:
      type: object
      required: [Id]
      properties:
        Id: { type: integer, format: int64 }
        Name: { type: string, nullable: true }
        Secret: { type: string, format: password }
"##;

fn lint_text(text: &str) -> Vec<String> {
    lint_spec(&Spec::parse("test.yaml", text).unwrap())
}

fn assert_finds(text: &str, needle: &str) {
    let found = lint_text(text);
    assert!(
        found.iter().any(|p| p.contains(needle)),
        "expected a problem containing {needle:?}, got {found:#?}"
    );
}

#[test]
fn base_spec_is_clean() {
    assert_eq!(lint_text(BASE), Vec::<String>::new());
}

#[test]
fn the_real_specs_are_clean() {
    let root = crate::spec::workspace_root();
    for v in vendors(&root).unwrap() {
        let spec = Spec::load(&root, &v.spec_rel()).unwrap();
        assert_eq!(lint_spec(&spec), Vec::<String>::new(), "{}", spec.rel);
    }
}

#[test]
fn resources_links_and_skipped_parameters_are_checked() {
    let single = "        resource: things\n        ids: { in: path";
    let list = "        resource: things\n        ids: { in: query";
    assert!(BASE.contains(single) && BASE.contains(list));
    assert_finds(
        &BASE.replace(single, "        resource: Things\n        ids: { in: path"),
        "`Things` must be lowercase ASCII letters",
    );
    assert_finds(
        &BASE.replace(
            single,
            "        resource: things\n        update-operation: putThing\n        ids: { in: path",
        ),
        "update-operation: no operation `putThing`",
    );
    // A list of summaries cannot be sent back.
    assert_finds(
        &BASE.replace(
            list,
            "        resource: things\n        update-operation: getThing\n        ids: { in: query",
        ),
        "must take as its JSON body the record",
    );
    assert_finds(
        &BASE.replace(
            list,
            "        resource: things\n        skip-parameters: [{ name: nope, why: x }]\n        ids: { in: query",
        ),
        "skip-parameters: no parameter `nope`",
    );
    assert_finds(
        &BASE.replace(
            list,
            "        resource: things\n        skip-parameters: [{ name: id, why: x }]\n        ids: { in: query",
        ),
        "skip-parameters: `id` carries the ids",
    );
}

#[test]
fn missing_operation_id() {
    assert_finds(
        &BASE.replace("      operationId: getThings\n", ""),
        "no operationId",
    );
}

/// `getThing` without its `x-userbatch`: an operation progenitor decodes itself.
fn not_batch(text: &str) -> String {
    let ext = "      x-userbatch:\n        resource: things\n        ids: { in: path, name: id, encoding: single, type: integer }\n        records: { pointer: \"\", many: false, id-field: Id }\n        unknown-ids: { fails-request: 404 }\n";
    assert!(text.contains(ext));
    text.replace(ext, "")
}

#[test]
fn inline_response_schema() {
    let text = BASE.replace(
        r##"schema: { $ref: "#/components/schemas/Message" }"##,
        "schema: { type: string }",
    );
    assert_finds(&not_batch(&text), "inline schema");
    // A batch operation's answers reach progenitor as bytes: its schemas may be inline,
    // but for its documented not-found answer, which the engine checks by decoding the
    // body into the type generated from the `$ref`.
    assert_eq!(
        lint_text(&text),
        [
            "getThing x-userbatch.unknown-ids: the 404 response's body schema must be a \
          $ref to components.schemas"
        ]
    );
}

#[test]
fn a_not_found_status_needs_its_documented_answer() {
    let ext = "unknown-ids: { fails-request: 404 }";
    assert!(BASE.contains(ext));
    for (status, problem) in [("410", "no 410 response is documented"), ("404", "")] {
        let text = BASE.replace(ext, &format!("unknown-ids: {{ fails-request: {status} }}"));
        let found = lint_text(&text);
        if problem.is_empty() {
            assert!(found.is_empty(), "{found:?}");
        } else {
            assert!(found.iter().any(|p| p.contains(problem)), "{found:?}");
        }
    }
}

#[test]
fn error_responses_that_differ() {
    let text = BASE.replace(
        "        \"404\":\n          description: missing\n",
        "        \"400\":\n          description: bad\n        \"404\":\n          description: missing\n",
    );
    assert_finds(&not_batch(&text), "error responses differ");
    assert!(lint_text(&text).is_empty(), "{:?}", lint_text(&text));
}

#[test]
fn range_beside_specific_status() {
    let text = BASE.replace(
        "        \"404\":\n          description: missing\n          content:\n            application/json:\n              schema: { $ref: \"#/components/schemas/Message\" }\n",
        "        \"404\":\n          description: missing\n        4XX:\n          description: client\n",
    );
    assert_finds(&text, "unreachable match arm");
}

#[test]
fn unpopulated_field_not_in_full_schema() {
    assert_finds(
        &BASE.replace("unpopulated: [Secret]", "unpopulated: [Secret, Nope]"),
        "`Nope` is not a property of Thing",
    );
}

#[test]
fn unpopulated_field_that_is_required() {
    assert_finds(
        &BASE.replace("unpopulated: [Secret]", "unpopulated: [Id]"),
        "is required in Thing",
    );
}

#[test]
fn malformed_extension() {
    assert_finds(
        &BASE.replace("unknown-ids: omitted", "unknown-ids: omited"),
        "malformed",
    );
    assert_finds(
        &BASE.replace("max-query-bytes: 2048", "max-query-byte: 2048"),
        "malformed",
    );
    assert_finds(
        &BASE.replace(
            "x-userbatch: { throttle-statuses: [429] }",
            "x-userbatch: { throttle-statuses: [200] }",
        ),
        "not an error status",
    );
}

#[test]
fn mock_quirks_are_checked() {
    let root = "x-userbatch: { throttle-statuses: [429] }";
    let with = |quirks: &str| BASE.replace(root, &format!("{root}\nx-userbatch-mock: {quirks}"));
    assert!(lint_text(&with("{ html-statuses: [414], vendor-order: true }")).is_empty());
    assert_finds(
        &with("{ html-status: [414] }"),
        "unknown field `html-status`",
    );
    assert_finds(
        &with("{ html-statuses: [200] }"),
        "200 is not an error status",
    );
    assert_finds(
        &with("{ accepted-values: { $sort: [id] } }"),
        "accepted-values: read only on an operation",
    );
    assert_finds(
        &with("{ html-statuses: [429] }"),
        "429 is a throttling status",
    );
}

#[test]
fn extension_pointing_at_nothing() {
    assert_finds(
        &BASE.replace(
            "ids: { in: query, name: id,",
            "ids: { in: query, name: ids,",
        ),
        "no query parameter `ids`",
    );
    assert_finds(
        &BASE.replace("many: true, id-field: Id", "many: true, id-field: Name"),
        "id-field `Name`",
    );
    assert_finds(
        &BASE.replace("full-operation: getThing,", "full-operation: getThingz,"),
        "no operation `getThingz`",
    );
    assert_finds(
        &BASE.replace(
            "records: { pointer: \"\", many: true",
            "records: { pointer: /data, many: true",
        ),
        "records.pointer",
    );
}

#[test]
fn attributes_must_name_record_properties() {
    let root = crate::spec::workspace_root();
    let text = std::fs::read_to_string(root.join("specs/usermgr.yaml")).unwrap();
    let broken = text.replace("summary: [id, loginId,", "summary: [id, loginIdd,");
    assert_ne!(text, broken);
    assert_finds(&broken, "`loginIdd` is not a property");
    let broken = text.replace("param: $attribute", "param: $attributes");
    assert_finds(&broken, "no query parameter `$attributes`");
}

#[test]
fn misplaced_extension() {
    let text = BASE.replace(
        "    Message: { type: string }",
        "    Message: { type: string, x-userbatch: {} }",
    );
    assert_finds(&text, "read only as `x-userbatch`");
}

#[test]
fn examples_are_validated() {
    assert_finds(
        &BASE.replace("example: { Id: 1, Name: a }", "example: { Id: x, Name: a }"),
        "is not of type integer",
    );
    assert_finds(
        &BASE.replace("example: { Id: 1, Name: a }", "example: { Name: a }"),
        "required property `Id`",
    );
    assert_finds(
        &BASE.replace(
            "example: { Id: 1, Name: a }",
            "example: { Id: 1, Name: a, Extra: 1 }",
        ),
        "Extra: property not in the schema",
    );
    assert_finds(
        &BASE.replace(
            "example: { Id: 1, Name: a }",
            "example: { Id: 1, Secret: null }",
        ),
        "not nullable",
    );
    assert_finds(
        &BASE.replace("example: \"[1,2]\"", "example: \"1,2\""),
        "does not match",
    );
}

/// The small spec with a new field whose type is mistyped (a synthetic spec: the real ones
/// may gain a field of any name).
fn with_a_typo() -> Spec {
    let text = BASE.replacen(
        "        Id: { type: integer, format: int64 }\n",
        "        Id: { type: integer, format: int64 }\n        BadgeColour: { type: strng }\n",
        1,
    );
    Spec::parse("specs/t.yaml", &text).unwrap()
}

#[test]
fn lint_and_generate_name_the_mistyped_field() {
    const NAMED: &str = "components.schemas.Thing.properties.BadgeColour.type: value must \
                         be one of 'array', 'boolean', 'integer', 'number', 'object', \
                         'string', found \"strng\"";
    let spec = with_a_typo();
    let lint = crate::lint::lint_spec(&spec);
    assert_eq!(lint.len(), 1, "{lint:?}");
    assert!(lint[0].starts_with(NAMED), "{lint:?}");
    let error = crate::generate::generate_source(&spec).unwrap_err();
    let text = format!("{error:#}");
    assert!(text.contains(NAMED), "{text}");
    assert!(!text.contains("panicked"), "{text}");
}

#[test]
fn a_key_twice_in_one_mapping_is_an_error_naming_its_line() {
    // Read into JSON, the second `openapi` would silently win.
    let text = BASE.replacen("openapi: 3.0.3\n", "openapi: 3.0.3\nopenapi: 3.0.3\n", 1);
    let Err(error) = Spec::parse("specs/t.yaml", &text) else {
        panic!("a duplicated key parsed");
    };
    let text = format!("{error:#}");
    assert_eq!(
        text,
        "specs/t.yaml:3: key `openapi` repeats the one on line 2"
    );
}

#[test]
fn yaml_1_1_booleans_are_problems() {
    let text = BASE.replacen("openapi: 3.0.3\n", "openapi: 3.0.3\nx-flag: on\n", 1);
    let spec = Spec::parse("specs/t.yaml", &text).unwrap_or_else(|e| panic!("{e:#}"));
    let found = lint_spec(&spec);
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("line 3: `on` is a string")),
        "{found:?}"
    );
}
