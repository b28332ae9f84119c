//! Changes to the generated Rust API: both revisions' code parsed with `syn` into public
//! types, fields, variants, functions, methods and constants, and compared under Cargo's
//! semver rules.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};
use quote::ToTokens;

use super::{Area, Change, Impact, push};

/// The public items of generated code, by path: what callers can name.
#[derive(Debug, Default)]
struct Api {
    /// Path -> a description of its kind and signature (`struct`, `fn(..) -> ..`).
    items: BTreeMap<String, String>,
    /// Struct path -> its public fields (name -> type).
    fields: BTreeMap<String, BTreeMap<String, String>>,
    /// Enum path -> its variants (name -> fields).
    variants: BTreeMap<String, BTreeMap<String, String>>,
    /// Const path -> its value.
    values: BTreeMap<String, String>,
    /// Types marked `#[non_exhaustive]`.
    non_exhaustive: BTreeSet<String>,
    /// Types that implement `Default` (derived or not).
    defaults: BTreeSet<String>,
    /// Struct fields (`types::X::field`) that must be given: the type's builder starts them
    /// as an error (`Err("no value supplied for ...")`), so building without them fails.
    /// Read from the builder, not the field's type: a required field that may be null is an
    /// `Option` too.
    required: BTreeSet<String>,
}

/// The fields a builder's `Default` leaves unset (`field: Err(..)`), as `types::X::field`
/// for the builder `types::builder::X`.
fn unset_by_default(owner: &str, item: &syn::ItemImpl, api: &mut Api) {
    let Some((module, name)) = owner.rsplit_once("::") else {
        return;
    };
    let Some(module) = module.strip_suffix("::builder") else {
        return;
    };
    let built = format!("{module}::{name}");
    for inner in &item.items {
        let syn::ImplItem::Fn(f) = inner else {
            continue;
        };
        let Some(syn::Stmt::Expr(syn::Expr::Struct(value), None)) = f.block.stmts.last() else {
            continue;
        };
        for field in &value.fields {
            let (syn::Member::Named(unset), syn::Expr::Call(call)) = (&field.member, &field.expr)
            else {
                continue;
            };
            if let syn::Expr::Path(path) = &*call.func
                && path.path.is_ident("Err")
            {
                api.required.insert(format!("{built}::{unset}"));
            }
        }
    }
}

/// Tokens as a person writes them: `Option<bool>`, not `:: std :: option :: Option < bool >`.
fn tokens(t: &impl ToTokens) -> String {
    let mut text = t.to_token_stream().to_string();
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" ::", "::"),
        (" < ", "<"),
        ("< ", "<"),
        (" <", "<"),
        (" >", ">"),
        (" ,", ","),
        ("& ", "&"),
        ("( ", "("),
        (" )", ")"),
    ] {
        text = text.replace(from, to);
    }
    for prelude in [
        "::std::option::",
        "::std::string::",
        "::std::vec::",
        "::std::result::",
        "::std::borrow::",
    ] {
        text = text.replace(prelude, "");
    }
    text
}

fn is_pub(vis: &syn::Visibility) -> bool {
    matches!(vis, syn::Visibility::Public(_))
}

fn non_exhaustive(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("non_exhaustive"))
}

fn derives_default(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("derive")
            && tokens(&a.meta)
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .any(|word| word == "Default")
    })
}

