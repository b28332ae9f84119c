//! Deterministic records for any id, shaped by the specs' schemas.
//!
//! Each record schema is compiled once into a list of (field, generator) pairs; a record is
//! then a handful of hashes and hand-formatted values per field, written straight to JSON.
//! Handlers decode what they wrote with the generated vendor types (every record in debug
//! builds, the first of each response in release builds), so a record that no longer fits
//! a generated type fails loudly instead of drifting.

use std::io::Write as _;
use std::sync::LazyLock;

use serde_json::Value;

/// The specs the clients are generated from, as JSON (`cargo xtask generate` writes these
/// from `specs/*.yaml`, and `--check` keeps them in step), compiled into the mock.
const NEXUDUS_SPEC: &str = include_str!("../specs/nexudus.json");
const USERMGR_SPEC: &str = include_str!("../specs/usermgr.json");
const AVEPOINT_SPEC: &str = include_str!("../specs/avepoint.json");

/// Compiled record schemas, parsed on first use.
pub(crate) struct Schemas {
    pub nexudus_user: RecordSchema,
    pub nexudus_coworker: RecordSchema,
    pub usermgr_user: RecordSchema,
    pub avepoint_user: RecordSchema,
    /// The `Accept-Language` values User Manager's spec lists.
    pub usermgr_languages: Vec<String>,
}

pub(crate) static SCHEMAS: LazyLock<Schemas> = LazyLock::new(|| {
    let nexudus = parse(NEXUDUS_SPEC);
    let usermgr = parse(USERMGR_SPEC);
    let avepoint = parse(AVEPOINT_SPEC);
    Schemas {
        nexudus_user: RecordSchema::compile(&nexudus, "User"),
        nexudus_coworker: RecordSchema::compile(&nexudus, "Coworker"),
        usermgr_user: RecordSchema::compile(&usermgr, "User"),
        avepoint_user: RecordSchema::compile(&avepoint, "User"),
        usermgr_languages: header_enum(&usermgr, "Accept-Language"),
    }
});

/// The `enum` of a header parameter, wherever the spec declares it.
fn header_enum(spec: &Value, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for item in spec
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|p| p.values())
    {
        for op in item.as_object().into_iter().flat_map(|o| o.values()) {
            for p in op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if p.get("in").and_then(Value::as_str) == Some("header")
                    && p.get("name").and_then(Value::as_str) == Some(name)
                {
                    let values = p.pointer("/schema/enum").and_then(Value::as_array);
                    out.extend(
                        values
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                            .map(str::to_owned),
                    );
                }
            }
        }
    }
    assert!(!out.is_empty(), "the spec lists the {name} values");
    out
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("xtask writes the specs as JSON")
}

/// A record schema compiled for generation.
pub(crate) struct RecordSchema {
    fields: Vec<Field>,
}

/// One top-level property, with what every record needs of it computed once.
struct Field {
    name: String,
    /// `"name":`, escaped.
    key: Vec<u8>,
    /// `hash_bytes(NAME_SEED, name)`, the name's half of [`hash3`].
    name_hash: u64,
    kind: Gen,
}

#[derive(Debug, Clone)]
enum Gen {
    Text,
    Email,
    Password,
    DateTime,
    Uuid,
    Integer,
    Number,
    Boolean,
    Array(Box<Gen>),
    Object(Vec<(String, Gen)>),
    /// Any JSON value (undocumented shape): an object with an id-like field.
    Any,
    Nullable(Box<Gen>),
}

impl RecordSchema {
    fn compile(spec: &Value, name: &str) -> Self {
        let schema = spec
            .pointer(&format!("/components/schemas/{name}"))
            .unwrap_or_else(|| panic!("schema {name} is in the spec"));
        let Gen::Object(fields) = compile(spec, schema, "") else {
            panic!("schema {name} is an object");
        };
        let fields = fields
            .into_iter()
            .map(|(name, kind)| {
                let mut key = Vec::with_capacity(name.len() + 3);
                write_str(&mut key, &[&name]);
                key.push(b':');
                Field {
                    name_hash: hash_bytes(NAME_SEED, name.as_bytes()),
                    key,
                    name,
                    kind,
                }
            })
            .collect();
        Self { fields }
    }

    /// Whether the schema has a top-level property `name`.
    pub(crate) fn has_field(&self, name: &str) -> bool {
        self.fields.iter().any(|f| f.name == name)
    }

    /// Marks the fields named in `names` (e.g. a summary's unpopulated fields).
    pub(crate) fn mask<S: AsRef<str>>(&self, names: &[S]) -> Vec<bool> {
        self.fields
            .iter()
            .map(|f| names.iter().any(|n| n.as_ref() == f.name))
            .collect()
    }

