//! One spec's `generated.rs`: progenitor's settings and client (run on a copy of the spec
//! where batch operations answer bytes and path lists are strings, with a generator panic
//! turned into an error naming the operation), then the rules, the batch operations and
//! the summaries, formatted.
use std::panic::{self, AssertUnwindSafe};

use anyhow::{Context, Result, anyhow, bail};
use proc_macro2::TokenStream;
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};
use quote::quote;
use schemars::schema::{InstanceType, SchemaObject};
use serde_json::Value;

use super::rules::rules_and_id_types;
use crate::spec::{IdEncoding, IdLocation, Spec};

/// Per-request timeout compiled into the generated `Client::new` (seconds); the vendor
/// crates' `Client::from_config` sets its own, explicitly.
const GENERATED_CLIENT_TIMEOUT_SECS: u64 = 30;

/// Generator settings shared by every vendor. Changing these changes every generated crate:
/// review the snapshot diffs.
///
/// The client's methods are positional (a third of the code of builder style, and the
/// facade wraps them anyway); its `types` come from a second run in builder style, for
/// typify's struct builders (`record_types` splices them).
pub fn settings(interface: InterfaceStyle) -> GenerationSettings {
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(interface)
        .with_tag(TagStyle::Merged)
        // Each vendor crate's lib.rs must implement ClientHooks (auth, no api-version);
        // forgetting it is a compile error, not a client that silently sends no token.
        .with_hooks(HooksMode::Expected)
        .with_inner_type(quote!(::userbatch_core::ClientState))
        .with_timeout(GENERATED_CLIENT_TIMEOUT_SECS)
        // Sensitive strings: redacted in Debug.
        .with_conversion(
            string_schema("password"),
            "::userbatch_core::Secret",
            [TypeImpl::Default].into_iter(),
        )
        // Tolerant timestamps: keep the vendor's text, offset or not.
        .with_conversion(
            string_schema("date-time"),
            "::userbatch_core::Timestamp",
            [TypeImpl::Display].into_iter(),
        );
    settings
}

fn string_schema(format: &str) -> SchemaObject {
    SchemaObject {
        instance_type: Some(InstanceType::String.into()),
        format: Some(format.to_owned()),
        ..Default::default()
    }
}