fn collect_api(items: &[syn::Item], prefix: &str, api: &mut Api) {
    let path = |name: &syn::Ident| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}::{name}")
        }
    };
    for item in items {
        match item {
            syn::Item::Mod(m) if is_pub(&m.vis) => {
                if let Some((_, inner)) = &m.content {
                    collect_api(inner, &path(&m.ident), api);
                }
            }
            syn::Item::Struct(s) if is_pub(&s.vis) => {
                let at = path(&s.ident);
                api.items
                    .insert(at.clone(), format!("struct{}", tokens(&s.generics)));
                if non_exhaustive(&s.attrs) {
                    api.non_exhaustive.insert(at.clone());
                }
                if derives_default(&s.attrs) {
                    api.defaults.insert(at.clone());
                }
                let fields = s
                    .fields
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| is_pub(&f.vis))
                    .map(|(i, f)| {
                        let name = f.ident.as_ref().map_or(i.to_string(), ToString::to_string);
                        (name, tokens(&f.ty))
                    })
                    .collect();
                api.fields.insert(at, fields);
            }
            syn::Item::Enum(e) if is_pub(&e.vis) => {
                let at = path(&e.ident);
                api.items
                    .insert(at.clone(), format!("enum{}", tokens(&e.generics)));
                if non_exhaustive(&e.attrs) {
                    api.non_exhaustive.insert(at.clone());
                }
                let variants = e
                    .variants
                    .iter()
                    .map(|v| (v.ident.to_string(), tokens(&v.fields)))
                    .collect();
                api.variants.insert(at, variants);
            }
            syn::Item::Fn(f) if is_pub(&f.vis) => {
                api.items.insert(path(&f.sig.ident), tokens(&f.sig));
            }
            syn::Item::Const(c) if is_pub(&c.vis) => {
                let at = path(&c.ident);
                api.items
                    .insert(at.clone(), format!("const: {}", tokens(&c.ty)));
                api.values.insert(at, tokens(&c.expr));
            }
            syn::Item::Type(t) if is_pub(&t.vis) => {
                api.items
                    .insert(path(&t.ident), format!("type = {}", tokens(&t.ty)));
            }
            syn::Item::Impl(i) => {
                let self_ty = tokens(&i.self_ty);
                let owner = if prefix.is_empty() || self_ty.contains("::") {
                    self_ty
                } else {
                    format!("{prefix}::{self_ty}")
                };
                match &i.trait_ {
                    Some((trait_path, _)) => {
                        if trait_path
                            .segments
                            .last()
                            .is_some_and(|s| s.ident == "Default")
                        {
                            api.defaults.insert(owner.clone());
                            unset_by_default(&owner, i, api);
                        }
                        let name = format!("impl {} for {owner}", tokens(trait_path));
                        api.items.insert(name, "impl".to_owned());
                    }
                    None => {
                        for inner in &i.items {
                            if let syn::ImplItem::Fn(f) = inner
                                && is_pub(&f.vis)
                            {
                                api.items
                                    .insert(format!("{owner}::{}", f.sig.ident), tokens(&f.sig));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

fn parse_api(code: &str) -> Result<Api> {
    let file = syn::parse_file(code).context("the generated code does not parse")?;
    let mut api = Api::default();
    collect_api(&file.items, "", &mut api);
    Ok(api)
}

pub(super) fn rust_api(old: &str, new: &str, out: &mut Vec<Change>) -> Result<()> {
    let (was, now) = (parse_api(old)?, parse_api(new)?);
    let mut api =
        |at: &str, what: String, impact: Impact| push(out, Area::RustApi, at, what, impact);
    for (at, sig) in &was.items {
        match now.items.get(at) {
            None => api(at, format!("removed (was `{sig}`)"), Impact::Breaking),
            Some(now_sig) if now_sig != sig => api(
                at,
                format!("changed from `{sig}` to `{now_sig}`"),
                Impact::Breaking,
            ),
            Some(_) => {}
        }
    }
    for (at, sig) in &now.items {
        if !was.items.contains_key(at) {
            api(at, format!("added (`{sig}`)"), Impact::Addition);
        }
    }
    for (ty, was_fields) in &was.fields {
        let Some(now_fields) = now.fields.get(ty) else {
            continue;
        };
        for (name, t) in was_fields {
            let at = format!("{ty}::{name}");
            match now_fields.get(name) {
                None => api(&at, format!("field removed (was `{t}`)"), Impact::Breaking),
                Some(now_t) if now_t != t => api(
                    &at,
                    format!("field type changed from `{t}` to `{now_t}`"),
                    Impact::Breaking,
                ),
                Some(_) if now.required.contains(&at) && !was.required.contains(&at) => api(
                    &at,
                    "field now required: code that builds `{ty}` without it fails (its \
                     builder at `try_into`)"
                        .replace("{ty}", ty),
                    Impact::Breaking,
                ),
                Some(_) => {}
            }
        }
        for (name, t) in now_fields {
            if was_fields.contains_key(name) {
                continue;
            }
            let at = format!("{ty}::{name}");
            if now.required.contains(&at) {
                api(
                    &at,
                    format!(
                        "required field added (`{t}`): code that builds `{ty}` without it \
                         fails (a struct literal to compile, its builder at `try_into`)"
                    ),
                    Impact::Breaking,
                );
            } else if now.non_exhaustive.contains(ty) {
                api(
                    &at,
                    format!("field added (`{t}`); `{ty}` is `#[non_exhaustive]`: no caller breaks"),
                    Impact::Addition,
                );
            } else {
                let how = if now.defaults.contains(ty) {
                    "set it or end with `..Default::default()`".to_owned()
                } else if t.starts_with("Option<") {
                    format!("set it (`{name}: None` keeps today's behaviour)")
                } else {
                    "set it".to_owned()
                };
                api(
                    &at,
                    format!(
                        "field added (`{t}`): code that builds `{ty}` with a struct literal \
                         must {how}; code that only reads it is unaffected"
                    ),
                    Impact::Breaking,
                );
            }
        }
    }
    for (ty, was_variants) in &was.variants {
        let Some(now_variants) = now.variants.get(ty) else {
            continue;
        };
        for (name, fields) in was_variants {
            let at = format!("{ty}::{name}");
            match now_variants.get(name) {
                None => api(&at, "variant removed".to_owned(), Impact::Breaking),
                Some(now_f) if now_f != fields => api(
                    &at,
                    format!("variant fields changed from `{fields}` to `{now_f}`"),
                    Impact::Breaking,
                ),
                Some(_) => {}
            }
        }
        for name in now_variants.keys() {
            if was_variants.contains_key(name) {
                continue;
            }
            let at = format!("{ty}::{name}");
            if now.non_exhaustive.contains(ty) {
                api(&at, "variant added".to_owned(), Impact::Addition);
            } else {
                api(
                    &at,
                    format!("variant added: a `match` on `{ty}` without a wildcard arm breaks"),
                    Impact::Breaking,
                );
            }
        }
    }
    for (at, value) in &was.values {
        if let Some(now_value) = now.values.get(at)
            && now_value != value
        {
            let what = format!("value changed: {}", value_difference(value, now_value));
            api(at, what, Impact::Compatible);
        }
    }
    Ok(())
}

/// The first differing stretch of two token strings, with a little context.
fn value_difference(a: &str, b: &str) -> String {
    let (a_words, b_words): (Vec<&str>, Vec<&str>) = (
        a.split_whitespace().collect(),
        b.split_whitespace().collect(),
    );
    let start = a_words
        .iter()
        .zip(&b_words)
        .take_while(|(x, y)| x == y)
        .count();
    let end = a_words
        .iter()
        .rev()
        .zip(b_words.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let cut = |words: &[&str]| {
        let to = words.len().saturating_sub(end).max(start);
        let from = start.saturating_sub(3);
        words[from..to.min(words.len())].join(" ")
    };
    format!("`…{}…` became `…{}…`", cut(&a_words), cut(&b_words))
}
