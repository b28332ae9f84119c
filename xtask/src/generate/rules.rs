//! `pub mod rules` of a generated crate: the spec's `x-userbatch` facts as
//! `userbatch_core::rules` constants, each operation's answers, and the id types.

use anyhow::{Context, Result, bail};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::spec::{
    AuthScheme, IdEncoding, IdKind, IdLocation, OperationRules, ResetForm, Spec, UnknownIds,
    VendorRules,
};

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
pub(super) fn rules_and_id_types(spec: &Spec) -> Result<(TokenStream, Vec<(String, TokenStream)>)> {
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

/// JSON pointers of the `format: password` properties of `schema` (through `$ref`s,
/// nested objects and arrays, which the pointers pass through: the redactor reads an array
/// as each of its elements), for the rules' `secrets`.
pub(super) fn secret_pointers(
    spec: &Spec,
    schema: &Value,
    prefix: &str,
    out: &mut Vec<String>,
) -> Result<()> {
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
