//! `x-userbatch-mock`, the mock's quirks: well-formed, each key where it is read, and no
//! HTML answer in place of a status the rules give a meaning to.

use serde_json::Value;

use crate::spec::Spec;

/// The mock's `html-statuses` may not include a status the rules give a meaning to (an
/// unknown id's, a throttling one): the HTML page would hide the documented answer, and no
/// id could come back "missing" from the mock.
pub(super) fn html_statuses_keep_the_documented_answers(spec: &Spec, out: &mut Vec<String>) {
    let Some(quirks) = spec.raw.get("x-userbatch-mock") else {
        return;
    };
    let Ok(quirks) = serde_json::from_value::<userbatch_core::rules::MockQuirks>(quirks.clone())
    else {
        return;
    };
    let mut meaningful: Vec<(u16, String)> = Vec::new();
    if let Ok(v) = spec.vendor_rules() {
        meaningful.extend(
            v.throttle_statuses
                .iter()
                .map(|&s| (s, "a throttling status".into())),
        );
    }
    for (_, _, op) in spec.operations() {
        if let Ok(Some(rules)) = spec.operation_rules(op)
            && let Some(s) = rules.unknown_ids.not_found_status()
        {
            let id = op.get("operationId").and_then(Value::as_str).unwrap_or("");
            meaningful.push((s, format!("{id}'s unknown-id status")));
        }
    }
    for &s in &quirks.html_statuses {
        if let Some((_, what)) = meaningful.iter().find(|(m, _)| *m == s) {
            out.push(format!(
                "/x-userbatch-mock.html-statuses: {s} is {what}; its answer must stay the vendor's"
            ));
        }
    }
}

/// `x-userbatch-mock`: well-formed, each key where it is read.
pub(super) fn check_quirks(value: &Value, here: &str, at_root: bool, out: &mut Vec<String>) {
    let quirks: userbatch_core::rules::MockQuirks = match serde_json::from_value(value.clone()) {
        Ok(q) => q,
        Err(e) => return out.push(format!("{here}: {e}")),
    };
    let misplaced = if at_root {
        [
            ("accepted-values", !quirks.accepted_values.is_empty()),
            ("update-answer", quirks.update_answer.is_some()),
        ]
    } else {
        [
            ("html-statuses", !quirks.html_statuses.is_empty()),
            ("vendor-order", quirks.vendor_order),
        ]
    };
    for (key, given) in misplaced {
        if given {
            let place = if at_root { "an operation" } else { "the root" };
            out.push(format!("{here}.{key}: read only on {place}"));
        }
    }
    for &s in &quirks.html_statuses {
        if !(400..=599).contains(&s) {
            out.push(format!("{here}.html-statuses: {s} is not an error status"));
        }
    }
}
