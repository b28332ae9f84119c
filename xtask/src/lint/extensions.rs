//! The `x-userbatch` extensions: well-formed, in the right places (`x-userbatch-mock`
//! too), and consistent with the operations and schemas they describe.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{mock, rules};
use crate::spec::Spec;

/// The `x-userbatch` extensions: well-formed, in the right places, consistent with the
/// operations and schemas they describe.
pub(super) fn check(spec: &Spec, out: &mut Vec<String>) {
    match spec.vendor_rules() {
        Err(e) => out.push(format!("{e:#}")),
        Ok(v) => {
            for &s in v.throttle_statuses.iter() {
                if !(400..=599).contains(&s) {
                    out.push(format!(
                        "x-userbatch.throttle-statuses: {s} is not an error status"
                    ));
                }
            }
            if v.rate_limit.window_s == Some(0) {
                out.push("x-userbatch.rate-limit.window-s: a window is at least 1 second".into());
            }
        }
    }
    if let Err(e) = spec.default_base_url() {
        out.push(format!("{e:#}"));
    }
    misplaced_extensions(&spec.raw, "", out);
    mock::html_statuses_keep_the_documented_answers(spec, out);

    let operation_ids: BTreeSet<&str> = spec
        .operations()
        .iter()
        .filter_map(|(_, _, op)| op.get("operationId").and_then(Value::as_str))
        .collect();
    for (path, _, op) in spec.operations() {
        let at = format!(
            "{} x-userbatch",
            op.get("operationId")
                .and_then(Value::as_str)
                .unwrap_or(path)
        );
        match spec.operation_rules(op) {
            Err(e) => out.push(format!("{e:#}")),
            Ok(None) => {}
            Ok(Some(ext)) => rules::check(spec, path, op, &ext, &at, &operation_ids, out),
        }
    }
}

fn misplaced_extensions(value: &Value, pointer: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let here = format!("{pointer}/{}", crate::spec::escape_pointer(k));
                if k.starts_with("x-userbatch") {
                    let depth = here.matches('/').count();
                    let at_root = depth == 1;
                    let at_operation = here.starts_with("/paths/") && depth == 4;
                    let known = k == "x-userbatch" || k == "x-userbatch-mock";
                    if !known || !(at_root || at_operation) {
                        out.push(format!(
                            "{here}: `{k}` is read only as `x-userbatch` or `x-userbatch-mock` at the root or on an operation"
                        ));
                    } else if k == "x-userbatch-mock" {
                        mock::check_quirks(v, &here, at_root, out);
                    }
                } else {
                    misplaced_extensions(v, &here, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                misplaced_extensions(v, &format!("{pointer}/{i}"), out);
            }
        }
        _ => {}
    }
}
