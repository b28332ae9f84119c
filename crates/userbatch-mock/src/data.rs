//! Deterministic records for any id, shaped by the specs' schemas.
//!
//! Each record schema is compiled once into a list of (field, generator) pairs; a record is
//! then a handful of hashes per field, written to JSON through a `Serialize` impl (serde_json
//! does the escaping and number formatting).

use std::sync::LazyLock;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

/// A record schema compiled for generation.
pub(crate) struct RecordSchema {
    /// `vendor.Schema`: which records these are (the key of records written by a PUT).
    pub(crate) key: &'static str,
    fields: Vec<Field>,
}

/// One top-level property, with what every record needs of it computed once.
struct Field {
    name: String,
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
    /// `format: int32`.
    Int32,
    Number,
    Boolean,
    Array(Box<Gen>),
    Object(Vec<(String, Gen)>),
    /// Any JSON value (undocumented shape): an object with an id-like field.
    Any,
    Nullable(Box<Gen>),
}

impl RecordSchema {
    pub(crate) fn compile(spec: &Value, name: &str, key: &'static str) -> Self {
        let schema = spec
            .pointer(&format!("/components/schemas/{name}"))
            .unwrap_or_else(|| panic!("schema {name} is in the spec"));
        Self::compile_schema(spec, schema, key)
            .unwrap_or_else(|| panic!("schema {name} is an object"))
    }

    /// The object schema `schema` (inline or a `$ref`), if it is one.
    pub(crate) fn compile_schema(spec: &Value, schema: &Value, key: &'static str) -> Option<Self> {
        let Gen::Object(fields) = compile(spec, schema, "") else {
            return None;
        };
        let fields = fields
            .into_iter()
            .map(|(name, kind)| Field {
                name_hash: hash_bytes(NAME_SEED, name.as_bytes()),
                name,
                kind,
            })
            .collect();
        Some(Self { key, fields })
    }

    /// Writes a record stored by a PUT as JSON, without the fields `skip` marks (a list
    /// endpoint's unpopulated fields).
    pub(crate) fn write_stored(
        &self,
        out: &mut Vec<u8>,
        record: &serde_json::Map<String, Value>,
        skip: Option<&[bool]>,
    ) {
        let skipped = |name: &str| {
            skip.is_some_and(|s| {
                self.fields
                    .iter()
                    .position(|f| f.name == name)
                    .is_some_and(|i| s[i])
            })
        };
        let kept: serde_json::Map<String, Value> = record
            .iter()
            .filter(|(name, _)| !skipped(name))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        serde_json::to_writer(out, &kept).expect("writing to a Vec cannot fail");
    }

    /// Whether the schema has a top-level property `name`.
    pub(crate) fn has_field(&self, name: &str) -> bool {
        self.fields.iter().any(|f| f.name == name)
    }

    /// The first top-level field of `record` whose value the schema does not allow, and why:
    /// a value of another JSON type than the schema's, `null` where it is not nullable (the
    /// generated types take a missing and a `null` optional field alike, the spec does
    /// not), or a string not in its `date-time` or `uuid` format.
    pub(crate) fn invalid_field<'a>(
        &self,
        record: &'a serde_json::Map<String, Value>,
    ) -> Option<(&'a str, &'static str)> {
        record.iter().find_map(|(name, value)| {
            let field = self.fields.iter().find(|f| f.name == *name)?;
            invalid(&field.kind, value).map(|why| (name.as_str(), why))
        })
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
        let record = Record {
            schema: self,
            id_hash: hash_bytes(seed, key.as_bytes()),
            key: &key,
            id_field,
            id,
            skip,
            drift,
        };
        serde_json::to_writer(out, &record).expect("writing to a Vec cannot fail");
    }
}

