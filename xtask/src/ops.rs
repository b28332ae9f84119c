//! Batch operations: for every operation with `x-userbatch`, a type in the vendor crate that
//! implements `userbatch_core::Operation` through the generated client.
//!
//! The type is named after the `operationId` (`getUsers`: `GetUsers`). Every parameter of
//! the generated client method that is not an id or a page becomes a typed option of it:
//! a constructor argument when the spec requires it and gives no default, a setter
//! otherwise. Parameters come from progenitor's own method signature (read back from the
//! generated tokens), so their Rust types are exactly the ones the method takes.

use anyhow::{Context, Result, bail};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

use crate::spec::{IdEncoding, IdLocation, OperationRules, Spec};

/// A name as progenitor and typify make it an identifier: heck's case, characters that
/// cannot continue an identifier as word breaks, a leading digit prefixed, a keyword
/// suffixed with `_`.
fn sanitize(input: &str, pascal: bool, digit_prefix: &str) -> String {
    use heck::{ToPascalCase, ToSnakeCase};
    let cleaned = input
        .replace('\'', "")
        .replace(|c: char| !(c.is_alphanumeric() || c == '_'), "-");
    let out = if pascal {
        cleaned.to_pascal_case()
    } else {
        cleaned.to_snake_case()
    };
    let out = match out.chars().next() {
        None => digit_prefix.to_owned() + "x",
        Some(c) if c.is_alphabetic() || c == '_' => out,
        Some(_) => format!("{digit_prefix}{out}"),
    };
    if syn::parse_str::<syn::Ident>(&out).is_ok() {
        out
    } else {
        format!("{out}_")
    }
}

/// The type name of an operation, as progenitor names the operation's types:
/// `getUsersByIds` -> `GetUsersByIds`.
pub fn type_name(op_id: &str) -> String {
    sanitize(op_id, true, "_")
}

/// A schema's type name, as typify makes it: `UserDTO` -> `UserDto`.
pub fn schema_type_name(name: &str) -> String {
    sanitize(name, true, "X")
}

/// A name as progenitor writes a parameter or method: `Accept-Language` -> `accept_language`,
/// `$attribute` -> `attribute`, `getUsers` -> `get_users`, `type` -> `type_`.
pub fn snake(name: &str) -> String {
    sanitize(name, false, "_")
}

/// One input of a generated client method.
struct Input {
    name: String,
    ty: syn::Type,
}

/// The generated client method `name`: its inputs (without `&self`) and return type.
fn method<'a>(file: &'a syn::File, name: &str) -> Result<(Vec<Input>, &'a syn::ReturnType)> {
    for item in &file.items {
        let syn::Item::Impl(block) = item else {
            continue;
        };
        if block.trait_.is_some() {
            continue;
        }
        for item in &block.items {
            let syn::ImplItem::Fn(f) = item else { continue };
            if f.sig.ident != name {
                continue;
            }
            let inputs = f
                .sig
                .inputs
                .iter()
                .filter_map(|arg| match arg {
                    syn::FnArg::Typed(t) => match &*t.pat {
                        syn::Pat::Ident(p) => Some(Input {
                            name: p.ident.to_string(),
                            ty: (*t.ty).clone(),
                        }),
                        _ => None,
                    },
                    syn::FnArg::Receiver(_) => None,
                })
                .collect();
            return Ok((inputs, &f.sig.output));
        }
    }
    bail!("the generated client has no method `{name}`")
}

/// The fields of `types::<name>` in the generated code, with their types.
fn struct_fields(file: &syn::File, name: &str) -> Result<Vec<(String, syn::Type)>> {
    for item in &file.items {
        let syn::Item::Mod(module) = item else {
            continue;
        };
        if module.ident != "types" {
            continue;
        }
        for item in module.content.iter().flat_map(|(_, items)| items) {
            let syn::Item::Struct(s) = item else { continue };
            if s.ident != name {
                continue;
            }
            return Ok(s
                .fields
                .iter()
                .filter_map(|f| Some((f.ident.as_ref()?.to_string(), f.ty.clone())))
                .collect());
        }
    }
    bail!("the generated code has no struct `types::{name}`")
}

