//! The vendor docs' example responses decode into the generated types with every value
//! intact, and the specs embed those same examples.

use serde_json::Value;
use userbatch_tests::{fixture, strip_line_comments, workspace_root};

/// Every value of `original` survives decode + encode unchanged; a field the generated type
/// does not know would be dropped on decode and fail here. Absent after encoding is fine
/// only for null and `[]`: generated optional fields skip `None` and empty lists.
fn assert_values_intact(original: &Value, reencoded: &Value, at: &str) {
    match (original, reencoded) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                match b.get(k) {
                    Some(w) => assert_values_intact(v, w, &format!("{at}/{k}")),
                    None => assert!(
                        v.is_null() || v.as_array().is_some_and(Vec::is_empty),
                        "{at}/{k}: {v} was lost in decoding"
                    ),
                }
            }
            for k in b.keys() {
                assert!(a.contains_key(k), "{at}/{k}: appeared from nowhere");
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{at}: array length changed");
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                assert_values_intact(v, w, &format!("{at}/{i}"));
            }
        }
        (a, b) => assert_eq!(a, b, "{at}: value changed"),
    }
}

fn roundtrip<T: serde::de::DeserializeOwned + serde::Serialize>(json: &str) -> (T, Value) {
    let original: Value = serde_json::from_str(json).expect("fixture is JSON");
    let decoded: T = serde_json::from_str(json).expect("fixture decodes into the generated type");
    let reencoded = serde_json::to_value(&decoded).expect("encodes");
    assert_values_intact(&original, &reencoded, "");
    (decoded, original)
}

/// Every difference between two JSON values, one line per field: the JSON pointer, then
/// what each side holds (`(absent)` where one side lacks the field).
fn differences(a: &Value, b: &Value, at: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                match (x.get(k), y.get(k)) {
                    (Some(v), Some(w)) => differences(v, w, &here, out),
                    (Some(v), None) => out.push(format!("{here}: {v} | (absent)")),
                    (None, Some(w)) => out.push(format!("{here}: (absent) | {w}")),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                differences(v, w, &format!("{at}/{i}"), out);
            }
        }
        (v, w) if v != w => out.push(format!(
            "{}: {v} | {w}",
            if at.is_empty() { "/" } else { at }
        )),
        _ => {}
    }
}

/// The spec's example and the fixture cut from the vendor's page are the same JSON; if not,
/// the failure lists each field that differs (`spec | fixture`), so a spec edited for a
/// changed page shows what its fixture (or its example) still lacks.
fn assert_example_is_the_fixture(example: Value, fixture: &Value, spec: &str, file: &str) {
    let mut found = Vec::new();
    differences(&example, fixture, "", &mut found);
    assert!(
        found.is_empty(),
        "{spec}'s example and tests/fixtures/{file} differ ({} field(s); spec | fixture):\n{}",
        found.len(),
        found.join("\n")
    );
}

/// The `example` of an operation's 200 response in a spec.
fn spec_example(spec: &str, path: &str, method: &str) -> Value {
    let text = std::fs::read_to_string(workspace_root().join("specs").join(spec)).unwrap();
    let doc: Value = serde_yaml::from_str(&text).unwrap();
    let pointer = format!(
        "/paths/{}/{method}/responses/200/content/application~1json/example",
        path.replace('~', "~0").replace('/', "~1")
    );
    doc.pointer(&pointer)
        .unwrap_or_else(|| panic!("{spec}: no example at {pointer}"))
        .clone()
}

#[test]
fn nexudus_get_one_user() {
    let json = fixture("nexudus-get-one-user.json");
    let (user, original): (nexudus::types::User, _) = roundtrip(&json);
    assert_eq!(user.id, 87654321);
    assert_eq!(user.updated_by.as_deref(), Some("admin@example.com"));
    assert_eq!(
        user.unique_id.unwrap().to_string(),
        "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
    );
    assert_eq!(
        user.created_on
            .as_ref()
            .unwrap()
            .to_utc()
            .unwrap()
            .to_rfc3339(),
        "2025-01-10T08:00:00+00:00"
    );
    assert_eq!(
        user.language,
        Some(0),
        "Language 0 decodes though the docs list 1-3"
    );
    assert_eq!(user.password_salt.as_ref().map(|s| s.expose()), Some(""));
    assert_eq!(user.to_string_text.as_deref(), Some("User Example"));
    assert_example_is_the_fixture(
        spec_example("nexudus.yaml", "/api/sys/users/{id}", "get"),
        &original,
        "specs/nexudus.yaml",
        "nexudus-get-one-user.json",
    );
}

