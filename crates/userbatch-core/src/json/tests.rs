//! Unit tests of the scanner, ids, decoding, text and redaction.

use super::envelope::{Entry, EnvelopeError, checked_entries, entries, text_entries};
use super::id::{IdError, record_id};
use super::valid;
use super::*;
use std::borrow::Cow;

use crate::rules::{IdKind, Records};

const MANY: Records = Records::list("/data", "id");

fn texts<'a>(body: &'a [u8], list: &[Entry]) -> Vec<&'a str> {
    list.iter()
        .map(|e| std::str::from_utf8(&body[e.span.clone()]).unwrap())
        .collect()
}

#[test]
fn records_are_found_by_pointer_and_kept_verbatim() {
    let body = br#" {"metadata": {"totalCount": 2}, "data": [ {"id":"a", "x": null} ,{"id":"b","y":{"z":[1,"]"]}} ] } "#;
    let list = entries(body, &MANY, IdKind::String).unwrap();
    assert_eq!(
        texts(body, &list),
        [
            r#"{"id":"a", "x": null}"#,
            r#"{"id":"b","y":{"z":[1,"]"]}}"#
        ]
    );
    assert_eq!(list[1].id.as_deref(), Ok("b"));
    assert_eq!(
        read_u64(std::str::from_utf8(body).unwrap(), "/metadata/totalCount"),
        Some(2)
    );
    let one = Records::one("", "id");
    let list = entries(br#"{"id": 5}"#, &one, IdKind::Integer).unwrap();
    assert_eq!(list[0].id.as_deref(), Ok("5"));
    assert!(
        entries(b"[]", &Records::list("", "id"), IdKind::String)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn envelope_errors_tell_syntax_from_shape() {
    let malformed = |body: &[u8]| {
        matches!(
            entries(body, &MANY, IdKind::String),
            Err(EnvelopeError::Malformed(_))
        )
    };
    let shape = |body: &[u8]| {
        matches!(
            entries(body, &MANY, IdKind::String),
            Err(EnvelopeError::Shape(_))
        )
    };
    assert!(malformed(br#"{"data": [{"id": "a"}"#));
    assert!(malformed(br#"{"data": [{"id": "a"},"#));
    assert!(malformed(br#"{"data": [{"id": "a"} {"id": "b"}]}"#));
    assert!(malformed(b"<html></html>"));
    assert!(malformed(b""));
    assert!(malformed(br#"{"data": []} x"#));
    assert!(malformed(br#"{"data": ["a]}"#));
    assert!(malformed(&[b'[', 0xff, b']']));
    // An empty slot in the list is no record (it once made one, and the ids were missing).
    assert!(malformed(br#"{"data": [{"id": "a"},,{"id": "b"}]}"#));
    assert!(malformed(br#"{"data": [,]}"#));
    assert!(malformed(br#"{"data": [{"id": "a"},]}"#));
    assert!(shape(br#"{"data": {"id": "a"}}"#));
    assert!(shape(br#"[1, 2]"#));
    let missing = entries(br#"{"items": []}"#, &MANY, IdKind::String).unwrap_err();
    assert!(missing.to_string().contains("`/data`"), "{missing}");
    assert!(matches!(missing, EnvelopeError::Shape(_)));
    // Bad values inside a record are left to its decoding.
    let list = entries(
        br#"{"data": [{"id": "a", "x": tru}]}"#,
        &MANY,
        IdKind::String,
    )
    .unwrap();
    assert!(check(texts(br#"{"data": [{"id": "a", "x": tru}]}"#, &list)[0]).is_err());
}

proptest::proptest! {
    /// On any array of JSON values, the scanner finds what serde_json finds, record for
    /// record and id for id; every cut of it short is malformed; no input panics it.
    #[test]
    fn entries_agree_with_serde(values in proptest::collection::vec(json_object(), 0..6), junk in ".{0,40}") {
        let mut list: Vec<serde_json::Value> = values;
        for (i, v) in list.iter_mut().enumerate() {
            if i % 2 == 0 {
                v["id"] = serde_json::Value::from(format!("r{i}"));
            }
        }
        let rules = Records::list("", "id");
        for text in [serde_json::to_string(&list).unwrap(), serde_json::to_string_pretty(&list).unwrap()] {
            let found = entries(text.as_bytes(), &rules, IdKind::String).unwrap();
            proptest::prop_assert_eq!(found.len(), list.len());
            for (i, (entry, value)) in found.iter().zip(&list).enumerate() {
                let parsed: serde_json::Value = serde_json::from_str(&text[entry.span.clone()]).unwrap();
                proptest::prop_assert_eq!(&parsed, value);
                let expected = value.get("id").and_then(|v| v.as_str()).map(str::to_owned);
                proptest::prop_assert_eq!(entry.id.clone().ok(), expected, "record {}", i);
            }
            let bytes = text.as_bytes();
            for cut in 1..text.trim_end().len() {
                proptest::prop_assert!(
                    entries(&bytes[..cut], &rules, IdKind::String).is_err(),
                    "{:?}",
                    String::from_utf8_lossy(&bytes[..cut])
                );
            }
        }
        let _ = entries(junk.as_bytes(), &rules, IdKind::String);
        let _ = entries(format!("[{junk}").as_bytes(), &rules, IdKind::String);
        let _ = entries(format!("{{\"data\": [{junk}").as_bytes(), &MANY, IdKind::String);
    }
}

#[test]
fn one_line_keeps_every_value_and_key_as_sent() {
    let pretty = "{\r\n  \"Id\" : 7,\r\n  \"s\": \"a  b\\r\\n\\\"\\u00e9\",\n\t\"n\": [ 1.50, -0e3, null, true ],\n  \"o\": {}\n}\n";
    let compact = one_line(pretty);
    assert_eq!(
        compact,
        r#"{"Id":7,"s":"a  b\r\n\"\u00e9","n":[1.50,-0e3,null,true],"o":{}}"#
    );
    let a: serde_json::Value = serde_json::from_str(pretty).unwrap();
    let b: serde_json::Value = serde_json::from_str(&compact).unwrap();
    assert_eq!(a, b);
    assert!(matches!(one_line("{\"a\": 1}"), Cow::Borrowed(_)));
}

#[test]
fn fields_skip_nested_values_and_escapes() {
    let text = r#"{ "a\"}" : "}{\\\"", "n": {"Id": 9}, "arr": [ {"Id": 8}, "]" ], "Id" : 7 }"#;
    assert_eq!(&text[field(text, "Id").unwrap()], "7");
    assert_eq!(&text[field(text, "a\"}").unwrap()], r#""}{\\\"""#);
    assert_eq!(field(text, "missing"), None);
    assert_eq!(field("[1]", "Id"), None);
    assert_eq!(field("{}", "Id"), None);
    let escaped = r#"{"\u0049d": 5}"#;
    assert_eq!(&escaped[field(escaped, "Id").unwrap()], "5");
}

#[test]
fn ids_in_every_form() {
    let id = |text: &str, kind| record_id(text, "Id", kind);
    assert_eq!(id(r#"{"Id": -3}"#, IdKind::String).unwrap(), "-3");
    assert_eq!(id(r#"{"Id": "a\u00e9"}"#, IdKind::String).unwrap(), "aé");
    assert_eq!(
        id(r#"{"Id": 1.5}"#, IdKind::Integer),
        Err(IdError::NotScalar)
    );
    assert_eq!(
        id(r#"{"Id": {"v": 1}}"#, IdKind::Integer),
        Err(IdError::NotScalar)
    );
    assert_eq!(id(r#"{"id": 1}"#, IdKind::Integer), Err(IdError::Missing));
    assert_eq!(id(r#""Not found""#, IdKind::Integer), Err(IdError::Missing));
    // An id field twice: one value twice is that id; two values are neither id, in
    // the scanner as in `record_id`.
    let body = br#"[{"Id": 1, "Id": 2}, {"Id": 3, "x": 0, "Id": "03"}, {"Id": 4, "Id": null}]"#;
    let list = entries(body, &Records::list("", "Id"), IdKind::Integer).unwrap();
    let conflict = Err(IdError::Conflicting("1".into(), "2".into()));
    assert_eq!(list[0].id, conflict);
    assert_eq!(id(r#"{"Id": 1, "Id": 2}"#, IdKind::Integer), conflict);
    assert_eq!(list[1].id.as_deref(), Ok("3"));
    assert_eq!(list[2].id, Err(IdError::NotScalar));
    assert_eq!(
        IdError::Conflicting("1".into(), "2".into()).to_string(),
        "the record's id field appears twice, with 1 and 2"
    );
}

#[test]
fn redaction_leaves_other_bytes_alone() {
    let record = r#"{"A":{"S":"x","T":1},"S":"y"}"#;
    assert_eq!(
        redact(record, &["/A/S"]),
        r#"{"A":{"S":"<redacted>","T":1},"S":"y"}"#
    );
    assert_eq!(
        redact(record, &["/A", "/A/S"]),
        r#"{"A":"<redacted>","S":"y"}"#
    );
    assert!(matches!(redact(record, &["/Z"]), Cow::Borrowed(_)));
    assert!(matches!(redact::<&str>(record, &[]), Cow::Borrowed(_)));
    assert_eq!(
        redact(record, &["/S", "/A/T"]),
        r#"{"A":{"S":"x","T":"<redacted>"},"S":"<redacted>"}"#
    );
    // A key written with escapes is still the key.
    assert_eq!(
        redact(r#"{"\u0053":"x"}"#, &["/S"]),
        r#"{"\u0053":"<redacted>"}"#
    );
    assert_eq!(redact(r#"[{"S":"x"}]"#, &["/S"]), r#"[{"S":"x"}]"#);
    // Two secrets inside one object: both (the first alone once won).
    assert_eq!(
        redact(record, &["/A/S", "/A/T"]),
        r#"{"A":{"S":"<redacted>","T":"<redacted>"},"S":"y"}"#
    );
    // Arrays on the way: every element, at any depth, and nothing else.
    assert_eq!(
        redact(
            r#"{"K":[{"S":"a","N":"x"}, [{"S":"b"}], "c", {"S":null}, []],"S":"y"}"#,
            &["/K/S"]
        ),
        r#"{"K":[{"S":"<redacted>","N":"x"}, [{"S":"<redacted>"}], "c", {"S":null}, []],"S":"y"}"#
    );
    assert_eq!(
        redact(
            r#"{"P":[ "1" , null,{"a":1},["2"]] ,"Q":[]}"#,
            &["/P", "/Q"]
        ),
        r#"{"P":[ "<redacted>" , null,"<redacted>",["<redacted>"]] ,"Q":[]}"#
    );
    // Escaped pointer tokens stay escaped on the way down.
    assert_eq!(
        redact(r#"{"a/b":{"c~d":"x","c":"y"}}"#, &["/a~1b/c~0d"]),
        r#"{"a/b":{"c~d":"<redacted>","c":"y"}}"#
    );
}

/// The secrets the scan of a body finds in `record` (in a list, and alone) against
/// [`redact`]: the same redacted text.
fn scan_agrees(record: &str, secrets: &[&str]) {
    let expected = redact(record, secrets);
    let list: Vec<Cow<'static, str>> = secrets.iter().map(|s| Cow::Owned(s.to_string())).collect();
    let mut many = Records::list("/data", "Id");
    many.secrets = list.clone().into();
    let mut one = Records::one("/data", "Id");
    one.secrets = list.into();
    for (rules, body) in [
        (&many, format!("{{\"data\": [1, {record} , {{}}]}}")),
        (&one, format!("{{\"data\":{record}}}")),
    ] {
        let body = bytestring::ByteString::from(body);
        let found = text_entries(&body, rules, IdKind::Integer).unwrap();
        let entry = found
            .iter()
            .find(|e| body[e.span.clone()] == *record)
            .unwrap();
        let raw = crate::RawRecord::new(&body, entry);
        assert_eq!(raw.redacted(), expected, "{record} with {secrets:?}");
        assert_eq!(raw.redacted_parts().collect::<String>(), expected);
    }
}

#[test]
fn the_scan_finds_the_secrets_redact_does() {
    let record = r#"{"A":{"S":"x","T":1},"S":"y"}"#;
    for secrets in [
        &["/A/S"][..],
        &["/A", "/A/S"],
        &["/Z"],
        &[],
        &["/S", "/A/T"],
        &["/A/S", "/A/T"],
    ] {
        scan_agrees(record, secrets);
    }
    scan_agrees(r#"{"\u0053":"x"}"#, &["/S"]);
    scan_agrees(r#"[{"S":"x"}]"#, &["/S"]);
    scan_agrees(r#"{"S":"x","S":"y"}"#, &["/S"]);
    scan_agrees(r#"{"S":"x","Id":1}"#, &["/S", "/Id"]);
    scan_agrees(
        r#"{"K":[{"S":"a","N":"x"}, [{"S":"b"}], "c", {"S":null}, []],"S":"y"}"#,
        &["/K/S"],
    );
    scan_agrees(
        r#"{"P":[ "1" , null,{"a":1},["2"]] ,"Q":[]}"#,
        &["/P", "/Q"],
    );
    scan_agrees(r#"{"a/b":{"c~d":"x","c":"y"}}"#, &["/a~1b/c~0d"]);
    scan_agrees("{\r\n \"S\" : \"x\" ,\n \"T\": [1, 2]\n}", &["/S"]);
}

#[test]
fn deeply_nested_arrays_in_a_secret_are_redacted_whole_and_fast() {
    // Past MAX_ARRAY_DEPTH the rest is redacted whole: no stack overflow, no walk of the
    // rest of the value per level (a hundred thousand levels would take minutes).
    let depth = 100_000;
    let record = format!(
        r#"{{"Id":1,"S":{}"leak"{},"T":"x"}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let expected = format!(
        r#"{{"Id":1,"S":{}"<redacted>"{},"T":"x"}}"#,
        "[".repeat(64),
        "]".repeat(64)
    );
    assert_eq!(redact(&record, &["/S"]), expected);
    scan_agrees(&record, &["/S"]);
    let shallow = r#"{"S":[["a",null],"b"]}"#;
    assert_eq!(
        redact(shallow, &["/S"]),
        r#"{"S":[["<redacted>",null],"<redacted>"]}"#
    );
}

proptest::proptest! {
    /// The scan finds the secrets redact does in any object, compact or pretty, with its
    /// first keys secret.
    #[test]
    fn the_scan_agrees_with_redact_on_any_object(value in json_object()) {
        let keys: Vec<String> = value
            .as_object()
            .unwrap()
            .keys()
            .take(2)
            .map(|k| format!("/{}", k.replace('~', "~0").replace('/', "~1")))
            .collect();
        let secrets: Vec<&str> = keys.iter().map(String::as_str).collect();
        scan_agrees(&serde_json::to_string(&value).unwrap(), &secrets);
        scan_agrees(&serde_json::to_string_pretty(&value).unwrap(), &secrets);
    }
}

proptest::proptest! {
    /// Redaction leaves a record that parses to the original with each secret that was
    /// not null replaced, and nothing else changed.
    #[test]
    fn redaction_agrees_with_serde(value in json_object()) {
        let text = serde_json::to_string(&value).unwrap();
        let object = value.as_object().unwrap();
        let keys: Vec<String> = object
            .keys()
            .take(2)
            .map(|k| format!("/{}", k.replace('~', "~0").replace('/', "~1")))
            .collect();
        let secrets: Vec<&str> = keys.iter().map(String::as_str).collect();
        let redacted: serde_json::Value =
            serde_json::from_str(&redact(&text, &secrets)).unwrap();
        /// Each non-null value redacted, through arrays.
        fn hidden(value: &serde_json::Value) -> serde_json::Value {
            match value {
                serde_json::Value::Null => serde_json::Value::Null,
                serde_json::Value::Array(list) => list.iter().map(hidden).collect(),
                _ => serde_json::Value::from("<redacted>"),
            }
        }
        let mut expected = value.clone();
        for key in object.keys().take(2) {
            expected[key] = hidden(&value[key]);
        }
        proptest::prop_assert_eq!(redacted, expected);
    }
}

#[test]
fn cut_marks_what_it_cuts_and_drops_control_characters() {
    assert_eq!(cut("a\u{1b}[31mb"), "a [31mb");
    let long = "é".repeat(MAX_DETAIL_CHARS + 5);
    let out = cut(&long);
    assert_eq!(out.chars().count(), MAX_DETAIL_CHARS + 1);
    assert!(out.ends_with('…'));
}

proptest::proptest! {
    /// The scanner agrees with serde_json on every field of any JSON object.
    #[test]
    fn field_agrees_with_serde(value in json_object()) {
        let text = serde_json::to_string_pretty(&value).unwrap();
        let compact = serde_json::to_string(&value).unwrap();
        for (key, expected) in value.as_object().unwrap() {
            for t in [&text, &compact] {
                let range = field(t, key).expect("present");
                let got: serde_json::Value = serde_json::from_str(&t[range]).unwrap();
                proptest::prop_assert_eq!(&got, expected);
            }
        }
        proptest::prop_assert_eq!(field(&text, "no such key \u{1}"), None);
    }
}

fn json_object() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        // Floats that print and parse back exactly (the scanner only skips them).
        prop::sample::select(vec![1.5f64, -2.25e10, 0.125]).prop_map(serde_json::Value::from),
        "[\"\\\\{}\\[\\]:, a-zé\u{1}]{0,8}".prop_map(serde_json::Value::from),
    ];
    let value = leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map("[\"\\\\{} a-z]{0,5}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    });
    prop::collection::btree_map("[\"\\\\{}:, a-zé]{0,6}", value, 0..6)
        .prop_map(|m| serde_json::Value::Object(m.into_iter().collect()))
}

/// The scan that checks records on the way against the one that does not, on `record` in
/// a list beside a plain one and alone: the same records, ids and secrets (or the same
/// error), and `checked` exactly for the objects `serde_json` reads as valid.
fn checked_scan_agrees(record: &str) {
    let secrets: Vec<Cow<'static, str>> = ["/Id", "/x", "/ab"].map(Cow::Borrowed).into();
    let (mut many, mut one) = (Records::list("", "Id"), Records::one("/data", "Id"));
    many.secrets = secrets.clone().into();
    one.secrets = secrets.into();
    // In a list beside a plain one, and alone.
    let list = format!("[{record} , {{\"Id\": 1, \"x\": [\"s\"]}}]");
    let alone = format!("{{\"data\": {record}}}");
    for (rules, body) in [(&many, list), (&one, alone)] {
        checked_scan_agrees_in(rules, &body);
    }
}

fn checked_scan_agrees_in(rules: &Records, body: &str) {
    let plain = text_entries(body, rules, IdKind::String);
    let checked = checked_entries(body, rules, IdKind::String);
    match (plain, checked) {
        (Ok(plain), Ok(checked)) => {
            assert_eq!(plain.len(), checked.len(), "{body}");
            for (p, c) in plain.iter().zip(&checked) {
                assert_eq!(
                    (&p.span, &p.id, &p.secrets),
                    (&c.span, &c.id, &c.secrets),
                    "{body}"
                );
                let text = &body[c.span.clone()];
                let object = text.starts_with('{');
                assert_eq!(c.checked, object && serde_accepts(text), "{text}");
            }
        }
        (Err(p), Err(c)) => assert_eq!(p, c, "{body}"),
        (p, c) => panic!("{body}: {p:?} against {c:?}"),
    }
}

/// What `serde_json` says of `text` as one value.
fn serde_accepts(text: &str) -> bool {
    serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
}

#[test]
fn the_fast_check_passes_exactly_what_serde_json_does() {
    let valid = [
        r#"{"Id": 1, "x": [true, null, false], "y": {"z": -0.5e+10}}"#,
        " { } ",
        "[]",
        r#"[[], {}, [[{"a": []}]]]"#,
        r#""a\"\\\/\b\f\n\r\t\u00e9\uD800 é""#,
        "0",
        "-0",
        "1.5E-3",
        "123456789012345678901234567890",
        "{\r\n\t\"a\" :\n 1 \r\n}",
    ];
    for text in valid {
        assert!(valid::surely_valid(text), "{text}");
        assert!(serde_accepts(text), "{text}");
    }
    let invalid = [
        "",
        " ",
        "{",
        "}",
        "[1,]",
        r#"{"a":1,}"#,
        r#"{"a" 1}"#,
        r#"{a:1}"#,
        r#"{"a":1 "b":2}"#,
        "[1 2]",
        "01",
        "-",
        "1.",
        ".5",
        "1e",
        "1e+",
        "+1",
        "tru",
        "truex",
        "nul",
        "NaN",
        r#""a"#,
        r#""\x""#,
        r#""\u12G4""#,
        r#""\u12""#,
        "\"a\u{1}b\"",
        "\"a\tb\"",
        "1 2",
        "{} {}",
        "[}",
        "{]",
        "[1]]",
        "\u{a0}1",
    ];
    for text in invalid {
        assert!(!valid::surely_valid(text), "{text}");
        assert!(!serde_accepts(text), "{text}");
        assert!(check(text).is_err(), "{text}");
    }
    // Deeper than the fast check follows: serde_json judges.
    let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
    assert!(!valid::surely_valid(&deep));
    assert!(check(&deep).is_ok());
}

proptest::proptest! {
    /// On any object, compact or pretty, and on any of them with one character deleted,
    /// doubled or replaced by one of JSON's, the fast check and `serde_json` agree.
    #[test]
    fn the_fast_check_agrees_with_serde_json_on_edits(
        value in json_object(),
        at in 0usize..10_000,
        edit in 0usize..3,
        with in proptest::sample::select(
            "\"\\{}[],:0123456789-+.eEtrufalsnux \t\n\r\u{1}/é".chars().collect::<Vec<_>>()
        ),
    ) {
        for text in [serde_json::to_string(&value).unwrap(), serde_json::to_string_pretty(&value).unwrap()] {
            proptest::prop_assert!(valid::surely_valid(&text), "{}", text);
            let chars: Vec<char> = text.chars().collect();
            let at = at % chars.len();
            let mut edited = chars.clone();
            match edit {
                0 => { edited.remove(at); }
                1 => edited.insert(at, chars[at]),
                _ => edited[at] = with,
            }
            let edited: String = edited.into_iter().collect();
            proptest::prop_assert_eq!(valid::surely_valid(&edited), serde_accepts(&edited), "{}", edited);
            checked_scan_agrees(&text);
            checked_scan_agrees(&edited);
        }
    }
}

#[test]
fn a_secret_array_that_is_not_json_ends_the_scan() {
    // `[` then `}`: the redactor once stepped over "elements" that were not there, forever,
    // and a vendor's broken record made the client fill its memory.
    let mut rules = Records::list("", "Id");
    rules.secrets = vec![Cow::Borrowed("/x")].into();
    let body = r#"[{"Id": 1, "x": [
} , {"Id": 2, "x": ["s"]}]"#;
    let cut = Err(EnvelopeError::Malformed(
        "the body is cut short or malformed between records".into(),
    ));
    assert_eq!(text_entries(body, &rules, IdKind::Integer), cut);
    assert_eq!(checked_entries(body, &rules, IdKind::Integer), cut);
    assert_eq!(redact(r#"{"x":[}"#, &["/x"]), r#"{"x":[}"#);
}
