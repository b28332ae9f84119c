//! `cargo xtask docs-check [--docs DIR]`: reads the vendors' doc pages as users save them
//! and compares what they state with `specs/`. A checker, not a generator: the spec stays
//! hand-written.
//!
//! Each operation names its page with `x-docs-page: <file name>`. Three formats are read:
//! - Markdown with `<ParamField>` / `<ResponseField>` blocks, "not populated" lists and a
//!   JSON example response (as Nexudus publishes its pages);
//! - a text export of a rendered reference page (as User Manager's, or a Nexudus page
//!   copied from the browser): parameter blocks, `Enum:`/`Default:` lines, status codes;
//! - Markdown tables (as AvePoint's): endpoint, URL/query parameters, request body and
//!   response fields, and a JSON response sample (with `//` comments).
//!
//! What is compared: every parameter and header (presence, place, required, type, enum
//! values, defaults, length limits), the request body's fields, the response record's
//! fields and types (from field lists and the example's values, `null` included), limits
//! stated in prose ("A maximum of 75 IDs"), the "not populated" lists, the documented
//! status codes, the method and path. A spec element whose description says "Assumption"
//! or "Assumed", or that carries `x-docs-differs: <why>`, is the spec's own call: what the
//! docs do not state about it is not reported.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::spec::{Spec, vendors};

/// One difference between a page and a spec.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Difference {
    /// The page's file name.
    pub page: String,
    /// The page's line (1-based) the fact comes from.
    pub line: usize,
    /// The spec and the path in it the difference concerns.
    pub spec_path: String,
    /// What differs.
    pub message: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: {} [{}]",
            self.page, self.line, self.message, self.spec_path
        )
    }
}

/// Runs `cargo xtask docs-check`: prints every difference; an error if there is one.
pub fn run(root: &Path, docs: &Path) -> Result<()> {
    if !docs.is_dir() {
        bail!(
            "{} is not a folder of vendor doc pages (pass --docs DIR)",
            docs.display()
        );
    }
    let mut all = Vec::new();
    let mut pages = 0;
    let vendors = vendors(root)?;
    for vendor in &vendors {
        let spec = Spec::load(root, &vendor.spec_rel())?;
        let (found, checked) = check_spec(&spec, docs)?;
        pages += checked;
        all.extend(found);
    }
    for d in &all {
        println!("{d}");
    }
    println!(
        "{pages} page(s) against {} spec(s): {} difference(s)",
        vendors.len(),
        all.len()
    );
    if !all.is_empty() {
        bail!("the specs differ from the vendors' docs");
    }
    Ok(())
}

/// Every difference between `spec` and the pages its operations name (in `docs`), and how
/// many pages were read.
pub fn check_spec(spec: &Spec, docs: &Path) -> Result<(Vec<Difference>, usize)> {
    let mut out = Vec::new();
    let mut pages = 0;
    for (path, method, op) in spec.operations() {
        let Some(page) = op.get("x-docs-page").and_then(Value::as_str) else {
            continue;
        };
        let file = docs.join(page);
        let text = std::fs::read_to_string(&file).with_context(|| {
            format!(
                "{}: x-docs-page {page}: reading {}",
                spec.rel,
                file.display()
            )
        })?;
        let facts = read_page(&text);
        let op_ref = OpRef {
            spec,
            path,
            method,
            op,
            page,
        };
        op_ref.compare(&facts, &mut out);
        pages += 1;
    }
    out.sort();
    out.dedup();
    Ok((out, pages))
}

// ---------------------------------------------------------------------------------------
// What a page states

/// A statement of a page, with the line it is on.
#[derive(Debug, Clone)]
struct Fact<T> {
    line: usize,
    value: T,
}

#[derive(Debug, Clone, Default)]
struct Param {
    /// `path`, `query`, `header`, `body`, if the page says.
    location: Option<String>,
    name: String,
    ty: Option<String>,
    required: Option<bool>,
    /// `Enum:` values.
    values: Vec<String>,
    default: Option<String>,
    /// `<= N characters`.
    max_chars: Option<u64>,
    /// Lists of "available values", by their label ("If multiple user IDs provided").
    available: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Clone)]
struct Field {
    name: String,
    ty: Option<String>,
}

/// Everything read from one page.
#[derive(Debug, Default)]
struct Facts {
    endpoint: Option<Fact<(String, String)>>,
    params: Vec<Fact<Param>>,
    body_fields: Vec<Fact<Field>>,
    fields: Vec<Fact<Field>>,
    example: Option<Fact<Value>>,
    unpopulated: Option<Fact<Vec<String>>>,
    max_ids: Option<Fact<u64>>,
    statuses: Vec<Fact<String>>,
}

