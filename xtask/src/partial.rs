//! Summary types from the specs' partial-record metadata.
//!
//! A list operation whose `x-userbatch.partial` says its records are summaries of `Of`
//! gets, in the document handed to progenitor (never in the spec file), a schema
//! `OfSummary`: `Of` without the unpopulated fields. The operation's response is rewritten
//! to carry `OfSummary` records, so reading an unpopulated field of a summary does not
//! compile. Each summary type also gets an `impl userbatch_core::PartialRecord`.

use anyhow::{Context, Result, bail};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::spec::{Spec, escape_pointer};

/// One derived summary type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The full schema's name, e.g. `User`.
    pub of: String,
    /// The summary schema's name, e.g. `UserSummary`.
    pub name: String,
    /// The full record's id field (JSON name).
    pub id_field: String,
    /// The list operation returning summaries.
    pub operation: String,
    /// The operation returning the full record.
    pub full_operation: String,
    /// Fields left out.
    pub unpopulated: Vec<String>,
}

/// Derives the summary schemas into `doc` (a copy of the spec) and rewrites the list
/// operations' responses; returns what it derived.
pub fn derive(spec: &Spec, doc: &mut Value) -> Result<Vec<Summary>> {
    let mut out: Vec<Summary> = Vec::new();
    for (path, method, op) in spec.operations() {
        let Some(ext) = spec.operation_ext(op)? else {
            continue;
        };
        let Some(partial) = ext.partial else { continue };
        let op_id = op
            .get("operationId")
            .and_then(Value::as_str)
            .context("operationId")?
            .to_owned();
        let name = format!("{}Summary", partial.of);
        if !out.iter().any(|s| s.name == name) {
            let full = spec
                .schema(&partial.of)
                .with_context(|| format!("{}: no schema {}", spec.rel, partial.of))?;
            let summary = summary_schema(
                full,
                &partial.of,
                &op_id,
                &partial.full_operation,
                &partial.unpopulated,
            )?;
            insert_schema(doc, &name, summary)?;
        } else if let Some(prev) = out.iter().find(|s| s.name == name)
            && prev.unpopulated != partial.unpopulated
        {
            bail!(
                "{}: {op_id} and {} leave different fields of {} unpopulated; one summary type cannot serve both",
                spec.rel,
                prev.operation,
                partial.of
            );
        }
        // Rewrite the 200 response along the records pointer.
        let pointer = format!(
            "/paths/{}/{method}/responses/200/content/application~1json/schema",
            escape_pointer(path)
        );
        let response = doc
            .pointer(&pointer)
            .cloned()
            .with_context(|| format!("{}: {op_id} has no JSON 200 response", spec.rel))?;
        let tokens: Vec<&str> = match ext.records.pointer.as_str() {
            "" => Vec::new(),
            p => p.trim_start_matches('/').split('/').collect(),
        };
        let rewritten = rewrite(
            doc,
            &response,
            &tokens,
            ext.records.many,
            &partial.of,
            &name,
        )?;
        *doc.pointer_mut(&pointer).context("response schema")? = rewritten;
        out.push(Summary {
            of: partial.of.clone(),
            name,
            id_field: ext.records.id_field.clone(),
            operation: op_id,
            full_operation: partial.full_operation.clone(),
            unpopulated: partial.unpopulated.clone(),
        });
    }
    Ok(out)
}

fn summary_schema(
    full: &Value,
    of: &str,
    op_id: &str,
    full_op: &str,
    unpopulated: &[String],
) -> Result<Value> {
    let mut summary = full.clone();
    let props = summary
        .get_mut("properties")
        .and_then(Value::as_object_mut)
        .with_context(|| format!("schema {of} has no properties"))?;
    for field in unpopulated {
        props
            .remove(field)
            .with_context(|| format!("{of} has no property {field} (listed as unpopulated)"))?;
    }
    if let Some(required) = summary.get_mut("required").and_then(Value::as_array_mut) {
        required.retain(|r| {
            !r.as_str()
                .is_some_and(|r| unpopulated.iter().any(|u| u == r))
        });
    }
    let description = format!(
        "A summary of [`{of}`], as `{op_id}` returns it: it does not carry {} of the full \
         record's fields ({}). Fetch the full record with `{full_op}` (or hydrate summaries \
         through the `userbatch` facade) before reading those fields or building an update: \
         a PUT built from a summary clears them at the vendor.",
        unpopulated.len(),
        unpopulated.join(", ")
    );
    summary["description"] = Value::String(description);
    Ok(summary)
}

fn insert_schema(doc: &mut Value, name: &str, schema: Value) -> Result<()> {
    let schemas = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .context("components.schemas")?;
    if schemas.contains_key(name) {
        bail!("the spec already has a schema {name}; it would clash with the derived summary");
    }
    schemas.insert(name.to_owned(), schema);
    Ok(())
}

fn ref_name(schema: &Value) -> Option<&str> {
    schema
        .get("$ref")?
        .as_str()?
        .strip_prefix("#/components/schemas/")
}

