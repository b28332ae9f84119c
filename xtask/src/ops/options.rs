//! The batch type's options: how each is held, set and passed (`Opt`), its
//! `OptionSpec`, its spec parameter, and its default as the spec gives it.

use proc_macro2::{Literal, TokenStream};
use quote::quote;
use serde_json::Value;

use super::signature::{is_str, reference_inner};
use super::snake;
use crate::spec::Spec;

/// Names the batch type has of its own: an option of one of these names is `<name>_param`.
pub(super) const RESERVED: &[&str] = &[
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
pub(super) struct Opt {
    /// The Rust name (field and setter).
    pub(super) field: syn::Ident,
    /// The parameter's name in the spec.
    pub(super) spec_name: String,
    /// The field's type.
    pub(super) ty: TokenStream,
    /// The setter's argument type.
    pub(super) arg: TokenStream,
    /// How the setter stores its argument.
    pub(super) store: TokenStream,
    /// How the method is passed the field.
    pub(super) pass: TokenStream,
    /// The initial value; `None`: a constructor argument.
    pub(super) init: Option<TokenStream>,
    /// A path parameter: held to one segment.
    pub(super) path: bool,
    /// The spec's description.
    pub(super) doc: String,
    /// The values its schema lists (`enum`).
    pub(super) values: Vec<String>,
    /// Its schema's default, as text.
    pub(super) default: Option<String>,
    /// A comma-separated list.
    pub(super) list: bool,
}

/// `OptionSpec { .. }` for `o`.
pub(super) fn option_spec(o: &Opt, required: bool, list: bool) -> TokenStream {
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
pub(super) fn spec_param<'a>(
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
pub(super) fn default_value(spec: &Spec, param: &Value, ty: &syn::Type) -> Option<TokenStream> {
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

pub(super) fn opt_base(
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

/// `IdKind::...` as a path.
pub(super) fn kind_tokens(kind: crate::spec::IdKind) -> TokenStream {
    match kind {
        crate::spec::IdKind::Integer => quote!(::userbatch_core::rules::IdKind::Integer),
        crate::spec::IdKind::String => quote!(::userbatch_core::rules::IdKind::String),
    }
}