fn read_page(text: &str) -> Facts {
    let lines: Vec<&str> = text.lines().collect();
    let mut facts = if text.contains("<ParamField") || text.contains("<ResponseField") {
        read_mintlify(&lines)
    } else if lines
        .iter()
        .any(|l| l.trim_start().starts_with("|---") || l.trim_start().starts_with("| ---"))
    {
        read_tables(&lines)
    } else {
        read_text_export(&lines)
    };
    read_prose(&lines, &mut facts);
    facts
}

/// Limits and partial-record lists stated in prose, in any format.
fn read_prose(lines: &[&str], facts: &mut Facts) {
    for (i, line) in lines.iter().enumerate() {
        let lower = line.to_lowercase();
        if let Some(at) = lower.find("a maximum of ")
            && facts.max_ids.is_none()
        {
            let rest = &lower[at + "a maximum of ".len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if rest[digits.len()..].trim_start().starts_with("id")
                && let Ok(n) = digits.parse()
            {
                facts.max_ids = Some(Fact {
                    line: i + 1,
                    value: n,
                });
            }
        }
        if lower.contains("not populated") && facts.unpopulated.is_none() {
            let names = if line.contains('`') {
                line.split('`')
                    .skip(1)
                    .step_by(2)
                    .map(str::to_owned)
                    .collect()
            } else {
                let after = line.split_once("response:").map_or("", |(_, rest)| rest);
                let list = after.split_once('.').map_or(after, |(list, _)| list);
                list.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            };
            facts.unpopulated = Some(Fact {
                line: i + 1,
                value: names,
            });
        }
    }
}

/// `key="value"` attributes and bare flags of a `<Tag ...>` line.
fn tag_attributes(line: &str) -> (BTreeMap<String, String>, BTreeSet<String>) {
    let inner = line
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim_end_matches('/');
    let mut attrs = BTreeMap::new();
    let mut flags = BTreeSet::new();
    let mut rest = inner.split_once(' ').map_or("", |(_, r)| r).trim();
    while !rest.is_empty() {
        let end = rest.find([' ', '=']).unwrap_or(rest.len());
        let key = rest[..end].to_owned();
        rest = &rest[end..];
        if let Some(after) = rest.strip_prefix("=\"") {
            let close = after.find('"').unwrap_or(after.len());
            attrs.insert(key, after[..close].to_owned());
            rest = after.get(close + 1..).unwrap_or("").trim_start();
        } else {
            if !key.is_empty() {
                flags.insert(key);
            }
            rest = rest.trim_start();
        }
    }
    (attrs, flags)
}

/// The first JSON value that starts at or after `lines[from]` (comments `//` dropped).
fn json_after(lines: &[&str], from: usize) -> Option<Fact<Value>> {
    let start = (from..lines.len()).find(|&i| {
        let t = lines[i].trim_start();
        t.starts_with('{') || t.starts_with('[')
    })?;
    let text: String = lines[start..]
        .iter()
        .map(|l| strip_comment(l))
        .collect::<Vec<_>>()
        .join("\n");
    let mut stream = serde_json::Deserializer::from_str(&text).into_iter::<Value>();
    let value = stream.next()?.ok()?;
    Some(Fact {
        line: start + 1,
        value,
    })
}

/// A line without its `// comment` (outside strings).
fn strip_comment(line: &str) -> String {
    let mut in_string = false;
    let mut escaped = false;
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if in_string => escaped = true,
            b'"' => in_string = !in_string,
            b'/' if !in_string && bytes.get(i + 1) == Some(&b'/') => return line[..i].to_owned(),
            _ => {}
        }
    }
    line.to_owned()
}

fn read_mintlify(lines: &[&str]) -> Facts {
    let mut facts = Facts::default();
    let mut in_responses = false;
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim();
        if line.starts_with("## ") {
            in_responses = line == "## Response" || line == "## Responses";
        }
        if let Some(status) = line.strip_prefix("### ")
            && in_responses
            && is_status(status)
        {
            facts.statuses.push(Fact {
                line: i + 1,
                value: status.to_owned(),
            });
        }
        if line.starts_with("<ParamField ") {
            let (attrs, flags) = tag_attributes(line);
            let located = ["path", "query", "header", "body"]
                .iter()
                .find_map(|l| attrs.get(*l).map(|name| ((*l).to_owned(), name.clone())));
            if let Some((location, name)) = located {
                facts.params.push(Fact {
                    line: i + 1,
                    value: Param {
                        location: Some(location),
                        name,
                        ty: attrs.get("type").cloned(),
                        required: Some(flags.contains("required")),
                        default: attrs.get("default").cloned(),
                        ..Param::default()
                    },
                });
            }
        }
        if line.starts_with("<ResponseField ") {
            let (attrs, _) = tag_attributes(line);
            if let Some(name) = attrs.get("name") {
                facts.fields.push(Fact {
                    line: i + 1,
                    value: Field {
                        name: name.clone(),
                        ty: attrs.get("type").cloned(),
                    },
                });
            }
        }
        if line.starts_with("```json") && line.contains("Example Response") {
            facts.example = json_after(lines, i + 1);
        }
    }
    facts
}