/// Generates the complete, formatted `generated.rs` text for one spec.
pub fn generate_source(spec: &Spec) -> Result<String> {
    // A document that breaks the OpenAPI 3.0 schema is named by path here, instead of by a
    // generator panic later.
    let problems = crate::oas::problems(&spec.raw);
    if !problems.is_empty() {
        bail!(
            "{} is not a valid OpenAPI 3.0 document:\n  {}",
            spec.rel,
            problems.join("\n  ")
        );
    }
    // Summary types from the partial-record metadata, in a copy of the spec.
    let mut doc = spec.raw.clone();
    let summaries = crate::partial::derive(spec, &mut doc)?;
    raw_responses(spec, &mut doc)?;
    path_lists_as_strings(spec, &mut doc)?;
    let openapi: openapiv3::OpenAPI = serde_json::from_value(doc)
        .with_context(|| format!("{}: not an OpenAPI 3.0 document", spec.rel))?;
    let client = generate_client_tokens(spec, &openapi)?;
    let (rules, id_types) = rules_and_id_types(spec)?;
    let partial_impls = crate::partial::impls(&summaries);
    let client_file: syn::File = syn::parse2(client.clone())
        .with_context(|| format!("{}: the generated client does not parse", spec.rel))?;
    let id_types = id_types
        .into_iter()
        .filter(|(ty, _)| crate::ops::has_type(&client_file, ty))
        .map(|(_, tokens)| tokens);
    let rules = quote!(#rules #(#id_types)*);
    let mut ops = Vec::new();
    for (path, method, op) in spec.operations() {
        let Some(rules) = spec.operation_rules(op)? else {
            continue;
        };
        let record = crate::ops::record_type(spec, op, &rules)
            .with_context(|| format!("{}: {}: its record type", spec.rel, rules.operation_id))?;
        ops.push((
            rules
                .partial
                .as_ref()
                .map(|p| p.full_operation_id.to_string()),
            crate::ops::operation_tokens(spec, &client_file, (path, method), op, &rules, &record)
                .with_context(|| format!("{}: the batch operation", spec.rel))?,
        ));
    }
    let mut summaries = Vec::new();
    for (full_id, list) in &ops {
        let Some(full_id) = full_id else { continue };
        let full = ops
            .iter()
            .map(|(_, g)| g)
            .find(|g| g.operation_id == *full_id)
            .with_context(|| format!("{}: {full_id} has no x-userbatch", spec.rel))?;
        summaries.push(
            crate::ops::summaries_impl(list, full)
                .with_context(|| format!("{}: the summaries' full operation", spec.rel))?,
        );
    }
    let ops = ops.iter().map(|(_, g)| &g.tokens);
    let file: syn::File =
        syn::parse2(quote! { #client #rules #partial_impls #(#ops)* #(#summaries)* })
            .with_context(|| format!("{}: generated code does not parse", spec.rel))?;
    let body = prettyplease::unparse(&file);
    Ok(format!(
        "// @generated by `cargo xtask generate` from {} (progenitor {}).\n\
         // Do not edit: change the spec or xtask's generator settings, then regenerate.\n\n{}",
        spec.rel, PROGENITOR_VERSION, body
    ))
}

/// In the document progenitor sees (never in the spec file), every answer of a batch
/// operation (one with `x-userbatch`), success or error, becomes bytes: the generated
/// method returns `ResponseValue<ByteStream>` (and `Error<ByteStream>`), and the batch
/// engine reads the body, locates the records by the rules and decodes them one by one. A
/// whole-response decode in the generated code would let one odd record fail every id of
/// the response, and would drop what the types do not know.
fn raw_responses(spec: &Spec, doc: &mut Value) -> Result<()> {
    for (path, method, op) in spec.operations() {
        if spec.operation_rules(op)?.is_none() {
            continue;
        }
        let pointer = format!(
            "/paths/{}/{method}/responses",
            crate::spec::escape_pointer(path)
        );
        let responses = doc
            .pointer_mut(&pointer)
            .and_then(Value::as_object_mut)
            .with_context(|| format!("{}: {method} {path} has no responses", spec.rel))?;
        for (status, response) in responses.iter_mut() {
            let original = spec
                .raw
                .pointer(&format!(
                    "{pointer}/{}",
                    crate::spec::escape_pointer(status)
                ))
                .map(|r| spec.resolve_all(r))
                .transpose()?;
            let description = original
                .and_then(|r| r.get("description"))
                .cloned()
                .unwrap_or_else(|| Value::String(String::new()));
            *response = serde_json::json!({
                "description": description,
                "content": {
                    "application/octet-stream": {
                        "schema": { "type": "string", "format": "binary" }
                    }
                }
            });
        }
    }
    Ok(())
}

/// In the document progenitor sees, a batch operation's id list in a path segment
/// (`type: array`, `style: simple`: `1001,1002`) becomes the string it is on the wire,
/// capped at the rules' `max-segment-chars`: progenitor has no array path parameters, and
/// the batch engine writes the segment itself.
fn path_lists_as_strings(spec: &Spec, doc: &mut Value) -> Result<()> {
    for (path, method, op) in spec.operations() {
        let Some(ext) = spec.operation_rules(op)? else {
            continue;
        };
        if ext.ids.location != IdLocation::Path || ext.ids.encoding != IdEncoding::Csv {
            continue;
        }
        let pointer = format!(
            "/paths/{}/{method}/parameters",
            crate::spec::escape_pointer(path)
        );
        let params = doc
            .pointer_mut(&pointer)
            .and_then(Value::as_array_mut)
            .with_context(|| format!("{}: {method} {path} has no parameters", spec.rel))?;
        for param in params {
            if param.get("name").and_then(Value::as_str) != Some(&*ext.ids.name) {
                continue;
            }
            let Some(object) = param.as_object_mut() else {
                continue;
            };
            object.remove("style");
            object.remove("explode");
            object.remove("example");
            let mut schema = serde_json::json!({ "type": "string" });
            if let Some(max) = ext.limits.max_segment_chars {
                schema["maxLength"] = Value::from(max);
            }
            object.insert("schema".into(), schema);
        }
    }
    Ok(())
}

/// The progenitor version the output was made with (pinned in Cargo.toml).
pub const PROGENITOR_VERSION: &str = "0.15.1";

/// Runs progenitor, turning a generator panic into an error that names the spec and, by
/// retrying one operation at a time, the operation(s) it chokes on.
fn generate_client_tokens(spec: &Spec, openapi: &openapiv3::OpenAPI) -> Result<TokenStream> {
    let client = progenitor_tokens(spec, openapi, InterfaceStyle::Positional)?;
    let with_builders = progenitor_tokens(spec, openapi, InterfaceStyle::Builder)?;
    record_types(client, with_builders).with_context(|| format!("{}: the types module", spec.rel))
}

/// The positional client with the `types` module of the builder-style run: the same types,
/// plus typify's `types::builder` (one builder per struct, `Foo::builder()`, checked by
/// `TryFrom`), and every struct with named fields `#[non_exhaustive]`. A field the vendor
/// adds is then a compatible change (an added field and builder method) instead of a
/// breaking one (every struct literal of the type stops compiling): callers build records
/// with the builder and read or assign the fields, which stay public.
fn record_types(client: TokenStream, with_builders: TokenStream) -> Result<TokenStream> {
    let mut client: syn::File = syn::parse2(client).context("the client does not parse")?;
    let with_builders: syn::File =
        syn::parse2(with_builders).context("the builder-style client does not parse")?;
    let types = |file: &syn::File| {
        file.items.iter().position(
            |item| matches!(item, syn::Item::Mod(m) if m.ident == "types" && m.content.is_some()),
        )
    };
    let (Some(at), Some(from)) = (types(&client), types(&with_builders)) else {
        bail!("progenitor wrote no `types` module");
    };
    let mut module = with_builders.items[from].clone();
    if let syn::Item::Mod(syn::ItemMod {
        content: Some((_, items)),
        ..
    }) = &mut module
    {
        for item in items {
            if let syn::Item::Struct(s) = item
                && matches!(s.fields, syn::Fields::Named(_))
            {
                s.attrs.push(syn::parse_quote!(#[non_exhaustive]));
            }
        }
    }
    client.items[at] = module;
    Ok(quote!(#client))
}

/// One progenitor run, a generator panic turned into an error naming the operation(s).
fn progenitor_tokens(
    spec: &Spec,
    openapi: &openapiv3::OpenAPI,
    interface: InterfaceStyle,
) -> Result<TokenStream> {
    match run_progenitor(openapi, interface.clone()) {
        Ok(Ok(tokens)) => Ok(tokens),
        Ok(Err(e)) => Err(anyhow!("{}: progenitor: {e}", spec.rel)),
        Err(panic_msg) => {
            let culprits = culprit_operations(openapi, interface);
            bail!(
                "{}: progenitor panicked: {panic_msg}\n  operation(s) that fail alone: {}",
                spec.rel,
                if culprits.is_empty() {
                    "none (the combination fails)".to_owned()
                } else {
                    culprits.join(", ")
                }
            )
        }
    }
}

type ProgenitorOutcome = std::result::Result<Result<TokenStream, progenitor::Error>, String>;

fn run_progenitor(openapi: &openapiv3::OpenAPI, interface: InterfaceStyle) -> ProgenitorOutcome {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        Generator::new(&settings(interface)).generate_tokens(openapi)
    }));
    panic::set_hook(previous);
    outcome.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(non-string panic payload)".to_owned())
    })
}

fn culprit_operations(openapi: &openapiv3::OpenAPI, interface: InterfaceStyle) -> Vec<String> {
    let mut culprits = Vec::new();
    for (path, item) in &openapi.paths.paths {
        let Some(item) = item.as_item() else { continue };
        for (method, op) in item.iter() {
            let mut single = openapi.clone();
            let mut only = item.clone();
            for m in [
                "get", "put", "post", "delete", "options", "head", "patch", "trace",
            ] {
                if m != method {
                    match m {
                        "get" => only.get = None,
                        "put" => only.put = None,
                        "post" => only.post = None,
                        "delete" => only.delete = None,
                        "options" => only.options = None,
                        "head" => only.head = None,
                        "patch" => only.patch = None,
                        _ => only.trace = None,
                    }
                }
            }
            single.paths.paths.clear();
            single
                .paths
                .paths
                .insert(path.clone(), openapiv3::ReferenceOr::Item(only));
            if run_progenitor(&single, interface.clone()).is_err() {
                culprits.push(format!(
                    "{} ({} {path})",
                    op.operation_id.as_deref().unwrap_or("<no operationId>"),
                    method.to_uppercase()
                ));
            }
        }
    }
    culprits
}