/// Whether the generated code has `types::<name>`.
pub fn has_type(file: &syn::File, name: &str) -> bool {
    struct_fields(file, name).is_ok()
}

/// `Option<T>` -> `Some(T)`.
fn option_inner(ty: &syn::Type) -> Option<&syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    }
}

/// `&'a T` -> `Some(T)`.
fn reference_inner(ty: &syn::Type) -> Option<&syn::Type> {
    match ty {
        syn::Type::Reference(r) => Some(&r.elem),
        _ => None,
    }
}

fn is_str(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.is_ident("str"))
}

/// The two generic arguments of `Result<ResponseValue<A>, Error<E>>`.
fn update_types(output: &syn::ReturnType) -> Result<(syn::Type, syn::Type)> {
    let syn::ReturnType::Type(_, ty) = output else {
        bail!("returns nothing")
    };
    let inner = |ty: &syn::Type| -> Option<syn::Type> {
        let syn::Type::Path(p) = ty else { return None };
        let syn::PathArguments::AngleBracketed(args) = &p.path.segments.last()?.arguments else {
            return None;
        };
        match args.args.first()? {
            syn::GenericArgument::Type(t) => Some(t.clone()),
            _ => None,
        }
    };
    let syn::Type::Path(p) = &**ty else {
        bail!("an unexpected return type")
    };
    let syn::PathArguments::AngleBracketed(args) = &p.path.segments.last().context("?")?.arguments
    else {
        bail!("an unexpected return type")
    };
    let mut types = args.args.iter().filter_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    });
    let ok = types.next().and_then(inner).context("no answer type")?;
    let err = types.next().and_then(inner).context("no error type")?;
    Ok((ok, err))
}

/// `IdKind::...` as a path.
fn kind_tokens(kind: crate::spec::IdKind) -> TokenStream {
    match kind {
        crate::spec::IdKind::Integer => quote!(::userbatch_core::rules::IdKind::Integer),
        crate::spec::IdKind::String => quote!(::userbatch_core::rules::IdKind::String),
    }
}

/// Names the batch type has of its own: an option of one of these names is `<name>_param`.
const RESERVED: &[&str] = &[
    "client",
    "new",
    "from_options",
    "attributes",
    "attribute_rules",
    "requested_attributes",
    "returns",
    "full",
    "update",
];

/// How one option is held, set and passed.
struct Opt {
    /// The Rust name (field and setter).
    field: syn::Ident,
    /// The parameter's name in the spec.
    spec_name: String,
    /// The field's type.
    ty: TokenStream,
    /// The setter's argument type.
    arg: TokenStream,
    /// How the setter stores its argument.
    store: TokenStream,
    /// How the method is passed the field.
    pass: TokenStream,
    /// The initial value; `None`: a constructor argument.
    init: Option<TokenStream>,
    /// A path parameter: held to one segment.
    path: bool,
    /// The spec's description.
    doc: String,
    /// The values its schema lists (`enum`).
    values: Vec<String>,
    /// Its schema's default, as text.
    default: Option<String>,
    /// A comma-separated list.
    list: bool,
}

