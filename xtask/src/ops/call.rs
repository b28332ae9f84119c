//! How `Operation::send` calls the generated client method: each input of progenitor's
//! method becomes the ids (in the path, the query or the body), the page, a field of the
//! body, `Accept`'s JSON default, `None` for a skipped parameter, the selected attributes,
//! or an option of the batch type.

use anyhow::{Context, Result, bail};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::spec::{IdEncoding, IdLocation, OperationRules, Spec};

use super::options::{Opt, RESERVED, default_value, kind_tokens, opt_base, spec_param};
use super::signature::{is_str, method, option_inner, reference_inner, struct_fields};
use super::snake;

/// The call of the generated method, and the options it takes from the batch type.
pub(super) struct Call {
    /// What `send` runs before the call (the ids parsed or planned, the body built).
    pub(super) prepare: Vec<TokenStream>,
    /// The method's arguments, in order.
    pub(super) args: Vec<TokenStream>,
    /// The batch type's options, in the order of the method's inputs.
    pub(super) opts: Vec<Opt>,
    /// A paged operation's page-size input and the rules' default size.
    pub(super) page_size: Option<(syn::Ident, u32)>,
}

/// The call of the method of `rules`' operation (at `path`) in the generated `file`.
pub(super) fn call(
    spec: &Spec,
    file: &syn::File,
    path: &str,
    op: &Value,
    rules: &OperationRules,
) -> Result<Call> {
    let op_id = &*rules.operation_id;
    let consts = format_ident!("{}", crate::generate::screaming_snake(op_id));
    let (inputs, _) = method(file, &snake(op_id))?;
    let ids_name = snake(&rules.ids.name);
    let paging = rules.paging.as_ref();
    let attributes_param = rules.attributes.as_ref().map(|a| snake(&a.param));
    let skipped: Vec<String> = rules
        .skip_parameters
        .iter()
        .map(|p| snake(&p.name))
        .collect();

    let mut prepare = Vec::new();
    let mut args = Vec::new();
    let mut opts: Vec<Opt> = Vec::new();
    let mut page_size = None;
    for input in &inputs {
        let ident = if RESERVED.contains(&input.name.as_str()) {
            format_ident!("{}_param", input.name)
        } else {
            format_ident!("{}", input.name)
        };
        let ty = &input.ty;
        if input.name == "body" && op.get("requestBody").is_some() {
            // Each field of the body is an option, but the one the ids go in, if they do.
            let syn::Type::Reference(r) = ty else {
                bail!("{op_id}: the body is not taken by reference")
            };
            let syn::Type::Path(body_path) = &*r.elem else {
                bail!("{op_id}: an unexpected body type")
            };
            let body_name = body_path
                .path
                .segments
                .last()
                .context("body type")?
                .ident
                .to_string();
            let fields = struct_fields(file, &body_name)?;
            // The body's schema as the spec writes it (whatever its Rust name).
            let body_schema = op
                .pointer("/requestBody/content/application~1json/schema")
                .and_then(|s| spec.resolve_all(s).ok());
            let properties = body_schema
                .and_then(|s| s.get("properties"))
                .and_then(Value::as_object);
            let required_fields: Vec<&str> = body_schema
                .and_then(|s| s.get("required"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let in_body = rules.ids.location == IdLocation::Body;
            let ids_field = if in_body {
                snake(&rules.ids.name)
            } else {
                String::new()
            };
            if in_body && !fields.iter().any(|(f, _)| *f == ids_field) {
                bail!("{op_id}: the body `{body_name}` has no field `{ids_field}` for the ids");
            }
            let mut init = Vec::new();
            for (field, fty) in fields {
                let f = format_ident!("{}", field);
                if field == ids_field {
                    let kind = kind_tokens(rules.ids.kind);
                    init.push(quote! {
                        #f: ids
                            .iter()
                            .map(|id| ::userbatch_core::parse_id(id, #kind))
                            .collect::<::std::result::Result<_, _>>()?
                    });
                    continue;
                }
                let taken =
                    inputs.iter().any(|i| i.name == field) || RESERVED.contains(&field.as_str());
                let body_field = if taken {
                    format_ident!("body_{}", field)
                } else {
                    format_ident!("{}", field)
                };
                init.push(quote!(#f: self.#body_field.clone()));
                let schema =
                    properties.and_then(|props| props.iter().find(|(k, _)| snake(k) == field));
                let doc = schema
                    .and_then(|(_, s)| s.get("description"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                let spec_name = schema.map_or(field.clone(), |(k, _)| k.clone());
                let required = required_fields.contains(&spec_name.as_str());
                let default = schema.and_then(|(_, s)| {
                    default_value(spec, &serde_json::json!({ "schema": s }), &fty)
                });
                let init_value = if option_inner(&fty).is_some() {
                    Some(quote!(None))
                } else if let Some(d) = default {
                    Some(d)
                } else if !required {
                    Some(quote!(::std::default::Default::default()))
                } else {
                    None
                };
                let (arg, store) = match option_inner(&fty) {
                    Some(inner) => (quote!(#inner), quote!(Some(value))),
                    None => (quote!(#fty), quote!(value)),
                };
                let body_schema = schema
                    .map(|(_, s)| s)
                    .and_then(|s| spec.resolve_all(s).ok());
                opts.push(Opt {
                    ty: quote!(#fty),
                    arg,
                    store,
                    init: init_value,
                    ..opt_base(&body_field, &spec_name, "body", &doc, body_schema)
                });
            }
            prepare.push(quote! {
                let body = #body_path { #(#init),* };
            });
            args.push(quote!(&body));
            continue;
        }
        if input.name == ids_name && rules.ids.location != IdLocation::Body {
            match rules.ids.encoding {
                IdEncoding::Single => match reference_inner(ty) {
                    Some(inner) if is_str(inner) => {
                        prepare.push(quote! {
                            let [#ident] = ids else {
                                return Err(::userbatch_core::refused("not one id"));
                            };
                        });
                        args.push(quote!(#ident));
                    }
                    Some(_) => bail!("{op_id}: a single id taken by reference"),
                    None => {
                        let kind = kind_tokens(rules.ids.kind);
                        prepare.push(quote! {
                            let #ident: #ty = ::userbatch_core::one_id(ids, #kind)?;
                        });
                        args.push(quote!(#ident));
                    }
                },
                IdEncoding::Csv | IdEncoding::BracketedCsv => {
                    let inner = reference_inner(ty)
                        .with_context(|| format!("{op_id}: the id list is not a reference"))?;
                    if is_str(inner) {
                        // An unconstrained string: the planner writes it.
                        prepare.push(quote! {
                            let #ident = ::userbatch_core::plan::Planner::new(&rules::#consts)
                                .one_request(ids)
                                .map_err(::userbatch_core::refused)?;
                        });
                    } else {
                        prepare.push(quote! {
                            let #ident = #inner::from_ids(ids).map_err(::userbatch_core::refused)?;
                        });
                    }
                    args.push(quote!(&#ident));
                }
                IdEncoding::JsonArray => {
                    bail!("{op_id}: a JSON array of ids goes in the body")
                }
            }
            continue;
        }
        if let Some(p) = paging {
            let which = if input.name == snake(&p.index_param) {
                Some(quote!(page.index))
            } else if input.name == snake(&p.size_param) {
                Some(quote!(page.size))
            } else {
                None
            };
            if let Some(value) = which {
                let convert = quote! {
                    ::std::convert::TryFrom::try_from(#value)
                        .map_err(|_| ::userbatch_core::refused("a page out of the parameter's range"))?
                };
                args.push(if option_inner(ty).is_some() {
                    quote!(Some(#convert))
                } else {
                    quote!(#convert)
                });
                if input.name == snake(&p.size_param) {
                    page_size = Some((format_ident!("{}", input.name), p.default_size));
                }
                continue;
            }
        }
        if skipped.contains(&input.name) {
            if option_inner(ty).is_none() {
                bail!("{op_id}: `{}` is skipped but required", input.name);
            }
            args.push(quote!(None));
            continue;
        }
        let (spec_name, location, _required, param) = spec_param(spec, path, op, &input.name)
            .with_context(|| format!("{op_id}: no spec parameter for `{}`", input.name))?;
        let doc = param
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let param_schema = param.get("schema").and_then(|s| spec.resolve_all(s).ok());
        if location == "header" && spec_name.eq_ignore_ascii_case("accept") {
            // The engine reads JSON: `Accept` stays at the spec's default, which lint holds
            // to a JSON media type.
            let default = param
                .get("schema")
                .and_then(|s| spec.resolve_all(s).ok())
                .and_then(|s| s.get("default"))
                .and_then(Value::as_str);
            let Some(default) = default.filter(|d| d.contains("json")) else {
                bail!("{op_id}: an `Accept` parameter needs a JSON media type as its default");
            };
            args.push(match (option_inner(ty), reference_inner(ty)) {
                (Some(inner), _) if reference_inner(inner).is_some_and(is_str) => {
                    quote!(Some(#default))
                }
                (Some(_), _) => quote!(Some(::std::default::Default::default())),
                (None, Some(r)) if is_str(r) => quote!(#default),
                _ => quote!(::std::default::Default::default()),
            });
            continue;
        }
        if attributes_param.as_deref() == Some(&input.name) {
            // Set through `attributes()`, which checks the names against the rules.
            args.push(quote!(self.attributes.as_deref()));
            continue;
        }
        let opt = match (option_inner(ty), reference_inner(ty)) {
            (Some(inner), _) => match reference_inner(inner) {
                Some(s) if is_str(s) => Opt {
                    ty: quote!(Option<String>),
                    arg: quote!(impl Into<String>),
                    store: quote!(Some(value.into())),
                    pass: quote!(self.#ident.as_deref()),
                    init: Some(quote!(None)),
                    ..opt_base(&ident, &spec_name, &location, &doc, param_schema)
                },
                Some(t) => Opt {
                    ty: quote!(Option<#t>),
                    arg: quote!(#t),
                    store: quote!(Some(value)),
                    pass: quote!(self.#ident.as_ref()),
                    init: Some(quote!(None)),
                    ..opt_base(&ident, &spec_name, &location, &doc, param_schema)
                },
                None => Opt {
                    ty: quote!(#ty),
                    arg: quote!(#inner),
                    store: quote!(Some(value)),
                    pass: quote!(self.#ident.clone()),
                    init: Some(quote!(None)),
                    ..opt_base(&ident, &spec_name, &location, &doc, param_schema)
                },
            },
            (None, Some(s)) if is_str(s) => Opt {
                ty: quote!(String),
                arg: quote!(impl Into<String>),
                store: quote!(value.into()),
                pass: quote!(&self.#ident),
                init: default_value(spec, param, ty),
                ..opt_base(&ident, &spec_name, &location, &doc, param_schema)
            },
            (None, Some(t)) => Opt {
                ty: quote!(#t),
                arg: quote!(#t),
                store: quote!(value),
                pass: quote!(&self.#ident),
                init: default_value(spec, param, t),
                ..opt_base(&ident, &spec_name, &location, &doc, param_schema)
            },
            (None, None) => Opt {
                ty: quote!(#ty),
                arg: quote!(#ty),
                store: quote!(value),
                pass: quote!(self.#ident.clone()),
                init: default_value(spec, param, ty),
                ..opt_base(&ident, &spec_name, &location, &doc, param_schema)
            },
        };
        args.push(opt.pass.clone());
        opts.push(opt);
    }
    Ok(Call {
        prepare,
        args,
        opts,
        page_size,
    })
}