fn is_status(text: &str) -> bool {
    let t = text.trim();
    t.len() == 3
        && t.chars().next().is_some_and(|c| ('1'..='5').contains(&c))
        && t[1..]
            .chars()
            .all(|c| c.is_ascii_digit() || c == 'X' || c == 'x')
}

const TYPE_WORDS: &[&str] = &[
    "string", "integer", "boolean", "bool", "number", "array", "object",
];

fn is_type_line(line: &str) -> bool {
    let first = line.split_whitespace().next().unwrap_or("");
    let base = first.trim_end_matches("[]");
    TYPE_WORDS.contains(&base)
}

fn is_param_name(line: &str) -> bool {
    !line.is_empty()
        && line.len() <= 64
        && !line.contains(' ')
        && line
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "$-_.".contains(c))
        && !TYPE_WORDS.contains(&line)
        && line != "required"
}

/// Values quoted in an `Enum: "a" "b"` line.
fn quoted(line: &str) -> Vec<String> {
    line.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn read_text_export(lines: &[&str]) -> Facts {
    let mut facts = Facts::default();
    let mut location: Option<String> = None;
    let mut in_statuses = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        let lower = line.to_lowercase();
        if let Some(place) = lower.strip_suffix(" parameters") {
            location = match place {
                "path" | "url" => Some("path".to_owned()),
                "query" => Some("query".to_owned()),
                "header" => Some("header".to_owned()),
                _ => None,
            };
            in_statuses = false;
            i += 1;
            continue;
        }
        if lower == "responses" || lower == "response" {
            location = None;
            in_statuses = true;
            i += 1;
            continue;
        }
        if in_statuses && is_status(line) {
            facts.statuses.push(Fact {
                line: i + 1,
                value: line.to_owned(),
            });
        }
        if lower == "example response" || lower == "response samples" {
            if facts.example.is_none() {
                facts.example = json_after(lines, i + 1);
            }
            in_statuses = false;
        }
        if let Some((method, path)) = endpoint_line(line) {
            facts.endpoint = Some(Fact {
                line: i + 1,
                value: (method, path),
            });
            in_statuses = false;
        }
        if let Some(loc) = &location
            && is_param_name(line)
        {
            // A parameter block: its name, then "required" and/or its type line.
            let next: Vec<(usize, &str)> = (i + 1..lines.len())
                .map(|j| (j, lines[j].trim()))
                .filter(|(_, l)| !l.is_empty())
                .take(2)
                .collect();
            let starts = next
                .first()
                .is_some_and(|(_, l)| *l == "required" || is_type_line(l));
            if starts {
                let start = i;
                let mut param = Param {
                    location: Some(loc.clone()),
                    name: line.to_owned(),
                    required: Some(false),
                    ..Param::default()
                };
                let mut j = i + 1;
                while j < lines.len() {
                    let l = lines[j].trim();
                    if is_heading(l) || endpoint_line(l).is_some() {
                        break;
                    }
                    if is_param_name(l) && j > i + 1 {
                        let after: Vec<&str> = (j + 1..lines.len())
                            .map(|k| lines[k].trim())
                            .filter(|l| !l.is_empty())
                            .take(1)
                            .collect();
                        if after
                            .first()
                            .is_some_and(|a| *a == "required" || is_type_line(a))
                        {
                            break;
                        }
                    }
                    if l == "required" {
                        param.required = Some(true);
                    } else if is_type_line(l) && param.ty.is_none() {
                        let mut words = l.split_whitespace();
                        param.ty = words.next().map(str::to_owned);
                        if let Some(at) = l.find("<=") {
                            let n: String = l[at + 2..]
                                .trim_start()
                                .chars()
                                .take_while(char::is_ascii_digit)
                                .collect();
                            param.max_chars = n.parse().ok();
                        }
                    } else if let Some(rest) = l.strip_prefix("Enum:") {
                        param.values = quoted(rest);
                    } else if let Some(rest) = l.strip_prefix("Default:") {
                        param.default = Some(rest.trim().to_owned());
                    } else if let Some(rest) = l.strip_prefix("Available values:") {
                        param.available.push((String::new(), split_list(rest)));
                    } else if let Some((label, rest)) = l
                        .trim_start_matches(['•', '-', '*', ' '])
                        .split_once(" provided:")
                    {
                        param
                            .available
                            .push((label.trim().to_owned(), split_list(rest)));
                    }
                    j += 1;
                }
                facts.params.push(Fact {
                    line: start + 1,
                    value: param,
                });
                i = j;
                continue;
            }
        }
        i += 1;
    }
    facts
}