/// `OptionSpec { .. }` for `o`.
fn option_spec(o: &Opt, required: bool, list: bool) -> TokenStream {
    let name = &o.spec_name;
    let flag = snake(name).replace('_', "-");
    let help = o.doc.split_whitespace().collect::<Vec<_>>().join(" ");
    let values = &o.values;
    let default = match &o.default {
        Some(d) => quote!(Some(#d)),
        None => quote!(None),
    };
    let list = list || o.list;
    quote! {
        ::userbatch_core::OptionSpec {
            name: #name,
            flag: #flag,
            help: #help,
            required: #required,
            values: &[#(#values),*],
            default: #default,
            list: #list,
        }
    }
}

/// A spec parameter by progenitor's Rust name: (name, in, required, object).
fn spec_param<'a>(
    spec: &'a Spec,
    path: &str,
    op: &'a Value,
    rust_name: &str,
) -> Option<(String, String, bool, &'a Value)> {
    // An operation's own parameter overrides the path's of the same name.
    spec.parameters(path, op).into_iter().find_map(|p| {
        let name = p.get("name")?.as_str()?;
        (snake(name) == rust_name).then(|| {
            (
                name.to_owned(),
                p.get("in").and_then(Value::as_str).unwrap_or("").to_owned(),
                p.get("required").and_then(Value::as_bool).unwrap_or(false),
                p,
            )
        })
    })
}

/// The initial value of a required option from its schema's `default`, if it has one
/// this generator can write.
fn default_value(spec: &Spec, param: &Value, ty: &syn::Type) -> Option<TokenStream> {
    let schema = spec.resolve_all(param.get("schema")?).ok()?;
    let default = schema.get("default")?;
    let type_path = matches!(ty, syn::Type::Path(p) if p.path.segments.first().is_some_and(|s| s.ident == "types"));
    match default {
        _ if type_path => Some(quote!(::std::default::Default::default())),
        Value::String(s)
            if reference_inner(ty).is_some_and(is_str)
                || matches!(ty, syn::Type::Path(p) if p.path.is_ident("String")) =>
        {
            Some(quote!(::std::string::String::from(#s)))
        }
        Value::Bool(b) => Some(quote!(#b)),
        Value::Number(n) if n.is_i64() => {
            let lit = Literal::i64_unsuffixed(n.as_i64()?);
            Some(quote!(#lit))
        }
        _ => None,
    }
}

/// One operation's batch type and its impls.
pub fn operation_tokens(
    spec: &Spec,
    file: &syn::File,
    (path, method_name_up): (&str, &str),
    op: &Value,
    rules: &OperationRules,
    record: &str,
) -> Result<Generated> {
    let op_id = &*rules.operation_id;
    let name = format_ident!("{}", type_name(op_id));
    let consts = format_ident!("{}", crate::generate::screaming_snake(op_id));
    let (inputs, _) = method(file, &snake(op_id))?;
    let method_name = format_ident!("{}", snake(op_id));
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

    // The struct, its constructor and setters.
    let mut fields = vec![quote!(client: Client)];
    let mut ctor_args = vec![quote!(client: Client)];
    let mut ctor_init = vec![quote!(client)];
    let mut setters = Vec::new();
    let mut segments = Vec::new();
    let mut required_names = Vec::new();
    let mut specs = Vec::new();
    let mut from_required = Vec::new();
    let mut from_optional = Vec::new();
    for o in &opts {
        let (field, ty, arg, store) = (&o.field, &o.ty, &o.arg, &o.store);
        let parse_ty = if arg.to_string().starts_with("impl Into") {
            quote!(String)
        } else {
            arg.clone()
        };
        let spec_name = &o.spec_name;
        specs.push(option_spec(o, o.init.is_none(), false));
        if o.init.is_none() {
            from_required.push(quote! {
                let #field: #parse_ty = ::userbatch_core::parse_option(
                    #spec_name,
                    get(#spec_name).ok_or(::userbatch_core::OptionError::Missing { name: #spec_name })?,
                )?;
            });
        } else {
            from_optional.push(quote! {
                if let Some(value) = get(#spec_name) {
                    op = op.#field(::userbatch_core::parse_option::<#parse_ty>(#spec_name, value)?);
                }
            });
        }
        fields.push(quote!(#field: #ty));
        let doc = if o.doc.is_empty() {
            format!(" `{}`.", o.spec_name)
        } else {
            format!(" `{}`: {}", o.spec_name, o.doc)
        };
        match &o.init {
            Some(init) => {
                ctor_init.push(quote!(#field: #init));
                setters.push(quote! {
                    #[doc = #doc]
                    pub fn #field(mut self, value: #arg) -> Self {
                        self.#field = #store;
                        self
                    }
                });
            }
            None => {
                required_names.push(format!("`{}`", o.spec_name));
                ctor_args.push(quote!(#field: #arg));
                ctor_init.push(quote!(#field: #field.into()));
            }
        }
        // A number or an enum cannot leave its segment; text can.
        if o.path && o.ty.to_string() == "String" {
            let spec_name = &o.spec_name;
            segments.push(quote!((#spec_name, &*self.#field)));
        }
    }
    if let Some(a) = &rules.attributes {
        fields.push(quote!(attributes: Option<String>));
        ctor_init.push(quote!(attributes: None));
        let name = &*a.param;
        let (param, _, _, object) = spec_param(spec, path, op, &snake(name))
            .with_context(|| format!("{op_id}: no parameter {name}"))?;
        let doc = object
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let mut values: Vec<String> = a.values.iter().map(|v| v.to_string()).collect();
        values.push(a.all.to_string());
        let attr = Opt {
            values,
            list: true,
            ..opt_base(&format_ident!("attributes"), &param, "query", &doc, None)
        };
        specs.push(option_spec(&attr, false, true));
        from_optional.push(quote! {
            if let Some(value) = get(#name) {
                op = op.attributes(value.split(',')).map_err(|e| ::userbatch_core::OptionError::Invalid {
                    name: #name,
                    value: value.to_owned(),
                    reason: e.to_string(),
                })?;
            }
        });
    }
    let get = if specs.is_empty() {
        TokenStream::new()
    } else {
        quote!(let get = |name: &str| ::userbatch_core::option_value(given, name);)
    };
    let ctor_names: Vec<TokenStream> = std::iter::once(quote!(client))
        .chain(opts.iter().filter(|o| o.init.is_none()).map(|o| {
            let f = &o.field;
            quote!(#f)
        }))
        .collect();
    let mut op_fns = Vec::new();
    if let Some((field, default)) = &page_size {
        fields.push(quote!(#field: ::std::num::NonZeroU32));
        ctor_init.push(quote!(#field: ::std::num::NonZeroU32::new(#default).unwrap_or(::std::num::NonZeroU32::MIN)));
        let doc = format!(" The page size to ask for (default {default}).");
        setters.push(quote! {
            #[doc = #doc]
            pub fn #field(mut self, size: ::std::num::NonZeroU32) -> Self {
                self.#field = size;
                self
            }
        });
        op_fns.push(quote! {
            fn page_size(&self) -> u32 {
                self.#field.get()
            }
        });
        let size_param = &*paging.context("paging")?.size_param;
        let (name, _, _, param) = spec_param(spec, path, op, &snake(size_param))
            .with_context(|| format!("{op_id}: no parameter {size_param}"))?;
        let doc = param
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("");
        let size = Opt {
            default: Some(default.to_string()),
            ..opt_base(field, &name, "query", doc, None)
        };
        specs.push(option_spec(&size, false, false));
        let spec_name = name.clone();
        from_optional.push(quote! {
            if let Some(value) = get(#spec_name) {
                op = op.#field(::userbatch_core::parse_option(#spec_name, value)?);
            }
        });
    }
    if paging.is_some() {
        prepare.insert(
            0,
            quote! {
                let page = page.ok_or_else(|| ::userbatch_core::refused("a paged operation needs a page"))?;
            },
        );
    } else {
        prepare.insert(0, quote!(let _ = page;));
    }
    if !segments.is_empty() {
        op_fns.push(quote! {
            fn check(&self) -> ::std::result::Result<(), ::userbatch_core::plan::PlanError> {
                ::userbatch_core::check_segments([#(#segments),*])
            }
        });
    }
    let mut extra = Vec::new();
    if let Some(a) = &rules.attributes {
        let param = &*a.param;
        op_fns.push(quote! {
            fn single_id(&self) -> bool {
                self.attribute_rules().needs_single_id(self.attributes.as_deref())
            }
        });
        let doc = format!(
            " Asks for more attributes (`{param}`): the values the spec lists \
             (`rules::{consts}.attributes`), `{}`, or `{}<name>`. Names the spec does not know \
             (the empty one too) are refused here, before any request. Asking for one valid \
             only for a single id (`{}`) makes every request name one id.",
            a.all,
            a.custom_prefix,
            a.single_id_only.join("`, `")
        );
        extra.push(quote! {
            fn attribute_rules(&self) -> &'static ::userbatch_core::rules::Attributes {
                match &rules::#consts.attributes {
                    Some(a) => a,
                    None => unreachable!(),
                }
            }

            #[doc = #doc]
            pub fn attributes<I, S>(mut self, names: I) -> ::std::result::Result<Self, ::userbatch_core::UnknownAttribute>
            where
                I: IntoIterator<Item = S>,
                S: AsRef<str>,
            {
                self.attributes = self.attribute_rules().select(names)?;
                Ok(self)
            }

            /// The attributes asked for beyond the summary ones, as sent.
            pub fn requested_attributes(&self) -> Vec<&str> {
                self.attributes.as_deref().map(|a| a.split(',').collect()).unwrap_or_default()
            }

            /// Whether the records this operation returns carry `attribute` (a summary
            /// attribute, one asked for, or any when all were): a `None` field they do not
            /// carry means "not sent", not "empty".
            pub fn returns(&self, attribute: &str) -> bool {
                self.attribute_rules().returns(self.attributes.as_deref(), attribute)
            }
        });
    }

    let record_ty: syn::Type = syn::parse_str(&format!("types::{record}"))?;
    let doc = {
        let method_up = method_name_up.to_uppercase();
        let summary = op.get("summary").and_then(Value::as_str).unwrap_or("");
        let mut doc = format!(
            " `{op_id}` (`{method_up} {path}`) as a batch operation: {summary}. Records: \
             [`types::{record}`]; rules: [`rules::{consts}`]."
        );
        if !required_names.is_empty() {
            doc.push_str(&format!(
                " Needs {} (arguments of `new`).",
                required_names.join(", ")
            ));
        }
        for p in rules.skip_parameters.iter() {
            doc.push_str(&format!(" Does not offer `{}`: {}.", p.name, p.why));
        }
        doc
    };
    let new_doc = if required_names.is_empty() {
        " The operation over this client, every option at its default.".to_owned()
    } else {
        format!(
            " The operation over this client with {}, every other option at its default.",
            required_names.join(", ")
        )
    };

    let mut impls = Vec::new();
    if let Some(update) = &rules.update_operation {
        let (inputs, output) = method(file, &snake(update))?;
        if inputs.len() != 1 || inputs[0].name != "body" {
            bail!("{op_id}: update-operation `{update}` must take the record as its only input");
        }
        let (answer, error) = update_types(output)
            .with_context(|| format!("{op_id}: update-operation `{update}`"))?;
        let update_method = format_ident!("{}", snake(update));
        impls.push(quote! {
            impl ::userbatch_core::Update for #name {
                type Answer = #answer;
                type ErrorBody = #error;
                async fn update(
                    &self,
                    record: &#record_ty,
                ) -> ::std::result::Result<ResponseValue<#answer>, Error<#error>> {
                    self.client.#update_method(record).await
                }
            }
        });
    }

    let required = opts
        .iter()
        .filter(|o| o.init.is_none())
        .map(|o| o.field.to_string())
        .collect();
    let field_names: Vec<String> = opts.iter().map(|o| o.field.to_string()).collect();
    let tokens = quote! {
        #[doc = #doc]
        #[derive(Debug, Clone)]
        pub struct #name {
            #(#fields),*
        }

        impl #name {
            #[doc = #new_doc]
            pub fn new(#(#ctor_args),*) -> Self {
                Self { #(#ctor_init),* }
            }

            /// Its options, as the spec names and describes them.
            pub const OPTIONS: &'static [::userbatch_core::OptionSpec] = &[#(#specs),*];

            /// The operation over this client with the options `given` as text (spec name,
            /// value), each parsed as its type: what a command line or a config file holds.
            pub fn from_options(
                client: Client,
                given: &[(&str, &str)],
            ) -> ::std::result::Result<Self, ::userbatch_core::OptionError> {
                ::userbatch_core::check_options(Self::OPTIONS, given)?;
                #get
                #(#from_required)*
                #[allow(unused_mut)]
                let mut op = Self::new(#(#ctor_names),*);
                #(#from_optional)*
                Ok(op)
            }

            #(#setters)*

            #(#extra)*
        }

        impl ::userbatch_core::Operation for #name {
            type Record = #record_ty;

            fn rules(&self) -> &'static ::userbatch_core::rules::OperationRules {
                &rules::#consts
            }

            fn vendor(&self) -> &'static ::userbatch_core::rules::VendorRules {
                &rules::VENDOR
            }

            #(#op_fns)*

            async fn send(
                &self,
                ids: &[String],
                page: Option<::userbatch_core::PageRequest>,
            ) -> ::userbatch_core::RawResult {
                #(#prepare)*
                self.client.#method_name(#(#args),*).await
            }

            fn decode(&self, record: &str) -> ::std::result::Result<#record_ty, ::userbatch_core::json::RecordError> {
                ::userbatch_core::json::decode(record, &rules::#consts.records.secrets)
            }

            fn scrubber(&self) -> ::userbatch_core::Scrubber {
                self.client.scrubber()
            }
        }

        #(#impls)*
    };
    Ok(Generated {
        name: type_name(op_id),
        operation_id: op_id.to_owned(),
        tokens,
        required,
        fields: field_names,
    })
}

/// One batch type as generated, with what [`summaries_impl`] needs of it.
pub struct Generated {
    /// The type's name.
    pub name: String,
    /// The operation's `operationId`.
    pub operation_id: String,
    /// The type and its impls.
    pub tokens: TokenStream,
    /// Its `new`'s arguments after the client (field names).
    pub required: Vec<String>,
    /// Every option field.
    pub fields: Vec<String>,
}

/// `impl Summaries` for a list operation: its full operation over the same client, with the
/// list operation's values of the options the full one requires.
pub fn summaries_impl(list: &Generated, full: &Generated) -> Result<TokenStream> {
    let name = format_ident!("{}", list.name);
    let full_ty = format_ident!("{}", full.name);
    let mut args = Vec::new();
    for field in &full.required {
        if !list.fields.contains(field) {
            bail!(
                "{}: its full operation {} needs `{field}`, which it does not have",
                list.operation_id,
                full.operation_id
            );
        }
        let f = format_ident!("{}", field);
        args.push(quote!(self.#f.clone()));
    }
    Ok(quote! {
        impl ::userbatch_core::Summaries for #name {
            type Full = #full_ty;
            fn full(&self) -> #full_ty {
                #full_ty::new(self.client.clone() #(, #args)*)
            }
        }
    })
}

fn opt_base(
    ident: &syn::Ident,
    spec_name: &str,
    location: &str,
    doc: &str,
    schema: Option<&Value>,
) -> Opt {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Opt {
        values: schema
            .and_then(|s| s.get("enum"))
            .and_then(Value::as_array)
            .map(|e| e.iter().map(text).collect())
            .unwrap_or_default(),
        default: schema.and_then(|s| s.get("default")).map(text),
        list: false,
        field: ident.clone(),
        spec_name: spec_name.to_owned(),
        ty: TokenStream::new(),
        arg: TokenStream::new(),
        store: TokenStream::new(),
        pass: TokenStream::new(),
        init: None,
        path: location == "path",
        doc: doc.to_owned(),
    }
}

/// The record type's name of an operation (in `types`): the summary type for summaries,
/// else the `$ref` name of one record's schema.
pub fn record_type(spec: &Spec, op: &Value, rules: &OperationRules) -> Result<String> {
    if let Some(partial) = &rules.partial {
        return Ok(schema_type_name(&format!("{}Summary", partial.of)));
    }
    let mut schema = op
        .pointer("/responses/200/content/application~1json/schema")
        .context("no application/json 200 response")?;
    if !rules.records.pointer.is_empty() {
        for token in rules.records.pointer.trim_start_matches('/').split('/') {
            let resolved = spec.resolve_all(schema)?;
            schema = resolved
                .pointer(&format!("/properties/{token}"))
                .with_context(|| format!("no property {token} on the records' way"))?;
        }
    }
    if rules.records.many {
        let resolved = spec.resolve_all(schema)?;
        schema = resolved
            .get("items")
            .context("the records are not an array")?;
    }
    // The last `$ref` before the record's own schema names its type.
    let mut name = None;
    for _ in 0..32 {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                name = r.strip_prefix("#/components/schemas/").map(str::to_owned);
                schema = spec.resolve(schema)?;
            }
            None => break,
        }
    }
    let name = name.context("a record's schema must be a $ref to components.schemas")?;
    Ok(schema_type_name(&name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(type_name("getUsersByIds"), "GetUsersByIds");
        assert_eq!(
            type_name("retrieve-multiple_users"),
            "RetrieveMultipleUsers"
        );
        assert_eq!(snake("Accept-Language"), "accept_language");
        assert_eq!(snake("$attribute"), "attribute");
        assert_eq!(snake("getUsersByIds"), "get_users_by_ids");
        assert_eq!(snake("pageSize"), "page_size");
    }
}