    /// Writes the record for `id` as JSON: every property of the schema but those `skip`
    /// marks, the id field set to `id`, other values derived from (seed, id, field); about
    /// one in five nullable fields is null. `drift` departs from the schema on purpose.
    pub(crate) fn write_json(
        &self,
        out: &mut Vec<u8>,
        seed: u64,
        id_field: &str,
        id: &Value,
        skip: Option<&[bool]>,
        drift: RecordDrift<'_>,
    ) {
        let key = id_key(id);
        let id_hash = hash_bytes(seed, key.as_bytes());
        let mut escaped = Vec::with_capacity(key.len());
        escape_into(&mut escaped, &key);
        let record_id = RecordId {
            text: &key,
            escaped: &escaped,
        };
        out.push(b'{');
        let mut first = true;
        for (i, field) in self.fields.iter().enumerate() {
            if skip.is_some_and(|s| s[i]) {
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(&field.key);
            match drift.replace.iter().find(|(name, _)| *name == field.name) {
                Some((_, value)) => {
                    serde_json::to_writer(&mut *out, value).expect("writing to a Vec cannot fail")
                }
                _ if field.name == id_field => {
                    serde_json::to_writer(&mut *out, id).expect("writing to a Vec cannot fail")
                }
                _ => {
                    let h = splitmix(id_hash ^ field.name_hash);
                    write_value(out, &field.kind, h, &field.name, &record_id);
                }
            }
        }
        if drift.unknown_fields {
            if !first {
                out.push(b',');
            }
            out.extend_from_slice(UNKNOWN_FIELDS);
        }
        out.push(b'}');
    }
}

/// What [`crate::Drift`] sets for unknown fields: one object, one `null`.
pub(crate) const UNKNOWN_FIELDS: &[u8] =
    br#""AddedLastWeek":{"since":"2026-11-17","values":[1,"two",null]},"UnknownNull":null"#;

/// How one record departs from its schema.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RecordDrift<'a> {
    /// Fields the spec does not know, at the end.
    pub unknown_fields: bool,
    /// These fields' values replaced by these JSON values.
    pub replace: &'a [(&'a str, &'a Value)],
}

fn id_key(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn compile(spec: &Value, schema: &Value, name: &str) -> Gen {
    let schema = resolve(spec, schema);
    let base = match (
        schema.get("type").and_then(Value::as_str),
        schema.get("format").and_then(Value::as_str),
    ) {
        (Some("string"), Some("password")) => Gen::Password,
        (Some("string"), Some("date-time")) => Gen::DateTime,
        (Some("string"), Some("uuid")) => Gen::Uuid,
        (Some("string"), _) if name.to_ascii_lowercase().contains("mail") => Gen::Email,
        (Some("string"), _) => Gen::Text,
        (Some("integer"), _) => Gen::Integer,
        (Some("number"), _) => Gen::Number,
        (Some("boolean"), _) => Gen::Boolean,
        (Some("array"), _) => Gen::Array(Box::new(
            schema
                .get("items")
                .map_or(Gen::Any, |items| compile(spec, items, name)),
        )),
        (Some("object"), _) => {
            let fields: Vec<(String, Gen)> = schema
                .get("properties")
                .and_then(Value::as_object)
                .map(|props| {
                    props
                        .iter()
                        .map(|(k, v)| (k.clone(), compile(spec, v, k)))
                        .collect()
                })
                .unwrap_or_default();
            if fields.is_empty() && schema.get("additionalProperties").is_some() {
                // A free-form map (e.g. User Manager's custom attributes).
                Gen::Object(vec![("costCenter".to_owned(), Gen::Text)])
            } else {
                Gen::Object(fields)
            }
        }
        _ => match schema.get("oneOf").and_then(Value::as_array) {
            // The first branch is the documented shape.
            Some(branches) if !branches.is_empty() => compile(spec, &branches[0], name),
            _ => Gen::Any,
        },
    };
    if schema.get("nullable") == Some(&Value::Bool(true)) {
        Gen::Nullable(Box::new(base))
    } else {
        base
    }
}

fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(
            spec,
            spec.pointer(r.trim_start_matches('#')).unwrap_or(schema),
        ),
        None => schema,
    }
}

/// Writes a JSON string made of `parts`, escaped.
fn write_str(out: &mut Vec<u8>, parts: &[&str]) {
    out.push(b'"');
    for part in parts {
        escape_into(out, part);
    }
    out.push(b'"');
}

/// `text` escaped for the inside of a JSON string; copied whole when nothing needs escaping.
fn escape_into(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    if !bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\') {
        out.extend_from_slice(bytes);
        return;
    }
    for &b in bytes {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0..=0x1f => {
                let _ = write!(out, "\\u{b:04x}");
            }
            _ => out.push(b),
        }
    }
}

