//! `cargo xtask generate [--check]`: specs in, `crates/<vendor>/src/generated.rs` out.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use proc_macro2::TokenStream;
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};
use quote::{format_ident, quote};
use schemars::schema::{InstanceType, SchemaObject};
use serde_json::Value;

use crate::spec::{
    AuthScheme, IdEncoding, IdKind, IdLocation, OperationRules, ResetForm, Spec, UnknownIds,
    VendorRules, VendorSpec, vendors,
};

/// Per-request timeout compiled into the generated `Client::new` (seconds); the vendor
/// crates' `Client::from_config` sets its own, explicitly.
const GENERATED_CLIENT_TIMEOUT_SECS: u64 = 30;

/// Generator settings shared by every vendor. Changing these changes every generated crate:
/// review the snapshot diffs.
pub fn settings() -> GenerationSettings {
    let mut settings = GenerationSettings::new();
    settings
        // Positional: a third of the code of builder style, and the facade wraps it anyway.
        .with_interface(InterfaceStyle::Positional)
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

/// JSON pointers of the `format: password` properties of `schema` (through `$ref`s,
/// nested objects and arrays, which the pointers pass through: the redactor reads an array
/// as each of its elements), for the rules' `secrets`.
fn secret_pointers(spec: &Spec, schema: &Value, prefix: &str, out: &mut Vec<String>) -> Result<()> {
    let schema = spec.resolve_all(schema)?;
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return Ok(());
    };
    for (name, prop) in props {
        let here = format!("{prefix}/{}", crate::spec::escape_pointer(name));
        let mut prop = spec.resolve_all(prop)?;
        // Arrays (of arrays...) of the same: bounded, as a `$ref` may lead back.
        for _ in 0..8 {
            let Some(items) = prop.get("items") else {
                break;
            };
            prop = spec.resolve_all(items)?;
        }
        if prop.get("format").and_then(Value::as_str) == Some("password") {
            out.push(here);
        } else if prop.get("properties").is_some() && out.len() < 1024 && prefix.len() < 256 {
            secret_pointers(spec, prop, &here, out)?;
        }
    }
    Ok(())
}

/// The schema of one record of an operation: its 200 JSON schema at the records pointer,
/// the array's items if `many`.
fn record_schema<'a>(spec: &'a Spec, op: &'a Value, ext: &OperationRules) -> Result<&'a Value> {
    let mut schema = op
        .pointer("/responses/200/content/application~1json/schema")
        .context("no application/json 200 response")?;
    if !ext.records.pointer.is_empty() {
        for token in ext.records.pointer.trim_start_matches('/').split('/') {
            let resolved = spec.resolve_all(schema)?;
            schema = resolved
                .pointer(&format!("/properties/{token}"))
                .with_context(|| format!("no property {token} on the records' way"))?;
        }
    }
    let schema = spec.resolve_all(schema)?;
    if ext.records.many {
        schema.get("items").context("the records are not an array")
    } else {
        Ok(schema)
    }
}

/// The progenitor version the output was made with (pinned in Cargo.toml).
pub const PROGENITOR_VERSION: &str = "0.15.1";