/// A heading of a text export: where a parameter block ends.
fn is_heading(line: &str) -> bool {
    let l = line.to_lowercase();
    l.ends_with(" parameters")
        || [
            "response",
            "responses",
            "code examples",
            "example response",
            "request samples",
            "response samples",
            "request body",
        ]
        .contains(&l.as_str())
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(|s| s.trim().trim_matches('`').trim_end_matches('.').to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// `get/users/{ids}` (a text export's operation line).
fn endpoint_line(line: &str) -> Option<(String, String)> {
    for method in ["get", "post", "put", "patch", "delete"] {
        if let Some(path) = line.strip_prefix(method)
            && path.starts_with('/')
            && !path.contains(' ')
        {
            return Some((method.to_owned(), path.to_owned()));
        }
    }
    None
}

fn cells(line: &str) -> Vec<String> {
    let t = line.trim().trim_start_matches('|').trim_end_matches('|');
    t.split('|')
        .map(|c| c.trim().trim_matches('`').trim().to_owned())
        .collect()
}

fn read_tables(lines: &[&str]) -> Facts {
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

// ---------------------------------------------------------------------------------------
// Comparing

struct OpRef<'a> {
    spec: &'a Spec,
    path: &'a str,
    method: &'a str,
    op: &'a Value,
    page: &'a str,
}

/// Whether the spec marks this element as its own call.
fn assumed(element: &Value) -> bool {
    element.get("x-docs-differs").is_some()
        || element
            .get("description")
            .and_then(Value::as_str)
            .is_some_and(|d| {
                let d = d.to_lowercase();
                d.contains("assumption") || d.contains("assumed")
            })
}

/// A page's type word as the spec writes it: `integer[]` -> `array<integer>`, `bool` ->
/// `boolean`.
fn doc_type(t: &str) -> String {
    let t = t.trim().to_lowercase();
    match t.strip_suffix("[]") {
        Some(item) => format!("array<{}>", doc_type(item)),
        None if t == "bool" => "boolean".to_owned(),
        None if t == "int" => "integer".to_owned(),
        None => t,
    }
}

impl OpRef<'_> {
    fn at(&self, rest: &str) -> String {
        format!(
            "{} paths.{}.{}{rest}",
            self.spec.rel, self.path, self.method
        )
    }

    fn diff(&self, out: &mut Vec<Difference>, line: usize, spec_path: String, message: String) {
        out.push(Difference {
            page: self.page.to_owned(),
            line,
            spec_path,
            message,
        });
    }

    /// The type words a schema accepts (`oneOf` branches each), `array<item>` for arrays.
    fn types(&self, schema: &Value) -> BTreeSet<String> {
        let schema = self.spec.resolve_all(schema).unwrap_or(schema);
        if let Some(branches) = schema
            .get("oneOf")
            .or_else(|| schema.get("anyOf"))
            .and_then(Value::as_array)
        {
            return branches.iter().flat_map(|b| self.types(b)).collect();
        }
        let Some(ty) = schema.get("type").and_then(Value::as_str) else {
            return BTreeSet::from(["any".to_owned()]);
        };
        if ty == "array" {
            let items = schema
                .get("items")
                .map_or_else(|| BTreeSet::from(["any".to_owned()]), |i| self.types(i));
            return items.into_iter().map(|i| format!("array<{i}>")).collect();
        }
        BTreeSet::from([ty.to_owned()])
    }

    /// Whether a schema accepts a page's type word.
    fn accepts(&self, schema: &Value, doc: &str) -> bool {
        let types = self.types(schema);
        let doc = doc_type(doc);
        types.contains("any")
            || types.contains(&doc)
            || (doc == "array<any>" && types.iter().any(|t| t.starts_with("array<")))
    }

    /// Whether a schema accepts a value of the example's kind.
    fn accepts_value(&self, schema: &Value, value: &Value) -> bool {
        let resolved = self.spec.resolve_all(schema).unwrap_or(schema);
        let nullable = resolved.get("nullable").and_then(Value::as_bool) == Some(true);
        let types = self.types(schema);
        if types.contains("any") {
            return true;
        }
        match value {
            Value::Null => nullable,
            Value::Bool(_) => types.contains("boolean"),
            Value::Number(n) if n.is_i64() || n.is_u64() => {
                types.contains("integer") || types.contains("number")
            }
            Value::Number(_) => types.contains("number"),
            Value::String(_) => types.contains("string"),
            Value::Array(_) => types.iter().any(|t| t.starts_with("array<")),
            Value::Object(_) => types.contains("object"),
        }
    }

    fn compare(&self, facts: &Facts, out: &mut Vec<Difference>) {
        self.compare_endpoint(facts, out);
        self.compare_params(facts, out);
        self.compare_body(facts, out);
        self.compare_fields(facts, out);
        self.compare_rules(facts, out);
        self.compare_statuses(facts, out);
    }

    fn compare_endpoint(&self, facts: &Facts, out: &mut Vec<Difference>) {
        let Some(Fact {
            line,
            value: (method, path),
        }) = &facts.endpoint
        else {
            return;
        };
        if method != self.method || !self.path.ends_with(path.as_str()) {
            self.diff(
                out,
                *line,
                self.at(""),
                format!(
                    "the page documents {} {path}; the spec has {} {}",
                    method.to_uppercase(),
                    self.method.to_uppercase(),
                    self.path
                ),
            );
        }
    }

    /// The operation's parameters, resolved, by name.
    fn spec_params(&self) -> Vec<&Value> {
        self.op
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|p| self.spec.resolve_all(p).unwrap_or(p))
            .collect()
    }

    fn ids_rules(&self) -> Option<&Value> {
        self.op.pointer("/x-userbatch/ids")
    }

    fn compare_params(&self, facts: &Facts, out: &mut Vec<Difference>) {
        let params = self.spec_params();
        let same = |p: &Value, name: &str| {
            p.get("name").and_then(Value::as_str).is_some_and(|n| {
                n == name
                    || (p.get("in").and_then(Value::as_str) == Some("header")
                        && n.eq_ignore_ascii_case(name))
            })
        };
        for Fact { line, value: doc } in &facts.params {
            if doc.location.as_deref() == Some("body") {
                continue;
            }
            let Some(p) = params.iter().find(|p| same(p, &doc.name)) else {
                self.diff(
                    out,
                    *line,
                    self.at(".parameters"),
                    format!(
                        "the page documents parameter `{}`{}; the spec does not have it",
                        doc.name,
                        doc.location
                            .as_deref()
                            .map_or(String::new(), |l| format!(" in {l}"))
                    ),
                );
                continue;
            };
            let at = self.at(&format!(".parameters[{}]", doc.name));
            let place = p.get("in").and_then(Value::as_str).unwrap_or("");
            if let Some(loc) = &doc.location
                && loc != place
            {
                self.diff(
                    out,
                    *line,
                    at.clone(),
                    format!("the page puts it in {loc}; the spec in {place}"),
                );
            }
            let required = p.get("required").and_then(Value::as_bool) == Some(true);
            if let Some(doc_required) = doc.required
                && doc_required != required
                && !assumed(p)
            {
                self.diff(
                    out,
                    *line,
                    at.clone(),
                    format!(
                        "the page says {}; the spec says {}",
                        if doc_required { "required" } else { "optional" },
                        if required { "required" } else { "optional" }
                    ),
                );
            }
            let schema = p.get("schema").cloned().unwrap_or(Value::Null);
            let ids = self.ids_rules().filter(|ids| {
                ids.get("name").and_then(Value::as_str) == p.get("name").and_then(Value::as_str)
            });
            if let Some(ty) = &doc.ty {
                match ids {
                    // The ids parameter: its shape is the rules' (a list written as text);
                    // the page's item type must be the ids' type.
                    Some(ids) => {
                        let id_type = ids.get("type").and_then(Value::as_str).unwrap_or("");
                        let doc = doc_type(ty);
                        let item = doc
                            .strip_prefix("array<")
                            .and_then(|d| d.strip_suffix('>'))
                            .unwrap_or(&doc);
                        if item != id_type {
                            self.diff(
                                out,
                                *line,
                                format!("{}.x-userbatch.ids.type", self.at("")),
                                format!(
                                    "the page types the ids as {ty}; the spec's ids are {id_type}"
                                ),
                            );
                        }
                    }
                    None if !self.accepts(&schema, ty) && !assumed(p) => self.diff(
                        out,
                        *line,
                        at.clone(),
                        format!(
                            "the page types it {ty}; the spec {}",
                            self.types(&schema)
                                .into_iter()
                                .collect::<Vec<_>>()
                                .join(" | ")
                        ),
                    ),
                    None => {}
                }
            }
            let resolved = self.spec.resolve_all(&schema).unwrap_or(&schema);
            if !doc.values.is_empty() {
                let spec_values: BTreeSet<String> = resolved
                    .get("enum")
                    .and_then(Value::as_array)
                    .map(|v| {
                        v.iter()
                            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let doc_values: BTreeSet<String> = doc.values.iter().cloned().collect();
                let spec_values = if assumed(p) {
                    // The spec's own call: only what the page has and the spec lacks.
                    spec_values.union(&doc_values).cloned().collect()
                } else {
                    spec_values
                };
                let sets = Sets {
                    page: &doc_values,
                    spec: &spec_values,
                    what: "values",
                };
                self.compare_sets(out, *line, &format!("{at}.schema.enum"), sets);
            }
            if let Some(default) = &doc.default {
                let spec_default = resolved
                    .get("default")
                    .map(|d| d.as_str().map_or_else(|| d.to_string(), str::to_owned));
                if spec_default.as_deref() != Some(default.as_str()) {
                    self.diff(
                        out,
                        *line,
                        format!("{at}.schema.default"),
                        format!(
                            "the page's default is {default}; the spec's {}",
                            spec_default.as_deref().unwrap_or("none")
                        ),
                    );
                }
            }
            if let Some(max) = doc.max_chars {
                let limit = match ids {
                    Some(_) => self
                        .op
                        .pointer("/x-userbatch/limits/max-segment-chars")
                        .and_then(Value::as_u64),
                    None => resolved.get("maxLength").and_then(Value::as_u64),
                };
                if limit != Some(max) {
                    self.diff(
                        out,
                        *line,
                        if ids.is_some() {
                            format!("{}.x-userbatch.limits.max-segment-chars", self.at(""))
                        } else {
                            format!("{at}.schema.maxLength")
                        },
                        format!(
                            "the page allows at most {max} characters; the spec {}",
                            limit.map_or("states no limit".to_owned(), |l| format!("{l}"))
                        ),
                    );
                }
            }
            if let Some(attributes) = self.op.pointer("/x-userbatch/attributes")
                && attributes.get("param").and_then(Value::as_str)
                    == p.get("name").and_then(Value::as_str)
            {
                self.compare_attributes(*line, attributes, &doc.available, out);
            }
        }
        // What the spec has and the page does not (when the page lists parameters at all).
        if facts.params.is_empty() {
            return;
        }
        for p in params {
            let name = p.get("name").and_then(Value::as_str).unwrap_or("");
            if !facts.params.iter().any(|d| same(p, &d.value.name)) && !assumed(p) {
                let line = facts.params.first().map_or(1, |f| f.line);
                self.diff(
                    out,
                    line,
                    self.at(&format!(".parameters[{name}]")),
                    format!("the spec has parameter `{name}`; the page does not document it"),
                );
            }
        }
    }

    /// `$attribute`'s available values: for a single id, every attribute; for several,
    /// those not single-id-only.
    fn compare_attributes(
        &self,
        line: usize,
        rules: &Value,
        available: &[(String, Vec<String>)],
        out: &mut Vec<Difference>,
    ) {
        let list = |key: &str| strings(rules.get(key));
        let values = list("values");
        let single_only = list("single-id-only");
        let all = rules.get("all").and_then(Value::as_str).unwrap_or("all");
        let custom = rules
            .get("custom-prefix")
            .and_then(Value::as_str)
            .unwrap_or("custom.");
        for (label, listed) in available {
            let label_l = label.to_lowercase();
            let expected: BTreeSet<String> = if label_l.contains("multiple") {
                values.difference(&single_only).cloned().collect()
            } else {
                values.clone()
            };
            let doc: BTreeSet<String> = listed
                .iter()
                .filter(|v| v.as_str() != all && !v.starts_with(custom))
                .cloned()
                .collect();
            let at = format!("{}.x-userbatch.attributes", self.at(""));
            let what = if label.is_empty() {
                "attributes".to_owned()
            } else {
                format!("attributes ({label})")
            };
            let sets = Sets {
                page: &doc,
                spec: &expected,
                what: &what,
            };
            self.compare_sets(out, line, &at, sets);
        }
    }

    fn compare_body(&self, facts: &Facts, out: &mut Vec<Difference>) {
        if facts.body_fields.is_empty() {
            return;
        }
        let Some(schema) = self
            .op
            .pointer("/requestBody/content/application~1json/schema")
        else {
            self.diff(
                out,
                facts.body_fields[0].line,
                self.at(".requestBody"),
                "the page documents a request body; the spec has none".to_owned(),
            );
            return;
        };
        let schema = self.spec.resolve_all(schema).unwrap_or(schema);
        for Fact { line, value: f } in &facts.body_fields {
            let prop = schema.pointer(&format!("/properties/{}", f.name));
            let at = self.at(&format!(".requestBody.{}", f.name));
            self.compare_field(out, *line, at, f, prop, "body field");
        }
    }

    /// A field the page documents against the spec's property for it, if any.
    fn compare_field(
        &self,
        out: &mut Vec<Difference>,
        line: usize,
        at: String,
        field: &Field,
        prop: Option<&Value>,
        kind: &str,
    ) {
        match prop {
            None => {
                let ty = field
                    .ty
                    .as_deref()
                    .map_or(String::new(), |t| format!(" ({t})"));
                let message = format!(
                    "the page documents {kind} `{}`{ty}; the spec does not have it",
                    field.name
                );
                self.diff(out, line, at, message);
            }
            Some(prop) => {
                if let Some(ty) = &field.ty
                    && !self.accepts(prop, ty)
                    && !assumed(prop)
                {
                    let types = self.types(prop);
                    let message = format!(
                        "the page types `{}` {ty}; the spec {}",
                        field.name,
                        join(&types.iter().collect::<Vec<_>>())
                    );
                    self.diff(out, line, at, message);
                }
            }
        }
    }

    /// The 200 response's schema, and the records' schema inside it.
    fn record_schema(&self) -> Option<(&Value, &Value)> {
        let body = self
            .op
            .pointer("/responses/200/content/application~1json/schema")?;
        let mut schema = self.spec.resolve_all(body).ok()?;
        let pointer = self
            .op
            .pointer("/x-userbatch/records/pointer")
            .and_then(Value::as_str)
            .unwrap_or("");
        for token in pointer.split('/').filter(|t| !t.is_empty()) {
            schema = self
                .spec
                .resolve_all(schema.pointer(&format!("/properties/{token}"))?)
                .ok()?;
        }
        if schema.get("type").and_then(Value::as_str) == Some("array") {
            schema = self.spec.resolve_all(schema.get("items")?).ok()?;
        }
        Some((self.spec.resolve_all(body).ok()?, schema))
    }

    /// The schema name of the records, for messages.
    fn record_path(&self) -> String {
        let mut schema = self
            .op
            .pointer("/responses/200/content/application~1json/schema");
        let mut name = None;
        for _ in 0..4 {
            let Some(s) = schema else { break };
            if let Some(r) = s.get("$ref").and_then(Value::as_str) {
                name = r.rsplit('/').next().map(str::to_owned);
                schema = self.spec.resolve(s).ok();
            } else {
                schema = s.get("items");
            }
        }
        match name {
            Some(n) => format!("{} components.schemas.{n}", self.spec.rel),
            None => self.at(".responses.200"),
        }
    }

    /// A property anywhere in `schema` (through objects, arrays and references).
    fn find_property<'s>(
        &'s self,
        schema: &'s Value,
        name: &str,
        depth: usize,
    ) -> Option<&'s Value> {
        if depth > 6 {
            return None;
        }
        let schema = self.spec.resolve_all(schema).ok()?;
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            if let Some(p) = props.get(name) {
                return Some(p);
            }
            for p in props.values() {
                if let Some(found) = self.find_property(p, name, depth + 1) {
                    return Some(found);
                }
            }
        }
        schema
            .get("items")
            .and_then(|i| self.find_property(i, name, depth + 1))
    }

    fn compare_fields(&self, facts: &Facts, out: &mut Vec<Difference>) {
        let Some((body, record)) = self.record_schema() else {
            return;
        };
        let at_record = self.record_path();
        let props = record
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut documented: BTreeSet<String> = BTreeSet::new();
        for Fact { line, value: f } in &facts.fields {
            documented.insert(f.name.clone());
            let prop = props
                .get(&f.name)
                .or_else(|| self.find_property(body, &f.name, 0));
            let at = format!("{at_record}.properties.{}", f.name);
            self.compare_field(out, *line, at, f, prop, "field");
        }
        // The example's first record: every key and the kind of every value.
        let example_record = facts.example.as_ref().and_then(|e| {
            let pointer = self
                .op
                .pointer("/x-userbatch/records/pointer")
                .and_then(Value::as_str)
                .unwrap_or("");
            let records = e.value.pointer(pointer)?;
            let first = match records {
                Value::Array(list) => list.first()?,
                other => other,
            };
            Some((e.line, first.as_object()?.clone()))
        });
        if let Some((line, record_value)) = &example_record {
            for (key, value) in record_value {
                documented.insert(key.clone());
                let at = format!("{at_record}.properties.{key}");
                match props.get(key) {
                    None => self.diff(
                        out,
                        *line,
                        at,
                        format!("the page's example has field `{key}`; the spec does not have it"),
                    ),
                    Some(prop) if !self.accepts_value(prop, value) && !assumed(prop) => self.diff(
                        out,
                        *line,
                        at,
                        format!(
                            "the page's example gives `{key}` {}; the spec {}{}",
                            if value.is_null() {
                                "null".to_owned()
                            } else {
                                format!("the value {value}")
                            },
                            join(&self.types(prop).iter().collect::<Vec<_>>()),
                            if value.is_null() {
                                " (not nullable)"
                            } else {
                                ""
                            }
                        ),
                    ),
                    Some(_) => {}
                }
            }
        }
        if let Some(list) = &facts.unpopulated {
            documented.extend(list.value.iter().cloned());
        }
        // What the spec has and the page does not, when the page describes the records.
        if facts.fields.is_empty() && example_record.is_none() {
            return;
        }
        let line = facts
            .fields
            .first()
            .map(|f| f.line)
            .or(example_record.as_ref().map(|e| e.0))
            .unwrap_or(1);
        for (name, prop) in &props {
            if !documented.contains(name) && !assumed(prop) {
                self.diff(
                    out,
                    line,
                    format!("{at_record}.properties.{name}"),
                    format!("the spec has field `{name}`; the page does not document it"),
                );
            }
        }
    }

    fn compare_rules(&self, facts: &Facts, out: &mut Vec<Difference>) {
        if let Some(Fact { line, value }) = &facts.max_ids {
            let spec = self
                .op
                .pointer("/x-userbatch/limits/max-ids")
                .and_then(Value::as_u64);
            if spec != Some(*value) {
                self.diff(
                    out,
                    *line,
                    format!("{}.x-userbatch.limits.max-ids", self.at("")),
                    format!(
                        "the page allows at most {value} ids per request; the spec {}",
                        spec.map_or("states no limit".to_owned(), |s| s.to_string())
                    ),
                );
            }
        }
        if let Some(Fact { line, value }) = &facts.unpopulated {
            let spec = strings(self.op.pointer("/x-userbatch/partial/unpopulated"));
            let doc: BTreeSet<String> = value.iter().cloned().collect();
            let at = format!("{}.x-userbatch.partial.unpopulated", self.at(""));
            let sets = Sets {
                page: &doc,
                spec: &spec,
                what: "as not populated",
            };
            self.compare_sets(out, *line, &at, sets);
        }
    }

    /// What one of two lists has and the other lacks, each way.
    fn compare_sets(&self, out: &mut Vec<Difference>, line: usize, at: &str, sets: Sets<'_>) {
        for (who, has, other, lacks) in [
            ("page", sets.page, "spec", sets.spec),
            ("spec", sets.spec, "page", sets.page),
        ] {
            let only: Vec<&String> = has.difference(lacks).collect();
            if !only.is_empty() {
                let message = format!(
                    "the {who} lists {}: {}; the {other} does not",
                    sets.what,
                    join(&only)
                );
                self.diff(out, line, at.to_owned(), message);
            }
        }
    }

    fn compare_statuses(&self, facts: &Facts, out: &mut Vec<Difference>) {
        if facts.statuses.is_empty() {
            return;
        }
        let responses = self
            .op
            .get("responses")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let covers = |key: &str, status: &str| {
            key == status
                || (key.len() == 3 && key.ends_with("XX") && status.starts_with(&key[..1]))
        };
        for Fact { line, value } in &facts.statuses {
            if !responses.keys().any(|k| covers(k, value)) {
                self.diff(
                    out,
                    *line,
                    self.at(".responses"),
                    format!("the page documents status {value}; the spec does not"),
                );
            }
        }
        for (key, response) in &responses {
            let response = self.spec.resolve_all(response).unwrap_or(response);
            if !facts.statuses.iter().any(|s| covers(key, &s.value)) && !assumed(response) {
                self.diff(
                    out,
                    facts.statuses[0].line,
                    self.at(&format!(".responses.{key}")),
                    format!("the spec documents status {key}; the page does not"),
                );
            }
        }
    }
}

/// The strings of a JSON array (none if it is not one).
fn strings(list: Option<&Value>) -> BTreeSet<String> {
    list.and_then(Value::as_array)
        .map(|v| {
            v.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Two lists of one thing, as the page and the spec give them.
struct Sets<'a> {
    page: &'a BTreeSet<String>,
    spec: &'a BTreeSet<String>,
    what: &'a str,
}

fn join<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ")
}
