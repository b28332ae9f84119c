//! Unit tests of `rules`.

use super::*;

#[test]
fn an_extension_reads_into_the_rules() {
    let ext = serde_json::json!({
        "resource": "users",
        "ids": { "in": "path", "name": "ids", "encoding": "csv", "type": "string", "forbidden-chars": ",/" },
        "limits": { "max-ids": 75 },
        "records": { "pointer": "/user", "many": true, "id-field": "id" },
        "unknown-ids": { "omitted-or-fails-request": 404 },
    });
    let rules: OperationRules = serde_json::from_value(ext).unwrap();
    assert_eq!(rules.ids.location, IdLocation::Path);
    assert_eq!(rules.limits.max_ids, Some(75));
    assert_eq!(rules.records.id_field, "id");
    assert_eq!(rules.unknown_ids.not_found_status(), Some(404));
    assert_eq!(
        rules.answers,
        Answers::default(),
        "derived from responses, not read"
    );
    let unknown =
        serde_json::json!({ "ids": {}, "records": {}, "unknown-ids": "omitted", "nope": 1 });
    assert!(serde_json::from_value::<OperationRules>(unknown).is_err());
}
