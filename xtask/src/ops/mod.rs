//! Batch operations: for every operation with `x-userbatch`, a type in the vendor crate that
//! implements `userbatch_core::Operation` through the generated client.
//!
//! The type is named after the `operationId` (`getUsers`: `GetUsers`). Every parameter of
//! the generated client method that is not an id or a page becomes a typed option of it:
//! a constructor argument when the spec requires it and gives no default, a setter
//! otherwise. Parameters come from progenitor's own method signature (read back from the
//! generated tokens), so their Rust types are exactly the ones the method takes.

//!
//! - `call`: how the type's `send` calls the generated method, input by input;
//! - `batch_type`: the type, its options' constructor and setters, its `Operation` impl;
//! - `options`: one option (`Opt`) and its spec;
//! - `signature`: what the generated code declares, read back with `syn`.

use anyhow::{Context, Result, bail};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::spec::{OperationRules, Spec};

mod batch_type;
mod call;
mod options;
mod signature;

pub use signature::has_type;

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

/// One operation's batch type and its impls.
pub fn operation_tokens(
    spec: &Spec,
    file: &syn::File,
    (path, method_name_up): (&str, &str),
    op: &Value,
    rules: &OperationRules,
    record: &str,
) -> Result<Generated> {
    let call = call::call(spec, file, path, op, rules)?;
    batch_type::tokens(spec, file, (path, method_name_up), op, rules, record, call)
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
