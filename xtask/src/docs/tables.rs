//! Markdown pages of tables (as AvePoint's): the method and endpoint, URL/query/header
//! parameters, request body and response fields, the status in "a 200 OK response" and the
//! JSON response sample.

use super::page::{Fact, Facts, Field, Param, is_status, json_after};

/// The facts of a page of tables.
pub(super) fn read(lines: &[&str]) -> Facts {
    let mut facts = Facts::default();
    let mut heading = String::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if let Some(h) = line.strip_prefix("## ") {
            heading = h.trim().to_lowercase();
        }
        if line.starts_with("```json") && heading.contains("sample") && heading.contains("response")
        {
            facts.example = json_after(lines, i + 1);
        }
        let is_table = line.starts_with('|')
            && lines.get(i + 1).is_some_and(|next| {
                next.trim().starts_with("|-") || next.trim().starts_with("| -")
            });
        if !is_table {
            i += 1;
            continue;
        }
        let header: Vec<String> = cells(line).iter().map(|c| c.to_lowercase()).collect();
        let col = |names: &[&str]| header.iter().position(|h| names.contains(&h.as_str()));
        let (name_col, type_col, req_col) = (
            col(&["parameter", "response", "name", "field"]),
            col(&["type"]),
            col(&["required"]),
        );
        let (method_col, endpoint_col) = (col(&["method"]), col(&["endpoint"]));
        let mut j = i + 2;
        while j < lines.len() && lines[j].trim().starts_with('|') {
            let row = cells(lines[j]);
            let get = |c: Option<usize>| c.and_then(|c| row.get(c)).cloned();
            if let (Some(method), Some(endpoint)) = (get(method_col), get(endpoint_col)) {
                facts.endpoint = Some(Fact {
                    line: j + 1,
                    value: (method.to_lowercase(), endpoint),
                });
            } else if let Some(name) = get(name_col) {
                let ty = get(type_col);
                let required = get(req_col).map(|r| r.eq_ignore_ascii_case("yes"));
                let location = if heading.starts_with("url parameters")
                    || heading.starts_with("path parameters")
                {
                    Some("path")
                } else if heading.starts_with("query parameters") {
                    Some("query")
                } else if heading.starts_with("header") {
                    Some("header")
                } else {
                    None
                };
                let fact_line = j + 1;
                match location {
                    Some(loc) => facts.params.push(Fact {
                        line: fact_line,
                        value: Param {
                            location: Some(loc.to_owned()),
                            name,
                            ty,
                            required,
                            ..Param::default()
                        },
                    }),
                    None if heading.starts_with("request body") => facts.body_fields.push(Fact {
                        line: fact_line,
                        value: Field { name, ty },
                    }),
                    None if heading == "response" || heading == "responses" => {
                        facts.fields.push(Fact {
                            line: fact_line,
                            value: Field { name, ty },
                        })
                    }
                    None => {}
                }
            }
            j += 1;
        }
        i = j;
    }
    // "a 200 OK response will be returned"
    for (n, line) in lines.iter().enumerate() {
        if let Some(at) = line.find(" OK response") {
            let code = line[..at].rsplit(' ').next().unwrap_or("");
            if is_status(code) && !facts.statuses.iter().any(|s| s.value == code) {
                facts.statuses.push(Fact {
                    line: n + 1,
                    value: code.to_owned(),
                });
            }
        }
    }
    facts
}

/// The cells of a table row, without their code quotes.
fn cells(line: &str) -> Vec<String> {
    let t = line.trim().trim_start_matches('|').trim_end_matches('|');
    t.split('|')
        .map(|c| c.trim().trim_matches('`').trim().to_owned())
        .collect()
}
