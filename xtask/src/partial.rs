//! Summary types from the specs' partial-record metadata.
//!
//! A list operation whose `x-userbatch.partial` says its records are summaries of `Of`
//! gets, in the document handed to progenitor (never in the spec file), a schema
//! `OfSummary`: `Of` without the unpopulated fields. The batch engine decodes that
//! operation's records into `OfSummary`, so reading an unpopulated field of a summary does
//! not compile. Each summary type also gets an `impl userbatch_core::PartialRecord`.

use anyhow::{Context, Result, bail};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::spec::Spec;

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

/// Derives the summary schemas into `doc` (a copy of the spec); returns what it derived.
pub fn derive(spec: &Spec, doc: &mut Value) -> Result<Vec<Summary>> {
    let mut out: Vec<Summary> = Vec::new();
    for (_, _, op) in spec.operations() {
        let Some(ext) = spec.operation_rules(op)? else {
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
            let unpopulated: Vec<String> =
                partial.unpopulated.iter().map(|f| f.to_string()).collect();
            let summary = summary_schema(
                full,
                &partial.of,
                &op_id,
                &partial.full_operation_id,
                &unpopulated,
            )?;
            insert_schema(doc, &name, summary)?;
        } else if let Some(prev) = out.iter().find(|s| s.name == name)
            && partial.unpopulated != prev.unpopulated
        {
            bail!(
                "{}: {op_id} and {} leave different fields of {} unpopulated; one summary type cannot serve both",
                spec.rel,
                prev.operation,
                partial.of
            );
        }
        out.push(Summary {
            of: partial.of.to_string(),
            name,
            id_field: ext.records.id_field.to_string(),
            operation: op_id,
            full_operation: partial.full_operation_id.to_string(),
            unpopulated: partial.unpopulated.iter().map(|f| f.to_string()).collect(),
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
    fn each_partial_operation_gets_one_summary_type() {
        let root = crate::spec::workspace_root();
        let spec = Spec::load(&root, "specs/nexudus.yaml").unwrap();
        let mut doc = spec.raw.clone();
        let summaries = derive(&spec, &mut doc).unwrap();
        let names: Vec<&str> = summaries.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["CoworkerSummary", "UserSummary"]);
        assert!(
            doc.pointer("/components/schemas/UserSummary/properties/FullName")
                .is_some()
        );
        assert!(
            doc.pointer("/components/schemas/UserSummary/properties/IsAdmin")
                .is_none()
        );
        assert_eq!(snake("Id"), "id");
    }
}
