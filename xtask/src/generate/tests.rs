//! The generator on small specs: panics named, secrets found, rules written out.

use super::rules::secret_pointers;
use super::*;

#[test]
fn a_generator_panic_names_the_spec_and_operation() {
    // Two error responses with different schemas make progenitor 0.15 panic.
    let text = r##"
openapi: 3.0.3
info: { title: T, version: "1" }
servers: [{ url: "https://example.com" }]
x-userbatch: { throttle-statuses: [429] }
paths:
  /ok:
    get:
      operationId: fine
      responses:
        "200": { description: ok, content: { application/json: { schema: { $ref: "#/components/schemas/A" } } } }
  /bad:
    get:
      operationId: brokenOne
      responses:
        "200": { description: ok, content: { application/json: { schema: { $ref: "#/components/schemas/A" } } } }
        "400": { description: a, content: { application/json: { schema: { $ref: "#/components/schemas/A" } } } }
        "404": { description: b, content: { application/json: { schema: { $ref: "#/components/schemas/B" } } } }
components:
  schemas:
    A: { type: string }
    B: { type: integer }
"##;
    let spec = Spec::parse("specs/broken.yaml", text).unwrap();
    let err = format!("{:#}", generate_source(&spec).unwrap_err());
    assert!(err.contains("specs/broken.yaml"), "{err}");
    assert!(err.contains("progenitor panicked"), "{err}");
    assert!(err.contains("brokenOne (GET /bad)"), "{err}");
    assert!(!err.contains("fine"), "{err}");
}

#[test]
fn rules_constants_follow_the_extension() {
    let root = crate::spec::workspace_root();
    let spec = Spec::load(&root, "specs/usermgr.yaml").unwrap();
    let text = rules_tokens(&spec).unwrap().to_string();
    assert!(text.contains("pub const GET_USERS_BY_IDS"), "{text}");
    assert!(text.contains("max_ids : Some (75usize)"), "{text}");
    assert!(
        text.contains("max_segment_chars : Some (20000usize)"),
        "{text}"
    );
    assert!(
        text.contains("UnknownIds :: OmittedOrFailsRequest (404u16)"),
        "{text}"
    );
}

#[test]
fn secrets_are_found_through_objects_arrays_and_refs() {
    let text = r##"
openapi: 3.0.3
info: { title: T, version: "1" }
servers: [{ url: "https://example.com" }]
x-userbatch: { throttle-statuses: [429] }
paths:
  /records/{id}:
    get:
      operationId: getRecord
      parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
      responses:
        "200": { description: ok, content: { application/json: { schema: { $ref: "#/components/schemas/Record" } } } }
components:
  schemas:
    Record:
      type: object
      properties:
        Password: { type: string, format: password }
        Name: { type: string }
        Pins: { type: array, items: { type: string, format: password } }
        Grid: { type: array, items: { type: array, items: { $ref: "#/components/schemas/Key" } } }
        Keys: { type: array, items: { $ref: "#/components/schemas/Key" } }
        Owner: { type: object, properties: { "a/b": { type: string, format: password } } }
        Loop: { $ref: "#/components/schemas/Loop" }
    Key:
      type: object
      properties:
        Secret: { type: string, format: password }
        Label: { type: string }
    Loop: { type: array, items: { $ref: "#/components/schemas/Loop" } }
"##;
    let spec = Spec::parse("specs/t.yaml", text).unwrap();
    let record = spec.raw.pointer("/components/schemas/Record").unwrap();
    let mut found = Vec::new();
    secret_pointers(&spec, record, "", &mut found).unwrap();
    found.sort();
    assert_eq!(
        found,
        [
            "/Grid/Secret",
            "/Keys/Secret",
            "/Owner/a~1b",
            "/Password",
            "/Pins"
        ]
    );
    // And the types hold them as `Secret`, which Debug redacts, inside arrays too.
    let code = generate_source(&spec).unwrap();
    assert!(
        code.contains("pub pins: ::std::vec::Vec<::userbatch_core::Secret>"),
        "{code}"
    );
    assert!(
        code.contains("pub secret: ::std::option::Option<::userbatch_core::Secret>"),
        "{code}"
    );
}

#[test]
fn screaming_snake_names() {
    assert_eq!(screaming_snake("getUsersByIds"), "GET_USERS_BY_IDS");
    assert_eq!(
        screaming_snake("retrieveMultipleUsers"),
        "RETRIEVE_MULTIPLE_USERS"
    );
    assert_eq!(screaming_snake("getUser"), "GET_USER");
}