/// The id of the record being written: as text (what hashes use) and JSON-escaped (what
/// string values embed), escaped once per record.
struct RecordId<'a> {
    text: &'a str,
    escaped: &'a [u8],
}

/// Writes one value. Numbers and fixed-format strings are formatted by hand: `write!`
/// was an eighth of the mock's time.
fn write_value(out: &mut Vec<u8>, kind: &Gen, h: u64, name: &str, id: &RecordId<'_>) {
    match kind {
        Gen::Nullable(inner) => {
            if h.is_multiple_of(5) {
                out.extend_from_slice(b"null");
            } else {
                write_value(out, inner, h, name, id);
            }
        }
        Gen::Text => {
            out.push(b'"');
            escape_into(out, name);
            out.push(b' ');
            out.extend_from_slice(id.escaped);
            out.push(b'"');
        }
        Gen::Email => {
            out.extend_from_slice(b"\"user.");
            out.extend_from_slice(id.escaped);
            out.extend_from_slice(b"@example.com\"");
        }
        Gen::Password => {
            out.extend_from_slice(b"\"secret-");
            write_hex(out, h, 16);
            out.push(b'"');
        }
        Gen::DateTime => {
            let h = h >> 8;
            out.extend_from_slice(b"\"20");
            write_2(out, 18 + h % 8);
            out.push(b'-');
            write_2(out, 1 + (h >> 3) % 12);
            out.push(b'-');
            write_2(out, 1 + (h >> 7) % 28);
            out.push(b'T');
            write_2(out, (h >> 12) % 24);
            out.push(b':');
            write_2(out, (h >> 17) % 60);
            out.push(b':');
            write_2(out, (h >> 23) % 60);
            out.extend_from_slice(b"Z\"");
        }
        Gen::Uuid => {
            let b = splitmix(h);
            out.push(b'"');
            write_hex(out, h >> 32, 8);
            out.push(b'-');
            write_hex(out, (h >> 16) & 0xffff, 4);
            out.extend_from_slice(b"-4");
            write_hex(out, h & 0xfff, 3);
            out.extend_from_slice(b"-8");
            write_hex(out, b >> 52, 3);
            out.push(b'-');
            write_hex(out, b & 0xffff_ffff_ffff, 12);
            out.push(b'"');
        }
        Gen::Integer => write_u64(out, h % 1000),
        Gen::Number => {
            // Two decimals, e.g. 971.69 or 5.07.
            let cents = h % 100_000;
            write_u64(out, cents / 100);
            out.push(b'.');
            write_2(out, cents % 100);
        }
        Gen::Boolean => out.extend_from_slice(if h & 1 == 1 { b"true" } else { b"false" }),
        Gen::Array(item) => {
            out.push(b'[');
            for i in 0..(h >> 4) % 3 {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item, splitmix(h ^ i), name, id);
            }
            out.push(b']');
        }
        Gen::Object(fields) => {
            out.push(b'{');
            for (i, (k, g)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, &[k]);
                out.push(b':');
                write_value(out, g, hash3(h, id.text, k), k, id);
            }
            out.push(b'}');
        }
        Gen::Any => {
            out.extend_from_slice(b"{\"id\":\"");
            escape_into(out, name);
            out.push(b'-');
            let v = h % 4096;
            let digits = if v >= 0x100 {
                3
            } else if v >= 0x10 {
                2
            } else {
                1
            };
            write_hex(out, v, digits);
            out.extend_from_slice(b"\"}");
        }
    }
}

/// `n` in decimal.
fn write_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// `n` (below 100) as two decimal digits.
fn write_2(out: &mut Vec<u8>, n: u64) {
    out.push(b'0' + (n / 10 % 10) as u8);
    out.push(b'0' + (n % 10) as u8);
}

/// The low `digits` hex digits of `n`, lower case, zero-padded.
fn write_hex(out: &mut Vec<u8>, n: u64, digits: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for i in (0..digits).rev() {
        out.push(HEX[((n >> (4 * i)) & 0xf) as usize]);
    }
}

/// SplitMix64: a fast, well-mixed 64-bit step.
pub(crate) fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A stable hash of bytes (FNV-1a, then mixed); not `DefaultHasher`, whose output may
/// change between Rust releases and would break determinism by seed.
pub(crate) fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    splitmix(h)
}

/// The seed of the second string's hash in [`hash3`].
const NAME_SEED: u64 = 0x5bd1_e995;

pub(crate) fn hash3(seed: u64, a: &str, b: &str) -> u64 {
    splitmix(hash_bytes(seed, a.as_bytes()) ^ hash_bytes(NAME_SEED, b.as_bytes()))
}

/// A number in `[0, 1)` from a hash.
pub(crate) fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}