fn to_ref(name: &str) -> Value {
    serde_json::json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// `schema` with the records at `tokens` replaced by summaries; every named schema on the
/// way is cloned under a derived name (`UserList` -> `UserSummaryList`).
fn rewrite(
    doc: &mut Value,
    schema: &Value,
    tokens: &[&str],
    many: bool,
    of: &str,
    summary: &str,
) -> Result<Value> {
    if tokens.is_empty() && !many {
        return match ref_name(schema) {
            Some(n) if n == of => Ok(to_ref(summary)),
            _ => bail!("the records are not `{of}`"),
        };
    }
    let named = ref_name(schema).map(str::to_owned);
    let mut body = match &named {
        Some(n) => doc
            .pointer(&format!("/components/schemas/{n}"))
            .cloned()
            .with_context(|| format!("no schema {n}"))?,
        None => schema.clone(),
    };
    if tokens.is_empty() {
        let items = body
            .get("items")
            .with_context(|| "the records are not an array")?;
        if ref_name(items) != Some(of) {
            bail!("the records are not an array of `{of}`");
        }
        body["items"] = to_ref(summary);
    } else {
        let prop = body
            .pointer(&format!("/properties/{}", tokens[0]))
            .cloned()
            .with_context(|| format!("no property {}", tokens[0]))?;
        let new = rewrite(doc, &prop, &tokens[1..], many, of, summary)?;
        body["properties"][tokens[0]] = new;
    }
    match named {
        None => Ok(body),
        Some(n) => {
            let derived = if n.contains(of) {
                n.replacen(of, summary, 1)
            } else {
                format!("{n}Summary")
            };
            body["description"] = Value::String(format!("[`{n}`] with summaries of `{of}`."));
            insert_schema(doc, &derived, body)?;
            Ok(to_ref(&derived))
        }
    }
}

/// `impl userbatch_core::PartialRecord` for each summary type.
pub fn impls(summaries: &[Summary]) -> TokenStream {
    let mut seen = Vec::new();
    let mut out = TokenStream::new();
    for s in summaries {
        if seen.contains(&s.name) {
            continue;
        }
        seen.push(s.name.clone());
        let summary = format_ident!("{}", s.name);
        let full = format_ident!("{}", s.of);
        let id = format_ident!("{}", snake(&s.id_field));
        let (of, full_op, fields) = (&s.of, &s.full_operation, &s.unpopulated);
        out.extend(quote! {
            impl ::userbatch_core::PartialRecord for types::#summary {
                type Full = types::#full;
                const SUMMARY_OF: &'static str = #of;
                const FULL_OPERATION: &'static str = #full_op;
                const UNPOPULATED: &'static [&'static str] = &[#(#fields),*];
                fn record_id(&self) -> ::std::string::String {
                    ::std::string::ToString::to_string(&self.#id)
                }
            }
        });
    }
    out
}

/// `Id` -> `id`, `UserId` -> `user_id` (typify's field naming for plain names).
fn snake(name: &str) -> String {
    let mut out = String::new();
    let mut prev_upper = true;
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if !prev_upper {
                out.push('_');
            }
            prev_upper = true;
            out.push(c.to_ascii_lowercase());
        } else {
            prev_upper = false;
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary_fields(text: &str) -> Vec<String> {
        let spec = Spec::parse("specs/nexudus.yaml", text).unwrap();
        let mut doc = spec.raw.clone();
        derive(&spec, &mut doc).unwrap();
        let props = doc
            .pointer("/components/schemas/UserSummary/properties")
            .unwrap();
        props.as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn the_unpopulated_list_in_the_spec_shapes_the_summary_type() {
        let root = crate::spec::workspace_root();
        let text = std::fs::read_to_string(root.join("specs/nexudus.yaml")).unwrap();
        let fields = summary_fields(&text);
        assert!(!fields.contains(&"IsAdmin".to_owned()));
        assert!(fields.contains(&"FullName".to_owned()));
        // Take IsAdmin off the list: the summary type gains it, nothing else changes.
        let edited = text.replacen("          - IsAdmin\n", "", 1);
        assert_ne!(edited, text);
        let after = summary_fields(&edited);
        assert!(after.contains(&"IsAdmin".to_owned()));
        assert_eq!(after.len(), fields.len() + 1);
    }

    #[test]
    fn list_responses_are_rewritten_to_summaries() {
        let root = crate::spec::workspace_root();
        let spec = Spec::load(&root, "specs/nexudus.yaml").unwrap();
        let mut doc = spec.raw.clone();
        let summaries = derive(&spec, &mut doc).unwrap();
        let names: Vec<&str> = summaries.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["CoworkerSummary", "UserSummary"]);
        let list = doc
            .pointer("/paths/~1api~1sys~1users~1/get/responses/200/content/application~1json/schema/$ref")
            .unwrap();
        assert_eq!(list, "#/components/schemas/UserSummaryList");
        let one = doc
            .pointer("/paths/~1api~1sys~1users~1{id}/get/responses/200/content/application~1json/schema/$ref")
            .unwrap();
        assert_eq!(
            one, "#/components/schemas/User",
            "get-one keeps the full record"
        );
        assert_eq!(snake("Id"), "id");
    }
}
