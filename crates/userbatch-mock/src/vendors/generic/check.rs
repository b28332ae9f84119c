//! The vendor's checks of a request, in the order a real service makes them:
//! credentials, path values, limits, ids, the request body, parameters as declared,
//! attributes and paging. A refused request gets the vendor's error answer.

use axum::http::{HeaderMap, Uri, header};
use serde_json::Value;
use userbatch_core::rules::{IdLocation, MockQuirks};

use super::error::error_answer;
use super::request::{asked_attributes, path_value, query_pairs, query_param};
use super::spec::{BodySpec, Param, ParamIn, SpecOperation, SpecVendor};
use crate::shared::Shared;
use crate::vendor::Vendor;
use crate::vendors::answer::Answer;

/// The vendor's checks of a request: credentials, path values, limits, ids, parameters,
/// attributes, paging.
pub(super) fn check(
    shared: &Shared,
    spec: &SpecVendor,
    op: &SpecOperation,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    ids: &Result<Vec<String>, String>,
) -> Result<(), Answer> {
    let vendor = spec.vendor;
    access(shared, headers, vendor, &spec.schemes)?;
    let ids_param = (op.rules.ids.location == IdLocation::Path).then_some(&*op.rules.ids.name);
    known_path_values(shared, vendor, &op.path, uri, ids_param)?;
    let limits = &op.rules.limits;
    let query = uri.query().unwrap_or("");
    if limits.max_query_bytes.is_some_and(|max| query.len() > max) {
        return Err(error_answer(vendor, 414, "The query string is too long."));
    }
    let ids = ids.as_ref().map_err(|why| error_answer(vendor, 400, why))?;
    if let Some(spec_body) = &op.body
        && let Some(why) = body_refused(spec_body, body)
    {
        return Err(error_answer(vendor, 400, &why));
    }
    if let Some(max) = limits.max_ids.filter(|&max| ids.len() > max) {
        return Err(error_answer(
            vendor,
            400,
            &format!("At most {max} ids per request."),
        ));
    }
    if op.rules.ids.location == IdLocation::Path
        && let Some(max) = limits.max_segment_chars
    {
        // As sent: the segment's characters before percent-decoding.
        let at = op
            .path
            .split('/')
            .position(|s| s == format!("{{{}}}", op.rules.ids.name));
        let sent = at
            .and_then(|at| uri.path().split('/').nth(at))
            .map_or(0, str::len);
        if sent > max {
            return Err(error_answer(
                vendor,
                400,
                &format!("At most {max} characters of ids."),
            ));
        }
    }
    for param in &op.params {
        if let Some((status, why)) = param.refused(param.value(op, uri, headers).as_deref()) {
            return Err(error_answer(vendor, status, &why));
        }
    }
    if let Some(attrs) = &op.rules.attributes {
        for a in asked_attributes(attrs, uri) {
            if !attrs.knows(&a) {
                return Err(error_answer(
                    vendor,
                    400,
                    &format!("{}: unknown attribute {a}", attrs.param),
                ));
            }
            if ids.len() > 1 && attrs.single_id_only.iter().any(|s| *s == a) {
                return Err(error_answer(
                    vendor,
                    400,
                    &format!("{}: {a} is valid only for a single id", attrs.param),
                ));
            }
        }
    }
    if let Some(paging) = &op.rules.paging {
        let pairs = query_pairs(query);
        for (name, least) in [
            (&paging.index_param, paging.first_index),
            (&paging.size_param, 1),
        ] {
            if query_param(&pairs, name).is_some_and(|v| {
                v.parse::<i32>()
                    .map_or(true, |n| i64::from(n) < i64::from(least))
            }) {
                return Err(error_answer(
                    vendor,
                    400,
                    &format!("{name} must be a 32-bit integer of at least {least}."),
                ));
            }
        }
    }
    Ok(())
}

