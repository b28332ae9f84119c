//! Validation of a spec against the OpenAPI 3.0 schema itself (`xtask/schemas/`), so that a
//! mistake such as `type: strng` is named by its path before anything else reads the spec.

use std::sync::OnceLock;

use boon::{Compiler, Draft, SchemaIndex, Schemas, ValidationError};
use serde_json::Value;

/// The OpenAPI Initiative's JSON Schema of OpenAPI 3.0.x documents.
const SCHEMA: &str = include_str!("../schemas/openapi-3.0.json");
const SCHEMA_URL: &str = "https://spec.openapis.org/oas/3.0/schema/2019-04-02";

/// Every place where `document` breaks the OpenAPI 3.0 schema, as
/// `components.schemas.User.properties.BadgeColour.type: <what is wrong>`; empty when it
/// conforms.
pub fn problems(document: &Value) -> Vec<String> {
    // Compiled once per process (`generate` and `lint` check every spec).
    static SCHEMA_COMPILED: OnceLock<(Schemas, SchemaIndex)> = OnceLock::new();
    let (schemas, index) = SCHEMA_COMPILED.get_or_init(|| {
        let schema: Value = serde_json::from_str(SCHEMA).expect("the bundled schema is JSON");
        let mut compiler = Compiler::new();
        compiler.set_default_draft(Draft::V4);
        let mut schemas = Schemas::new();
        compiler
            .add_resource(SCHEMA_URL, schema)
            .expect("the bundled schema is a resource");
        let index = compiler
            .compile(SCHEMA_URL, &mut schemas)
            .expect("the bundled schema compiles");
        (schemas, index)
    });
    let index = *index;
    let Err(error) = schemas.validate(document, index) else {
        return Vec::new();
    };
    let mut leaves = Vec::new();
    collect_leaves(&error, &mut leaves);
    // A `oneOf` of a Schema and a Reference fails both ways; the deepest failures are the
    // ones that say what is wrong (`type` is not a type) rather than what else it could
    // have been (a `$ref`).
    let deepest: Vec<&(Vec<String>, String)> = leaves
        .iter()
        .filter(|(at, _)| {
            !leaves
                .iter()
                .any(|(other, _)| other.len() > at.len() && other.starts_with(at))
        })
        .collect();
    let mut out: Vec<String> = deepest
        .into_iter()
        .map(|(at, what)| {
            let path = if at.is_empty() {
                "(the document)".to_owned()
            } else {
                at.join(".")
            };
            let pointer: String = at
                .iter()
                .map(|t| format!("/{}", t.replace('~', "~0").replace('/', "~1")))
                .collect();
            // A scalar that is wrong is quoted; objects would drown the message.
            let found = match document.pointer(&pointer) {
                Some(v @ (Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null)) => {
                    format!(", found {v}")
                }
                _ => String::new(),
            };
            format!("{path}: {what}{found} (OpenAPI 3.0 schema)")
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The errors without causes, each with its instance path.
fn collect_leaves(error: &ValidationError<'_, '_>, out: &mut Vec<(Vec<String>, String)>) {
    if error.causes.is_empty() {
        let at = error
            .instance_location
            .tokens
            .iter()
            .map(|t| match t {
                boon::InstanceToken::Prop(p) => p.to_string(),
                boon::InstanceToken::Item(i) => i.to_string(),
            })
            .collect();
        out.push((at, error.kind.to_string()));
    }
    for cause in &error.causes {
        collect_leaves(cause, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(user_properties: &str) -> Value {
        let yaml = format!(
            "openapi: 3.0.3
info: {{title: t, version: '1'}}
paths: {{}}
components:
  schemas:
    User:
      type: object
      properties:
{user_properties}"
        );
        serde_yaml::from_str(&yaml).unwrap()
    }

    #[test]
    fn a_typo_is_named_by_its_path() {
        assert_eq!(
            problems(&spec("        Id: {type: integer}\n")),
            Vec::<String>::new()
        );
        let found = problems(&spec(
            "        Id: {type: integer}\n        BadgeColour: {type: strng}\n",
        ));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("components.schemas.User.properties.BadgeColour.type: "),
            "{found:?}"
        );
        assert!(found[0].contains("strng"), "{found:?}");
    }

    #[test]
    fn unknown_keys_and_wrong_shapes_are_named() {
        let found = problems(&spec("        Id: {type: integer, nulable: true}\n"));
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("components.schemas.User.properties.Id")
                    && p.contains("nulable")),
            "{found:?}"
        );
        let found = problems(&spec("        Id: {type: integer, required: yes}\n"));
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("components.schemas.User.properties.Id.required")),
            "{found:?}"
        );
    }
}