#[test]
fn nexudus_get_multiple_users() {
    let json = fixture("nexudus-get-multiple-users.json");
    // The list decodes as summaries, every value intact: the summary type has every field
    // the docs' partial example shows.
    let (users, original): (Vec<nexudus::types::UserSummary>, _) = roundtrip(&json);
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].id, 87654321);
    assert_eq!(users[0].to_string_text.as_deref(), Some("User Example"));
    assert_example_is_the_fixture(
        spec_example("nexudus.yaml", "/api/sys/users/", "get"),
        &original,
        "specs/nexudus.yaml",
        "nexudus-get-multiple-users.json",
    );
}

#[test]
fn nexudus_get_multiple_coworkers() {
    let json = fixture("nexudus-get-multiple-coworkers.json");
    let (coworkers, original): (Vec<nexudus::types::CoworkerSummary>, _) = roundtrip(&json);
    assert_eq!(coworkers.len(), 1);
    let c = &coworkers[0];
    assert_eq!(c.id, 87654321);
    assert_eq!(c.to_string_text.as_deref(), Some("Coworker Example"));
    assert_eq!(c.monday_attendance, Some(0));
    assert_eq!(c.can_make_bookings, Some(false));
    assert_example_is_the_fixture(
        spec_example("nexudus.yaml", "/api/spaces/coworkers/", "get"),
        &original,
        "specs/nexudus.yaml",
        "nexudus-get-multiple-coworkers.json",
    );
}

#[test]
fn avepoint_retrieve_multiple_users() {
    let json = strip_line_comments(&fixture("avepoint-retrieve-multiple-users.jsonc"));
    let (page, original): (avepoint::types::UserPage, _) = roundtrip(&json);
    assert_eq!(page.metadata.total_count, 1);
    assert_eq!(page.metadata.page_size, 50);
    let u = &page.data[0];
    assert_eq!(u.id, "c2aa00d3-****-****-****-9e9c79232bff");
    assert_eq!(u.display_name.as_deref(), Some("Kevin Mark"));
    assert_eq!(u.age, Some(12));
    assert!(matches!(
        &u.status,
        Some(avepoint::types::UserStatus::Array(v)) if v == &[0, 1]
    ));
    assert_example_is_the_fixture(
        spec_example(
            "avepoint.yaml",
            "/partner/external/v3/um/customers/{customerId}/tenants/{tenantId}/users/batch",
            "post",
        ),
        &original,
        "specs/avepoint.yaml",
        "avepoint-retrieve-multiple-users.jsonc",
    );
}

#[test]
fn avepoint_status_as_a_single_integer_also_decodes() {
    // The docs' table says `status` is an integer; their sample sends an array.
    let u: avepoint::types::User = serde_json::from_str(r#"{"id":"a","status":3}"#).unwrap();
    assert!(matches!(
        u.status,
        Some(avepoint::types::UserStatus::Int32(3))
    ));
}

#[test]
fn usermgr_get_users_by_ids() {
    // The page renders the sample with `•` list markers and the array collapsed.
    let json = fixture("usermgr-get-users-by-ids.txt").replace('•', "");
    let (users, original): (usermgr::types::UserList, _) = roundtrip(&json);
    assert!(users.user.is_empty());
    assert_example_is_the_fixture(
        spec_example("usermgr.yaml", "/core/usermgr/v3/users/{ids}", "get"),
        &original,
        "specs/usermgr.yaml",
        "usermgr-get-users-by-ids.txt",
    );
}

#[test]
fn usermgr_user_with_attributes_decodes() {
    let json = r#"{"user":[{"id":"1001","loginId":"jdoe","firstName":"J","lastName":"Doe",
        "created":"2024-05-01T10:00:00","manager":{"id":"1"},"groups":["g1"],
        "custom":{"costCenter":"42"}}]}"#;
    let (users, _): (usermgr::types::UserList, _) = roundtrip(json);
    let u = &users.user[0];
    assert_eq!(u.id.to_string(), "1001");
    assert!(matches!(&u.id, usermgr::types::UserId::String(s) if s == "1001"));
    // A local time without an offset is kept as sent.
    assert_eq!(u.created.as_ref().unwrap().as_str(), "2024-05-01T10:00:00");
    assert!(u.created.as_ref().unwrap().to_utc().is_none());
}

