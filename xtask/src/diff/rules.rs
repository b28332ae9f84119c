//! Changes to the `x-userbatch` rules (limits, encodings, paging, partial lists), leaf by
//! leaf.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::wire::operations;
use super::{Area, Change, Impact, push};
use crate::spec::Spec;

/// Leaves of a JSON value by dotted path; arrays of scalars are kept whole.
fn leaves(prefix: &str, value: &Value, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let at = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(&at, v, out);
            }
        }
        other => {
            out.insert(prefix.to_owned(), other.clone());
        }
    }
}

pub(super) fn rules(old: &Spec, new: &Spec, out: &mut Vec<Change>) {
    let extension = |spec: &Spec| -> BTreeMap<String, Value> {
        let mut map = BTreeMap::new();
        if let Some(root) = spec.raw.get("x-userbatch") {
            leaves("(vendor)", root, &mut map);
        }
        for (id, (_, op)) in operations(spec) {
            if let Some(ext) = op.get("x-userbatch") {
                leaves(&id, ext, &mut map);
            }
        }
        map
    };
    let (was, now) = (extension(old), extension(new));
    for (at, before) in &was {
        if !now.contains_key(at) {
            let what = format!("rule removed (was {before})");
            push(out, Area::Rules, at, what, Impact::Breaking);
        }
    }
    for (at, after) in &now {
        match was.get(at) {
            None => {
                let what = format!("rule added: {after}");
                push(out, Area::Rules, at, what, Impact::Addition);
            }
            Some(before) if before != after => {
                let (what, impact) = rule_change(at, before, after);
                push(out, Area::Rules, at, what, impact);
            }
            Some(_) => {}
        }
    }
}

fn rule_change(at: &str, before: &Value, after: &Value) -> (String, Impact) {
    let key = at.rsplit('.').next().unwrap_or(at);
    if let (Some(a), Some(b)) = (before.as_u64(), after.as_u64())
        && key.starts_with("max-")
    {
        return if b < a {
            (
                format!(
                    "limit lowered from {a} to {b}: a run needs more requests, and a \
                     `max_batch` above {b} is now refused"
                ),
                Impact::Breaking,
            )
        } else {
            (format!("limit raised from {a} to {b}"), Impact::Compatible)
        };
    }
    if let (Some(a), Some(b)) = (before.as_array(), after.as_array()) {
        let a: BTreeSet<String> = a.iter().map(Value::to_string).collect();
        let b: BTreeSet<String> = b.iter().map(Value::to_string).collect();
        let added: Vec<&String> = b.difference(&a).collect();
        let removed: Vec<&String> = a.difference(&b).collect();
        let show = |v: &[&String]| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
        let mut what = Vec::new();
        if !added.is_empty() {
            what.push(format!("added {}", show(&added)));
        }
        if !removed.is_empty() {
            what.push(format!("removed {}", show(&removed)));
        }
        let impact = if key == "unpopulated" && !added.is_empty() {
            what.push("the summary type loses the newly unpopulated fields".to_owned());
            Impact::Breaking
        } else {
            Impact::Compatible
        };
        return (what.join("; "), impact);
    }
    (
        format!("changed from {before} to {after}: review the engine's behaviour"),
        Impact::Breaking,
    )
}