/// Why a request body does not fit its declaration: missing where required, not a JSON
/// object where the schema is one, a required field missing, a field of another type.
fn body_refused(spec: &BodySpec, body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return spec
            .required
            .then(|| "A request body is required.".to_owned());
    }
    let schema = spec.schema.as_ref()?;
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return Some("The body must be a JSON object.".to_owned());
    };
    if let Some(name) = spec
        .required_fields
        .iter()
        .find(|f| !fields.contains_key(*f))
    {
        return Some(format!("{name} is required."));
    }
    schema
        .invalid_field(&fields)
        .map(|(field, why)| format!("{field} {why}."))
}

/// 404 for a path parameter value [`crate::config::MockConfig::path_values`] does not list (not
/// the ids' parameter: an unknown id is answered as the rules say).
pub(super) fn known_path_values(
    shared: &Shared,
    vendor: Vendor,
    template: &str,
    uri: &Uri,
    ids_param: Option<&str>,
) -> Result<(), Answer> {
    for name in template
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .filter(|name| Some(*name) != ids_param)
    {
        if let Some(value) = path_value(template, uri, name)
            && !shared.config.knows_path_value(name, &value)
        {
            return Err(error_answer(
                vendor,
                404,
                &format!("{name} '{value}' was not found"),
            ));
        }
    }
    Ok(())
}

/// The vendor's 401 without credentials it accepts, its 403 for a token without the role
/// ([`crate::config::MockConfig::forbid_tokens`]).
pub(super) fn access(
    shared: &Shared,
    headers: &HeaderMap,
    vendor: Vendor,
    schemes: &[&str],
) -> Result<(), Answer> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let token = authorization
        .and_then(|v| v.split_once(' '))
        .map(|(_, t)| t);
    if !shared.authorized(authorization, schemes) {
        return Err(match token.filter(|_| shared.config.echo_token) {
            // As some services do: the refused credential, quoted back.
            Some(token) => error_answer(vendor, 401, &format!("invalid token '{token}'"))
                .header(header::WWW_AUTHENTICATE, "Bearer"),
            None => unauthorized(vendor),
        });
    }
    if token.is_some_and(|t| shared.config.forbidden_tokens.contains(t)) {
        return Err(error_answer(
            vendor,
            403,
            "The user of this token does not have the role this request needs.",
        ));
    }
    Ok(())
}

/// The vendor's 401 for a request without credentials it accepts.
fn unauthorized(vendor: Vendor) -> Answer {
    error_answer(
        vendor,
        401,
        "Authorization has been denied for this request.",
    )
    .header(header::WWW_AUTHENTICATE, "Bearer")
}

impl Param {
    /// The value the request sends for this parameter, if it sends one.
    fn value(&self, op: &SpecOperation, uri: &Uri, headers: &HeaderMap) -> Option<String> {
        match self.location {
            ParamIn::Path => path_value(&op.path, uri, &self.name),
            ParamIn::Query => query_param(&query_pairs(uri.query().unwrap_or("")), &self.name),
            ParamIn::Header => headers
                .get(self.name.as_str())
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        }
    }

    /// Why `value` (or its absence) is refused, with the status.
    fn refused(&self, value: Option<&str>) -> Option<(u16, String)> {
        let name = &self.name;
        if name.eq_ignore_ascii_case("accept") {
            // The mock writes JSON only, whatever else the parameter lists.
            let json = value.is_some_and(|v| {
                v.split(',')
                    .any(|m| m.split(';').next().unwrap_or("").trim() == "application/json")
            });
            return (!json && (value.is_some() || self.required)).then(|| {
                (
                    406,
                    "Not Acceptable: send Accept: application/json".to_owned(),
                )
            });
        }
        let Some(value) = value else {
            return self.required.then(|| (400, format!("{name} is required")));
        };
        if !self.values.is_empty() && !MockQuirks::accepts(&self.values, value) {
            // A header's value is not quoted back: headers carry credentials.
            return Some((
                400,
                if self.location == ParamIn::Header {
                    format!("{name}: not a value it takes")
                } else {
                    format!("{name}: '{value}' is not a value it takes")
                },
            ));
        }
        if let Some(least) = self.integer
            && value.parse::<i64>().map_or(true, |n| n < least)
        {
            return Some((400, format!("{name}: an integer of at least {least}")));
        }
        None
    }
}