#[test]
fn usermgr_ids_decode_as_strings_or_integers() {
    // The docs never type a user's id: the spec accepts both forms (`oneOf`).
    let u: usermgr::types::User = serde_json::from_str(r#"{"id": 1001}"#).unwrap();
    assert!(matches!(u.id, usermgr::types::UserId::Int64(1001)));
    assert_eq!(u.id.to_string(), "1001");
    assert!(serde_json::from_str::<usermgr::types::User>(r#"{"id": 1.5}"#).is_err());
}

#[test]
fn secrets_never_show_in_debug_output() {
    let mut json: Value = serde_json::from_str(&fixture("nexudus-get-one-user.json")).unwrap();
    json["Password"] = "hunter2-password".into();
    json["AccessToken"] = "tok-access-123".into();
    json["TwoFactorSecret"] = "2fa-secret-xyz".into();
    let user: nexudus::types::User = serde_json::from_value(json).unwrap();
    let debug = format!("{user:?}");
    for secret in ["hunter2-password", "tok-access-123", "2fa-secret-xyz"] {
        assert!(!debug.contains(secret), "{secret} leaked into Debug output");
    }
    assert!(debug.contains("Secret(<redacted>)"));
    // ...while the record still round-trips for a PUT.
    let back = serde_json::to_value(&user).unwrap();
    assert_eq!(back["Password"], "hunter2-password");

    let mut json: Value =
        serde_json::from_str(&fixture("nexudus-get-multiple-coworkers.json")).unwrap();
    json[0]["Office365AccessToken"] = "o365-token".into();
    json[0]["AccessPincode"] = "9911".into();
    let list: nexudus::types::CoworkerList = serde_json::from_value(json).unwrap();
    let debug = format!("{list:?}");
    assert!(!debug.contains("o365-token") && !debug.contains("9911"));
}

/// The fixtures are the docs' text, byte for byte. The vendors' documentation pages are
/// not part of this repository: run with `--ignored` and `USERBATCH_VENDOR_DOCS` naming a
/// folder holding them (`.ci/run` does when it finds one).
#[test]
#[ignore = "needs USERBATCH_VENDOR_DOCS, a folder of the vendors' pages"]
fn fixtures_are_verbatim() {
    let docs = std::env::var_os("USERBATCH_VENDOR_DOCS")
        .map(std::path::PathBuf::from)
        .expect("USERBATCH_VENDOR_DOCS names a folder of the vendors' documentation pages");
    assert!(
        docs.is_dir(),
        "USERBATCH_VENDOR_DOCS={} is not a folder",
        docs.display()
    );
    for (fixture_name, doc) in [
        ("nexudus-get-one-user.json", "nexudus-get-one-user.md"),
        (
            "nexudus-get-multiple-users.json",
            "nexudus-get-multiple-users.md",
        ),
        (
            "nexudus-get-multiple-coworkers.json",
            "nexudus-get-multiple-coworkers.txt",
        ),
        (
            "avepoint-retrieve-multiple-users.jsonc",
            "avepoint-retrieve-multiple-users.md",
        ),
        (
            "usermgr-get-users-by-ids.txt",
            "usermgr-get-users-by-ids.txt",
        ),
    ] {
        let text = std::fs::read_to_string(docs.join(doc)).unwrap();
        let fx = fixture(fixture_name);
        assert!(fx.len() > 20, "{fixture_name} is suspiciously short");
        assert!(
            text.contains(&fx),
            "{fixture_name} is not verbatim from {doc}"
        );
    }
}

#[test]
fn summary_types_lack_exactly_the_unpopulated_fields() {
    use userbatch_core::PartialRecord;
    // Serialize a full record with every field set, decode it as a summary, encode again:
    // what survives are the summary's fields.
    let full: Value = serde_json::from_str(&fixture("nexudus-get-one-user.json")).unwrap();
    let summary: nexudus::types::UserSummary = serde_json::from_value(full.clone()).unwrap();
    let kept = serde_json::to_value(&summary).unwrap();
    let unpopulated = <nexudus::types::UserSummary as PartialRecord>::UNPOPULATED;
    assert_eq!(
        nexudus::rules::GET_USERS.partial.unwrap().unpopulated,
        unpopulated
    );
    for (field, value) in full.as_object().unwrap() {
        let in_summary = kept.get(field).is_some();
        if unpopulated.contains(&field.as_str()) {
            assert!(
                !in_summary,
                "{field} is unpopulated, yet the summary type has it"
            );
        } else if !value.is_null() && value != &Value::Array(vec![]) {
            assert!(
                in_summary,
                "{field} is populated, yet the summary type lacks it"
            );
        }
    }
    assert_eq!(summary.record_id(), "87654321");
    assert_eq!(
        <nexudus::types::UserSummary as PartialRecord>::FULL_OPERATION,
        "getUser"
    );
}
