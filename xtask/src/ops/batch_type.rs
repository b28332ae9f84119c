//! The batch type of one operation: its struct (the client and the options), `new`, the
//! setters, `OPTIONS` and `from_options`, the attribute selection, and its
//! `userbatch_core::Operation` impl (with `Update` when the rules name an update
//! operation).

use anyhow::{Context, Result, bail};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::spec::{OperationRules, Spec};

use super::call::Call;
use super::options::{Opt, opt_base, option_spec, spec_param};
use super::signature::{method, update_types};
use super::{Generated, snake, type_name};

/// The tokens of the batch type of `rules`' operation, which calls its method as `call`
/// says; `record` is the records' type name in `types`.
pub(super) fn tokens(
    spec: &Spec,
    file: &syn::File,
    (path, method_name_up): (&str, &str),
    op: &Value,
    rules: &OperationRules,
    record: &str,
    call: Call,
) -> Result<Generated> {
    let Call {
        mut prepare,
        args,
        opts,
        page_size,
    } = call;
    let op_id = &*rules.operation_id;
    let name = format_ident!("{}", type_name(op_id));
    let consts = format_ident!("{}", crate::generate::screaming_snake(op_id));
    let method_name = format_ident!("{}", snake(op_id));
    let paging = rules.paging.as_ref();

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
            ) -> ::userbatch_core::SendResult {
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