/// Why `value` does not fit `kind`, items and fields included, if it does not.
fn invalid(kind: &Gen, value: &Value) -> Option<&'static str> {
    let kind = match kind {
        Gen::Nullable(inner) if !value.is_null() => inner.as_ref(),
        other => other,
    };
    match (kind, value) {
        (Gen::Nullable(_) | Gen::Any, _) => None,
        (_, Value::Null) => Some("must not be null"),
        (Gen::Integer, v) if !v.is_i64() => Some("must be a 64-bit integer"),
        (Gen::Int32, v) if v.as_i64().and_then(|n| i32::try_from(n).ok()).is_none() => {
            Some("must be a 32-bit integer")
        }
        (Gen::Number, v) if !v.is_number() => Some("must be a number"),
        (Gen::Boolean, v) if !v.is_boolean() => Some("must be a boolean"),
        (Gen::Array(items), v) => match v.as_array() {
            None => Some("must be an array"),
            Some(values) => values.iter().find_map(|v| invalid(items, v)),
        },
        (Gen::Object(fields), v) => match v.as_object() {
            None => Some("must be an object"),
            Some(map) => fields
                .iter()
                .find_map(|(name, kind)| map.get(name).and_then(|v| invalid(kind, v))),
        },
        (Gen::Text | Gen::Email | Gen::Password | Gen::DateTime | Gen::Uuid, v)
            if !v.is_string() =>
        {
            Some("must be a string")
        }
        (Gen::DateTime, Value::String(text))
            if chrono::DateTime::parse_from_rfc3339(text).is_err() =>
        {
            Some("must be a date-time (RFC 3339)")
        }
        (Gen::Uuid, Value::String(text)) if uuid::Uuid::parse_str(text).is_err() => {
            Some("must be a UUID")
        }
        _ => None,
    }
}

/// One generated record, written through `Serialize`.
struct Record<'a> {
    schema: &'a RecordSchema,
    id_hash: u64,
    /// The id as text (what hashes and text values use).
    key: &'a str,
    id_field: &'a str,
    id: &'a Value,
    skip: Option<&'a [bool]>,
    drift: RecordDrift<'a>,
}

impl Serialize for Record<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        let drifted = !self.drift.replace.is_empty();
        for (i, field) in self.schema.fields.iter().enumerate() {
            if self.skip.is_some_and(|s| s[i]) {
                continue;
            }
            let replaced = drifted
                .then(|| {
                    self.drift
                        .replace
                        .iter()
                        .find(|(name, _)| *name == field.name)
                })
                .flatten();
            match replaced {
                Some((_, value)) => map.serialize_entry(&field.name, value)?,
                _ if field.name == self.id_field => map.serialize_entry(&field.name, self.id)?,
                _ => map.serialize_entry(
                    &field.name,
                    &Generated {
                        kind: &field.kind,
                        h: splitmix(self.id_hash ^ field.name_hash),
                        name: &field.name,
                        id: self.key,
                    },
                )?,
            }
        }
        if self.drift.unknown_fields {
            for (name, value) in UNKNOWN_FIELDS.iter() {
                map.serialize_entry(name, value)?;
            }
        }
        map.end()
    }
}

/// One generated value: `kind`, from hash `h`, for field `name` of the record `id`.
struct Generated<'a> {
    kind: &'a Gen,
    h: u64,
    name: &'a str,
    id: &'a str,
}