/// Runs progenitor, turning a generator panic into an error that names the spec and, by
/// retrying one operation at a time, the operation(s) it chokes on.
fn generate_client_tokens(spec: &Spec, openapi: &openapiv3::OpenAPI) -> Result<TokenStream> {
    match run_progenitor(openapi) {
        Ok(Ok(tokens)) => Ok(tokens),
        Ok(Err(e)) => Err(anyhow!("{}: progenitor: {e}", spec.rel)),
        Err(panic_msg) => {
            let culprits = culprit_operations(openapi);
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

fn run_progenitor(openapi: &openapiv3::OpenAPI) -> ProgenitorOutcome {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        Generator::new(&settings()).generate_tokens(openapi)
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

fn culprit_operations(openapi: &openapiv3::OpenAPI) -> Vec<String> {
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
            if run_progenitor(&single).is_err() {
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

/// `pub mod rules`: the spec's `x-userbatch` facts as `userbatch_core::rules` constants,
/// read into those very types ([`Spec::vendor_rules`], [`Spec::operation_rules`]) and
/// written back out.
pub fn rules_tokens(spec: &Spec) -> Result<TokenStream> {
    let (rules, id_types) = rules_and_id_types(spec)?;
    let id_types = id_types.into_iter().map(|(_, t)| t);
    Ok(quote!(#rules #(#id_types)*))
}

/// The rules module, and the `from_ids` constructors of the id-list types (by type name:
/// progenitor makes a type only for a constrained string).
fn rules_and_id_types(spec: &Spec) -> Result<(TokenStream, Vec<(String, TokenStream)>)> {
    let vendor = vendor_tokens(&spec.vendor_rules()?);
    let mut consts = Vec::new();
    let mut paths = Vec::new();
    let mut id_types = Vec::new();
    for (path, method, op) in spec.operations() {
        let op_id = op
            .get("operationId")
            .and_then(Value::as_str)
            .with_context(|| format!("{}: {method} {path} has no operationId", spec.rel))?;
        // As progenitor names operations in `OperationInfo`.
        let snake = crate::ops::snake(op_id);
        paths.push(quote!((#snake, #path)));
        let Some(mut rules) = spec.operation_rules(op)? else {
            continue;
        };
        let record = record_schema(spec, op, &rules)
            .with_context(|| format!("{}: {op_id}: the records' schema", spec.rel))?;
        let mut secrets = Vec::new();
        secret_pointers(spec, record, "", &mut secrets)?;
        rules.records.secrets = secrets
            .into_iter()
            .map(Into::into)
            .collect::<Vec<_>>()
            .into();
        let name = format_ident!("{}", screaming_snake(op_id));
        let doc = format!(
            "Batch rules of `{op_id}` (`{} {path}`), from `x-userbatch` in {}.",
            method.to_uppercase(),
            spec.rel
        );
        let answers = answers_tokens(spec, op, &rules)
            .with_context(|| format!("{}: {op_id}: its documented answers", spec.rel))?;
        let value = operation_tokens(&rules, answers);
        consts.push(quote! {
            #[doc = #doc]
            pub const #name: OperationRules = #value;
        });
        if matches!(rules.ids.location, IdLocation::Query | IdLocation::Path)
            && matches!(
                rules.ids.encoding,
                IdEncoding::Csv | IdEncoding::BracketedCsv
            )
        {
            id_types.push((
                format!(
                    "{}{}",
                    crate::ops::type_name(op_id),
                    crate::ops::type_name(&rules.ids.name)
                ),
                id_type_tokens(op_id, &rules, &name),
            ));
        }
    }
    let vendor_doc = format!(
        "Vendor-wide rules, from the root `x-userbatch` in {}.",
        spec.rel
    );
    Ok((
        quote! {
            /// Batch rules from the spec's `x-userbatch` extensions, for the `userbatch` facade's
            /// batch engine.
            pub mod rules {
                #[allow(unused_imports)]
                use ::std::borrow::Cow::Borrowed;
                #[allow(unused_imports)]
                use ::userbatch_core::rules::{
                    Answers, Attributes, AuthScheme, BodySchema, IdEncoding, IdKind, IdLocation, Ids,
                    JsonType, Limits, NotFound, OperationRules, Paging, Partial, RateLimitHeaders,
                    Records, ResetForm, ServerVariable, SkippedParameter, UnknownIds, VendorRules,
                };

                /// Every operation's path template, by the name progenitor gives the operation:
                /// the vendor crate's request hook refuses a request whose path is not its
                /// template.
                pub const PATHS: &[(&str, &str)] = &[#(#paths),*];

                #[doc = #vendor_doc]
                pub const VENDOR: VendorRules = #vendor;

                #(#consts)*
            }
        },
        id_types,
    ))
}

/// A typed constructor for the generated type of an operation's id-list parameter (e.g.
/// `types::GetUsersId::from_ids([1, 2, 3])`): the planner validates the ids and checks
/// that they fit one request under the vendor's limits, then writes them as the wire wants.
/// A consumer of the vendor crate alone never writes `[1,2,3]` by hand.
fn id_type_tokens(op_id: &str, rules: &OperationRules, consts: &proc_macro2::Ident) -> TokenStream {
    // As progenitor names a parameter's type: operation and parameter, in Pascal case.
    let ty = format_ident!(
        "{}{}",
        crate::ops::type_name(op_id),
        crate::ops::type_name(&rules.ids.name)
    );
    let param = rules.ids.name.to_string();
    let doc = format!(
        "The ids of one `{op_id}` request: each validated, duplicates dropped, and all of \
         them within one request under the vendor's limits (`rules::{consts}`), written as \
         the request sends them. For more ids than one request holds, plan them with \
         [`userbatch_core::plan::Planner`] and build one of these per chunk."
    );
    quote! {
        impl types::#ty {
            #[doc = #doc]
            pub fn from_ids<I, S>(ids: I) -> ::std::result::Result<Self, ::userbatch_core::plan::PlanError>
            where
                I: ::std::iter::IntoIterator<Item = S>,
                S: ::std::convert::AsRef<str>,
            {
                let text = ::userbatch_core::plan::Planner::new(&rules::#consts).one_request(ids)?;
                Self::try_from(text).map_err(|e| ::userbatch_core::plan::PlanError::InvalidParameter {
                    name: #param,
                    reason: e.to_string(),
                })
            }
        }
    }
}

/// `Borrowed("text")`.
fn text(s: &str) -> TokenStream {
    quote!(Borrowed(#s))
}

/// `Borrowed(&[Borrowed("a"), ...])`.
fn texts(list: &[userbatch_core::rules::Text]) -> TokenStream {
    let items = list.iter().map(|t| text(t));
    quote!(Borrowed(&[#(#items),*]))
}

fn opt_text(value: Option<&str>) -> TokenStream {
    match value {
        Some(t) => {
            let t = text(t);
            quote!(Some(#t))
        }
        None => quote!(None),
    }
}

fn vendor_tokens(v: &VendorRules) -> TokenStream {
    let (title, base_url) = (text(&v.title), text(&v.default_base_url));
    let throttle = v.throttle_statuses.iter();
    let error_message = opt_text(v.error_message.as_deref());
    let token_url = opt_text(v.token_url.as_deref());
    let reset = match v.rate_limit.reset {
        ResetForm::Auto => quote!(ResetForm::Auto),
        ResetForm::Seconds => quote!(ResetForm::Seconds),
        ResetForm::EpochSeconds => quote!(ResetForm::EpochSeconds),
    };
    let window = match v.rate_limit.window_s {
        Some(w) => quote!(Some(#w)),
        None => quote!(None),
    };
    let scope = opt_text(v.scope.as_deref());
    let auth = v.auth.iter().map(|a| match a {
        AuthScheme::Bearer => quote!(AuthScheme::Bearer),
        AuthScheme::Basic => quote!(AuthScheme::Basic),
        AuthScheme::ClientCredentials => quote!(AuthScheme::ClientCredentials),
    });
    let template = text(&v.base_url_template);
    let vars = v.server_variables.iter().map(|var| {
        let (name, default, description) =
            (text(&var.name), text(&var.default), text(&var.description));
        let values = texts(&var.values);
        quote!(ServerVariable {
            name: #name,
            default: #default,
            values: #values,
            description: #description,
        })
    });
    quote! {
        VendorRules {
            title: #title,
            default_base_url: #base_url,
            throttle_statuses: Borrowed(&[#(#throttle),*]),
            error_message: #error_message,
            token_url: #token_url,
            scope: #scope,
            auth: Borrowed(&[#(#auth),*]),
            base_url_template: #template,
            server_variables: Borrowed(&[#(#vars),*]),
            rate_limit: RateLimitHeaders { reset: #reset, window_s: #window },
        }
    }
}

/// What the spec documents of an operation's answers, as `Answers`: the media types of its
/// 2xx answers, and, where unknown ids can fail a request, the not-found answer (its
/// status, media types and body schema, checked by decoding into the generated type). Only
/// that documented answer lets the engine call a single id missing.
fn answers_tokens(spec: &Spec, op: &Value, rules: &OperationRules) -> Result<TokenStream> {
    let responses = op
        .get("responses")
        .and_then(Value::as_object)
        .context("no responses")?;
    let mut success = Vec::new();
    for (status, response) in responses {
        if !status.starts_with('2') {
            continue;
        }
        let response = spec.resolve_all(response)?;
        for media in response
            .get("content")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|c| c.keys())
        {
            if !success.contains(media) {
                success.push(media.clone());
            }
        }
    }
    let success = success.iter().map(|m| text(m));
    let not_found = match rules.unknown_ids.not_found_status() {
        None => quote!(None),
        Some(status) => {
            let (types, schema, json_type) = not_found_answer(spec, responses, status)?;
            let types = types.iter().map(|m| text(m));
            let ty = format_ident!("{}", schema);
            let json_type = format_ident!("{}", json_type);
            quote!(Some(NotFound {
                status: #status,
                content_types: Borrowed(&[#(#types),*]),
                body: BodySchema {
                    name: #schema,
                    json_type: JsonType::#json_type,
                    decodes: |body| ::serde_json::from_slice::<super::types::#ty>(body).is_ok(),
                },
            }))
        }
    };
    Ok(quote!(Answers {
        success: Borrowed(&[#(#success),*]),
        not_found: #not_found,
    }))
}

/// The documented answer of `status`: its media types, the name of its body's schema (a
/// `$ref` to `components.schemas`) and that schema's JSON type (as `JsonType` names it).
pub fn not_found_answer(
    spec: &Spec,
    responses: &serde_json::Map<String, Value>,
    status: u16,
) -> Result<(Vec<String>, String, &'static str)> {
    let response = responses.get(&status.to_string()).with_context(|| {
        format!("unknown ids fail a request with {status}, but no {status} response is documented")
    })?;
    let response = spec.resolve_all(response)?;
    let content = response
        .get("content")
        .and_then(Value::as_object)
        .filter(|c| !c.is_empty())
        .with_context(|| format!("the {status} response documents no body"))?;
    let json = content
        .get("application/json")
        .with_context(|| format!("the {status} response has no application/json body"))?;
    let reference = json
        .pointer("/schema/$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
        .with_context(|| {
            format!("the {status} response's body schema must be a $ref to components.schemas")
        })?;
    let schema = spec.resolve_all(json.get("schema").unwrap_or(&Value::Null))?;
    let json_type = match schema.get("type").and_then(Value::as_str) {
        Some("object") => "Object",
        None if schema.get("properties").is_some() => "Object",
        Some("array") => "Array",
        Some("string") => "String",
        Some("integer" | "number") => "Number",
        Some("boolean") => "Boolean",
        other => bail!(
            "the {status} response's schema `{reference}` has no JSON type to check ({other:?})"
        ),
    };
    Ok((
        content.keys().cloned().collect(),
        reference.to_owned(),
        json_type,
    ))
}

fn operation_tokens(r: &OperationRules, answers: TokenStream) -> TokenStream {
    let op_id = text(&r.operation_id);
    let location = match r.ids.location {
        IdLocation::Path => quote!(IdLocation::Path),
        IdLocation::Query => quote!(IdLocation::Query),
        IdLocation::Body => quote!(IdLocation::Body),
    };
    let encoding = match r.ids.encoding {
        IdEncoding::Single => quote!(IdEncoding::Single),
        IdEncoding::Csv => quote!(IdEncoding::Csv),
        IdEncoding::BracketedCsv => quote!(IdEncoding::BracketedCsv),
        IdEncoding::JsonArray => quote!(IdEncoding::JsonArray),
    };
    let kind = match r.ids.kind {
        IdKind::Integer => quote!(IdKind::Integer),
        IdKind::String => quote!(IdKind::String),
    };
    let (id_name, forbidden) = (text(&r.ids.name), text(&r.ids.forbidden_chars));
    let case_insensitive = r.ids.case_insensitive;
    let opt = |v: Option<usize>| match v {
        Some(n) => quote!(Some(#n)),
        None => quote!(None),
    };
    let max_ids = opt(r.limits.max_ids);
    let max_query = opt(r.limits.max_query_bytes);
    let max_segment = opt(r.limits.max_segment_chars);
    let pointer = text(&r.records.pointer);
    let many = r.records.many;
    let id_field = text(&r.records.id_field);
    let secrets = texts(&r.records.secrets);
    let paging = match &r.paging {
        None => quote!(None),
        Some(p) => {
            let (ip, sp, tp) = (
                text(&p.index_param),
                text(&p.size_param),
                text(&p.total_pointer),
            );
            let (fi, ds) = (p.first_index, p.default_size);
            quote!(Some(Paging {
                index_param: #ip,
                size_param: #sp,
                first_index: #fi,
                default_size: #ds,
                total_pointer: #tp,
            }))
        }
    };
    let partial = match &r.partial {
        None => quote!(None),
        Some(p) => {
            let (of, full, fields) = (
                text(&p.of),
                text(&p.full_operation_id),
                texts(&p.unpopulated),
            );
            quote!(Some(Partial {
                of: #of,
                full_operation_id: #full,
                unpopulated: #fields,
            }))
        }
    };
    let unknown = match r.unknown_ids {
        UnknownIds::Omitted => quote!(UnknownIds::Omitted),
        UnknownIds::FailsRequest(s) => quote!(UnknownIds::FailsRequest(#s)),
        UnknownIds::OmittedOrFailsRequest(s) => quote!(UnknownIds::OmittedOrFailsRequest(#s)),
    };
    let attributes = match &r.attributes {
        None => quote!(None),
        Some(a) => {
            let (param, all, prefix) = (text(&a.param), text(&a.all), text(&a.custom_prefix));
            let (summary, values, single) = (
                texts(&a.summary),
                texts(&a.values),
                texts(&a.single_id_only),
            );
            quote!(Some(Attributes {
                param: #param,
                summary: #summary,
                values: #values,
                all: #all,
                custom_prefix: #prefix,
                single_id_only: #single,
            }))
        }
    };
    let resource = text(&r.resource);
    let update = opt_text(r.update_operation.as_deref());
    let skipped = r.skip_parameters.iter().map(|p| {
        let (name, why) = (text(&p.name), text(&p.why));
        quote!(SkippedParameter { name: #name, why: #why })
    });
    quote! {
        OperationRules {
            operation_id: #op_id,
            resource: #resource,
            ids: Ids {
                location: #location,
                name: #id_name,
                encoding: #encoding,
                kind: #kind,
                forbidden_chars: #forbidden,
                case_insensitive: #case_insensitive,
            },
            limits: Limits {
                max_ids: #max_ids,
                max_query_bytes: #max_query,
                max_segment_chars: #max_segment,
            },
            records: Records {
                pointer: #pointer,
                many: #many,
                id_field: #id_field,
                secrets: #secrets,
            },
            paging: #paging,
            partial: #partial,
            unknown_ids: #unknown,
            attributes: #attributes,
            update_operation: #update,
            skip_parameters: Borrowed(&[#(#skipped),*]),
            answers: #answers,
        }
    }
}

/// `getUsersByIds` -> `GET_USERS_BY_IDS`.
pub fn screaming_snake(s: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push('_');
            prev_lower = false;
        }
    }
    out
}

/// Generates every vendor's file; with `check`, compares instead of writing and fails with
/// a diff when anything is stale.
pub fn run(root: &Path, check: bool) -> Result<()> {
    let mut stale = Vec::new();
    let mut outputs = Vec::new();
    let mut specs = Vec::new();
    for vendor in vendors(root)? {
        let spec = Spec::load(root, &vendor.spec_rel())?;
        let dir = format!("crates/{}", vendor.name);
        let has_docs = root.join(&dir).join("DOCS.md").exists();
        outputs.push((
            format!("{dir}/Cargo.toml"),
            crate::scaffold::manifest(&vendor, &spec)?,
        ));
        outputs.push((
            format!("{dir}/src/lib.rs"),
            crate::scaffold::lib_rs(&vendor, &spec, has_docs)?,
        ));
        outputs.push((vendor.generated_rel(), generate_source(&spec)?));
        outputs.push((vendor.mock_spec_rel(), mock_spec(&spec)?));
        specs.push((vendor, spec));
    }
    outputs.push((FACADE_VENDORS.to_owned(), facade_vendors(&specs)?));
    outputs.push((MOCK_VENDORS.to_owned(), mock_vendors(&specs)?));
    let names: Vec<String> = specs.iter().map(|(v, _)| v.name.clone()).collect();
    for rel in ["Cargo.toml", "crates/userbatch/Cargo.toml"] {
        let text = fs::read_to_string(root.join(rel)).with_context(|| format!("reading {rel}"))?;
        let filled =
            crate::scaffold::fill_sections(rel, &text, |s| crate::scaffold::section(s, &names))?;
        outputs.push((rel.to_owned(), filled));
    }
    {
        for (rel, fresh) in outputs {
            let target = root.join(&rel);
            let current = fs::read_to_string(&target).unwrap_or_default();
            if current == fresh {
                println!("{rel}: up to date ({} lines)", fresh.lines().count());
                continue;
            }
            if check {
                eprintln!("{rel} is stale; `cargo xtask generate` would change it:");
                eprintln!("{}", unified_diff(&current, &fresh, &rel));
                stale.push(rel);
            } else {
                if let Some(dir) = target.parent() {
                    fs::create_dir_all(dir)
                        .with_context(|| format!("creating {}", dir.display()))?;
                }
                fs::write(&target, &fresh).with_context(|| format!("writing {rel}"))?;
                println!("{rel}: written ({} lines)", fresh.lines().count());
            }
        }
    }
    // A vendor crate whose spec is gone: generated files nothing regenerates.
    for entry in fs::read_dir(root.join("crates")).context("reading crates/")? {
        let dir = entry?.path();
        let Some(name) = dir.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            continue;
        };
        let lib = fs::read_to_string(dir.join("src/lib.rs")).unwrap_or_default();
        if lib.starts_with("// @generated by `cargo xtask generate`") && !names.contains(&name) {
            eprintln!(
                "crates/{name} was generated from specs/{name}.yaml, which is gone: delete \
                 crates/{name} and crates/userbatch-mock/specs/{name}.json"
            );
            stale.push(format!("crates/{name}"));
        }
    }
    if !stale.is_empty() {
        bail!(
            "stale generated code: {}; run `cargo xtask generate` and review the diff",
            stale.join(", ")
        );
    }
    Ok(())
}

/// The facade's module of vendor crates.
pub const FACADE_VENDORS: &str = "crates/userbatch/src/vendors.rs";

/// `crates/userbatch/src/vendors.rs`: each vendor crate re-exported by the facade, behind
/// the feature of its name.
fn facade_vendors(specs: &[(crate::spec::VendorSpec, Spec)]) -> Result<String> {
    let mut items = Vec::new();
    let mut entries = Vec::new();
    let mut builders = Vec::new();
    for (vendor, spec) in specs {
        let name = format_ident!("{}", vendor.name);
        let feature = &vendor.name;
        let rules = spec.vendor_rules()?;
        // Resources in the order of their first operation (paths sorted).
        let mut resources: Vec<(String, Vec<TokenStream>)> = Vec::new();
        for (_, _, op) in spec.operations() {
            let Some(op_rules) = spec.operation_rules(op)? else {
                continue;
            };
            let op_id = &*op_rules.operation_id;
            let ty = format_ident!("{}", crate::ops::type_name(op_id));
            let konst = format_ident!("{}", screaming_snake(op_id));
            let build = format_ident!("build_{}_{}", vendor.name, crate::ops::snake(op_id));
            let doc = format!(" Builds `{}::{ty}` from a config and options.", vendor.name);
            builders.push(quote! {
                #[cfg(feature = #feature)]
                #[doc = #doc]
                fn #build(
                    config: ::userbatch_core::ClientConfig,
                    options: &[(&str, &str)],
                ) -> ::std::result::Result<AnyOperation, BuildError> {
                    let client = ::#name::Client::from_config(config)?;
                    Ok(AnyOperation::new(::#name::#ty::from_options(client, options)?))
                }
            });
            let entry = quote! {
                OperationEntry {
                    rules: &::#name::rules::#konst,
                    options: ::#name::#ty::OPTIONS,
                    build: #build,
                }
            };
            match resources.iter_mut().find(|(r, _)| *r == *op_rules.resource) {
                Some((_, ops)) => ops.push(entry),
                None => resources.push((op_rules.resource.to_string(), vec![entry])),
            }
        }
        let resources = resources
            .iter()
            .map(|(r, ops)| quote!(Resource { name: #r, operations: &[#(#ops),*] }));
        let vendor_name = &vendor.name;
        entries.push(quote! {
            #[cfg(feature = #feature)]
            Vendor {
                name: #vendor_name,
                rules: &::#name::rules::VENDOR,
                resources: &[#(#resources),*],
            }
        });
        let doc = format!(
            " {}: the generated `{}` crate (from `{}`), with a batch operation type per \
             operation of its spec's `x-userbatch`.",
            rules.title, vendor.name, spec.rel
        );
        items.push(quote! {
            #[cfg(feature = #feature)]
            #[doc = #doc]
            #[doc(inline)]
            pub use ::#name;
        });
    }
    let file: syn::File = syn::parse2(quote! {
        //! The vendor crates, one per spec in `specs/`, each behind the feature of its name,
        //! and the registry of their batch operations ([`crate::registry`]).
        #[allow(unused_imports)]
        use crate::registry::{AnyOperation, BuildError, OperationEntry, Resource, Vendor};

        #(#items)*

        /// Every vendor of this build.
        pub(crate) static REGISTRY: &[Vendor] = &[#(#entries),*];

        #(#builders)*
    })?;
    Ok(format!(
        "// @generated by `cargo xtask generate` from specs/*.yaml.\n\
         // Do not edit: add or change a spec, then regenerate.\n\n{}",
        prettyplease::unparse(&file)
    ))
}

/// The mock's list of vendors.
pub const MOCK_VENDORS: &str = "crates/userbatch-mock/src/vendor.rs";

/// `crates/userbatch-mock/src/vendor.rs`: the mock's `Vendor`, one per spec, with the spec
/// as JSON compiled in.
fn mock_vendors(specs: &[(crate::spec::VendorSpec, Spec)]) -> Result<String> {
    let mut variants = Vec::new();
    let mut names = Vec::new();
    let mut jsons = Vec::new();
    let mut all = Vec::new();
    for (vendor, spec) in specs {
        let variant = format_ident!("{}", crate::ops::type_name(&vendor.name));
        let doc = format!(" {} (`{}`).", spec.vendor_rules()?.title, spec.rel);
        let name = &vendor.name;
        let json = format!("../specs/{name}.json");
        variants.push(quote!(#[doc = #doc] #variant));
        names.push(quote!(Self::#variant => #name));
        jsons.push(quote!(Self::#variant => include_str!(#json)));
        all.push(quote!(Vendor::#variant));
    }
    let count = specs.len();
    let file: syn::File = syn::parse2(quote! {
        //! The vendors the mock serves: one per spec in `specs/`.

        /// One of the vendor APIs the mock serves (one per spec in `specs/`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Vendor {
            #(#variants),*
        }

        impl Vendor {
            /// Every vendor, by name.
            pub const ALL: [Vendor; #count] = [#(#all),*];

            /// The spec's file stem (the vendor crate's name), e.g. `nexudus`.
            pub fn name(self) -> &'static str {
                match self {
                    #(#names),*
                }
            }

            /// The vendor's spec as JSON (`cargo xtask generate` writes it beside the YAML).
            pub(crate) fn spec_json(self) -> &'static str {
                match self {
                    #(#jsons),*
                }
            }

            pub(crate) fn index(self) -> usize {
                self as usize
            }
        }
    })?;
    Ok(format!(
        "// @generated by `cargo xtask generate` from specs/*.yaml.\n\
         // Do not edit: add or change a spec, then regenerate.\n\n{}",
        prettyplease::unparse(&file)
    ))
}

/// The spec as JSON, for the mock: it reads the schemas its records follow from this, so
/// it parses no YAML at run time (and needs no YAML crate).
fn mock_spec(spec: &Spec) -> Result<String> {
    Ok(serde_json::to_string_pretty(&spec.raw)? + "\n")
}

/// The generated source for one vendor.
pub fn generate_vendor(root: &Path, vendor: &VendorSpec) -> Result<String> {
    let spec = Spec::load(root, &vendor.spec_rel())?;
    generate_source(&spec)
}

fn unified_diff(old: &str, new: &str, name: &str) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string();
    const MAX: usize = 20_000;
    if text.len() > MAX {
        let mut cut = MAX;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        format!(
            "{}\n... ({} more bytes of diff)",
            &text[..cut],
            text.len() - cut
        )
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
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
}
