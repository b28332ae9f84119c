//! Reading progenitor's output back: a generated method's inputs and return type, a
//! generated struct's fields, and the shapes of their Rust types (`Option<T>`, `&T`,
//! `&str`).

use anyhow::{Context, Result, bail};

/// One input of a generated client method.
pub(super) struct Input {
    pub(super) name: String,
    pub(super) ty: syn::Type,
}

/// The generated client method `name`: its inputs (without `&self`) and return type.
pub(super) fn method<'a>(
    file: &'a syn::File,
    name: &str,
) -> Result<(Vec<Input>, &'a syn::ReturnType)> {
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
pub(super) fn struct_fields(file: &syn::File, name: &str) -> Result<Vec<(String, syn::Type)>> {
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
pub(super) fn option_inner(ty: &syn::Type) -> Option<&syn::Type> {
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
pub(super) fn reference_inner(ty: &syn::Type) -> Option<&syn::Type> {
    match ty {
        syn::Type::Reference(r) => Some(&r.elem),
        _ => None,
    }
}

pub(super) fn is_str(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.is_ident("str"))
}

/// The two generic arguments of `Result<ResponseValue<A>, Error<E>>`.
pub(super) fn update_types(output: &syn::ReturnType) -> Result<(syn::Type, syn::Type)> {
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