impl Serialize for Generated<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (h, name, id) = (self.h, self.name, self.id);
        let nested = |kind, h, name| Generated { kind, h, name, id };
        match self.kind {
            Gen::Nullable(inner) => {
                if h.is_multiple_of(5) {
                    serializer.serialize_none()
                } else {
                    nested(inner, h, name).serialize(serializer)
                }
            }
            Gen::Text => concat([name, " ", id], serializer),
            Gen::Email => concat(["user.", id, "@example.com"], serializer),
            Gen::Password => {
                let mut text = Ascii::<23>::new();
                text.push(b"secret-");
                text.hex(h, 16);
                serializer.serialize_str(text.as_str())
            }
            Gen::DateTime => {
                let h = h >> 8;
                let mut text = Ascii::<20>::new();
                text.push(b"20");
                text.two(18 + h % 8);
                text.push(b"-");
                text.two(1 + (h >> 3) % 12);
                text.push(b"-");
                text.two(1 + (h >> 7) % 28);
                text.push(b"T");
                text.two((h >> 12) % 24);
                text.push(b":");
                text.two((h >> 17) % 60);
                text.push(b":");
                text.two((h >> 23) % 60);
                text.push(b"Z");
                serializer.serialize_str(text.as_str())
            }
            Gen::Uuid => {
                let b = splitmix(h);
                let mut text = Ascii::<36>::new();
                text.hex(h >> 32, 8);
                text.push(b"-");
                text.hex((h >> 16) & 0xffff, 4);
                text.push(b"-4");
                text.hex(h & 0xfff, 3);
                text.push(b"-8");
                text.hex(b >> 52, 3);
                text.push(b"-");
                text.hex(b & 0xffff_ffff_ffff, 12);
                serializer.serialize_str(text.as_str())
            }
            Gen::Integer | Gen::Int32 => serializer.serialize_u64(h % 1000),
            // Two decimals, e.g. 971.69 or 5.07.
            Gen::Number => serializer.serialize_f64((h % 100_000) as f64 / 100.0),
            Gen::Boolean => serializer.serialize_bool(h & 1 == 1),
            Gen::Array(item) => {
                let len = (h >> 4) % 3;
                let mut seq = serializer.serialize_seq(Some(len as usize))?;
                for i in 0..len {
                    seq.serialize_element(&nested(item, splitmix(h ^ i), name))?;
                }
                seq.end()
            }
            Gen::Object(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (k, g) in fields {
                    map.serialize_entry(k, &nested(g, hash3(h, id, k), k))?;
                }
                map.end()
            }
            Gen::Any => {
                let mut hex = Ascii::<3>::new();
                let v = h % 4096;
                hex.hex(v, 1 + u32::from(v >= 0x10) + u32::from(v >= 0x100));
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("id", &Concat([name, "-", hex.as_str()]))?;
                map.end()
            }
        }
    }
}

thread_local! {
    /// A scratch string for [`concat`], reused so that no value allocates.
    static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// `parts` joined, as one JSON string (built in a reused scratch string: cheaper than
/// `collect_str`'s formatting machinery).
fn concat<S: Serializer>(parts: [&str; 3], serializer: S) -> Result<S::Ok, S::Error> {
    SCRATCH.with(|cell| {
        let mut text = cell.take();
        text.clear();
        parts.iter().for_each(|part| text.push_str(part));
        let result = serializer.serialize_str(&text);
        cell.replace(text);
        result
    })
}

/// Strings written one after the other, for `collect_str` (serde_json escapes each piece
/// as it goes; nothing is allocated).
struct Concat<'a, const N: usize>([&'a str; N]);

impl<const N: usize> Serialize for Concat<'_, N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<const N: usize> std::fmt::Display for Concat<'_, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|part| f.write_str(part))
    }
}

/// A fixed-format ASCII string built on the stack: digits and hex without `fmt`'s cost
/// (formatting with `write!` would cost about an eighth of the mock's time).
struct Ascii<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Ascii<N> {
    fn new() -> Self {
        Self {
            bytes: [0; N],
            len: 0,
        }
    }

    fn push(&mut self, text: &[u8]) {
        self.bytes[self.len..self.len + text.len()].copy_from_slice(text);
        self.len += text.len();
    }

    /// `n` (below 100) as two decimal digits.
    fn two(&mut self, n: u64) {
        self.push(&[b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8]);
    }

    /// The low `digits` hex digits of `n`, lower case, zero-padded.
    fn hex(&mut self, n: u64, digits: u32) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for i in (0..digits).rev() {
            self.push(&[HEX[((n >> (4 * i)) & 0xf) as usize]]);
        }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).expect("only ASCII is pushed")
    }
}

/// What [`crate::drift::Drift`] sets for unknown fields: one object, one `null`.
pub(crate) static UNKNOWN_FIELDS: LazyLock<[(&str, Value); 2]> = LazyLock::new(|| {
    [
        (
            "AddedLastWeek",
            serde_json::json!({"since": "2026-11-17", "values": [1, "two", null]}),
        ),
        ("UnknownNull", Value::Null),
    ]
});

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
        (Some("integer"), Some("int32")) => Gen::Int32,
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
