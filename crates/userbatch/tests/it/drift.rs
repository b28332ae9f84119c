//! The engine against a mock that departs from the specs the way real vendors do: unknown
//! fields, nulls, a changed type in one record, ids of another JSON type, answers that
//! ignore the id filter or carry records nobody asked for, oversized bodies, bad parameters.
//! Every id must still end up found, missing or failed for its own reason.

use userbatch::{Batch, DEFAULT_CONCURRENCY, ErrorKind, avepoint, nexudus, usermgr};
use userbatch_mock::{Drift, Fault, Faults, MockConfig, Vendor};

use crate::support::{TOKEN, ids, mock, quick_retry};

#[tokio::test]
async fn usermgr_ids_sent_as_json_integers_are_matched() {
    for n in [1usize, 600] {
        let m = mock(MockConfig::new().missing_if(|id| id.ends_with('7')).drift(
            Vendor::Usermgr,
            Drift {
                integer_ids: true,
                ..Drift::default()
            },
        ))
        .await;
        let client = usermgr::Client::with_bearer(m.base_url(), TOKEN).unwrap();
        let report = Batch::new(usermgr::GetUsersByIds::new(client))
            .fetch(ids(n))
            .await
            .unwrap();
        let missing: Vec<String> = ids(n).into_iter().filter(|i| i.ends_with('7')).collect();
        assert_eq!(report.found.len(), n - missing.len(), "{n} ids");
        assert_eq!(report.missing, missing, "{n} ids");
        assert!(report.failed.is_empty(), "{:?}", report.failed.first());
        // The vendor's JSON integer, in the record and in its raw form.
        let first = &report.found[0];
        assert!(matches!(first.record.id, usermgr::types::UserId::Int64(1)));
        assert!(
            first.raw.as_str().contains(r#""id":1"#),
            "{}",
            first.raw.as_str()
        );
        assert_eq!(report.requests, n.div_ceil(75) as u64);
    }
}

#[tokio::test]
async fn one_drifted_record_fails_only_its_id_without_a_retry() {
    let drift = Drift::default().replace("InvalidLoginAttempts", ["150"], serde_json::json!("3"));
    let m = mock(MockConfig::new().drift(Vendor::Nexudus, drift)).await;
    let client = nexudus::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let report = Batch::new(nexudus::GetUsers::new(client))
        .retry(quick_retry())
        .fetch(ids(300))
        .await
        .unwrap();
    assert_eq!(
        report.requests, 1,
        "300 ids fit one request; the decode error is not retried"
    );
    assert_eq!(report.found.len(), 299);
    assert_eq!(report.failed.len(), 1);
    let failure = &report.failed[0];
    assert_eq!(failure.ids, ["150"]);
    assert_eq!(failure.error.kind, ErrorKind::Decode);
    let message = failure.error.to_string();
    assert!(message.contains("`InvalidLoginAttempts`"), "{message}");
    assert!(message.contains("expected i64"), "{message}");
    assert!(message.contains(r#"string "3""#), "what arrived: {message}");
}

#[tokio::test]
async fn a_drifted_secret_field_is_named_but_not_shown() {
    // `Password` is `format: password`: its value must not reach the error.
    let drift = Drift::default().replace("Password", ["7"], serde_json::json!(424242));
    let m = mock(MockConfig::new().drift(Vendor::Nexudus, drift)).await;
    let client = nexudus::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let report = Batch::new(nexudus::GetUser::new(client))
        .fetch(["7"])
        .await
        .unwrap();
    let message = report.failed[0].error.to_string();
    assert!(message.contains("`Password`"), "{message}");
    assert!(!message.contains("424242"), "{message}");
}

#[tokio::test]
async fn records_keep_what_the_vendor_sent_byte_for_byte() {
    let m = mock(MockConfig::new().drift(
        Vendor::Nexudus,
        Drift {
            unknown_fields: true,
            ..Drift::default()
        },
    ))
    .await;
    let client = nexudus::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let report = Batch::new(nexudus::GetUser::new(client))
        .fetch(["5"])
        .await
        .unwrap();
    let found = &report.found[0];
    // The vendor's own bytes for that record, fetched without the SDK.
    let sent = reqwest::Client::new()
        .get(format!("{}/api/sys/users/5", m.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(found.raw.as_str(), sent, "byte for byte");
    assert!(sent.contains(r#""UnknownNull":null"#) && sent.contains("AddedLastWeek"));
    assert!(sent.contains(":null"), "the mock sends nulls");
    // The typed record has what it knows; the raw one has everything.
    let value: serde_json::Value = found.raw.parse().unwrap();
    assert_eq!(value["AddedLastWeek"]["values"][1], "two");
    assert_eq!(found.record.id, 5);
    // Debug shows the raw record's size, not its content (it holds secrets).
    let debug = format!("{found:?}");
    assert!(debug.contains("RawRecord(<"), "{debug}");
    assert!(!debug.contains("AddedLastWeek"), "{debug}");
}

#[tokio::test]
async fn a_vendor_that_ignores_the_filter_fails_the_ids_instead_of_calling_them_missing() {
    for n in [1usize, 10_000] {
        let m = mock(MockConfig::new().drift(
            Vendor::Nexudus,
            Drift {
                ignore_filter: true,
                ..Drift::default()
            },
        ))
        .await;
        let client = nexudus::Client::with_bearer(m.base_url(), TOKEN).unwrap();
        let report = Batch::new(nexudus::GetCoworkers::new(client))
            .fetch(ids(n))
            .await
            .unwrap();
        assert!(
            report.found.is_empty() && report.missing.is_empty(),
            "{n} ids"
        );
        assert_eq!(report.failed_count(), n);
        assert!(
            report
                .failed
                .iter()
                .all(|f| f.error.kind == ErrorKind::Unrequested)
        );
        assert!(
            report.failed[0]
                .error
                .to_string()
                .contains("ignored the id filter"),
            "{}",
            report.failed[0].error
        );
        assert!(report.unexpected > 0 && report.unexpected <= n as u64);
        // An ignored filter is not retried or split, and once three requests got it (with
        // nothing answered as documented) the run stops sending: it is the vendor's way
        // with every request, not these ids'.
        // (Requests in flight when the third answer arrives still answer.)
        let most = if n == 1 {
            1
        } else {
            2 * DEFAULT_CONCURRENCY as u64 + 3
        };
        assert!(
            report.requests <= most,
            "{n} ids: {} requests",
            report.requests
        );
        if n > 1 {
            let error = report.run_error.as_ref().expect("the run stopped");
            assert_eq!(error.kind, ErrorKind::Unrequested);
            assert!(report.failed.iter().all(|f| f.error == *error));
        }
    }
}

#[tokio::test]
async fn ignored_filters_are_caught_for_every_vendor_and_for_get_one() {
    let drift = Drift {
        ignore_filter: true,
        ..Drift::default()
    };
    let m = mock(
        MockConfig::new()
            .drift(Vendor::Nexudus, drift.clone())
            .drift(Vendor::Usermgr, drift.clone())
            .drift(Vendor::Avepoint, drift),
    )
    .await;
    let nx = nexudus::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let um = usermgr::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let ap = avepoint::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let one = Batch::new(nexudus::GetUser::new(nx))
        .fetch(["4"])
        .await
        .unwrap();
    assert_eq!(one.failed[0].ids, ["4"]);
    assert_eq!(one.failed[0].error.kind, ErrorKind::Unrequested);
    assert_eq!(
        one.failed[0].error.to_string(),
        "the vendor answered with records not asked for: the answer is the record of 1000000004, not of the id asked for"
    );
    let users = Batch::new(usermgr::GetUsersByIds::new(um))
        .fetch(ids(100))
        .await
        .unwrap();
    assert_eq!((users.failed_count(), users.unexpected), (100, 100));
    let users = Batch::new(avepoint::RetrieveMultipleUsers::new(ap, "c", "t"))
        .fetch(ids(100))
        .await
        .unwrap();
    assert_eq!((users.failed_count(), users.unexpected), (100, 100));
    assert!(users.missing.is_empty());
}

#[tokio::test]
async fn records_nobody_asked_for_are_counted_not_matched() {
    let faults = Faults {
        extra_records: 1.0,
        ..Faults::default()
    };
    let m = mock(MockConfig::new().missing_ids(["3"]).faults_all(faults)).await;
    let client = nexudus::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let report = Batch::new(nexudus::GetUsers::new(client))
        .fetch(ids(10))
        .await
        .unwrap();
    assert_eq!(report.found.len(), 9);
    assert_eq!(report.unexpected, 2);
    assert!(report.found.iter().all(|f| f.record.id.to_string() == f.id));
    // The answer did not apply the filter as documented: the id it left out is not
    // "missing", though the vendor does not have it; it failed, saying why.
    assert!(report.missing.is_empty());
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].ids, ["3"]);
    assert_eq!(report.failed[0].error.kind, ErrorKind::Unrequested);
    assert!(
        report.failed[0]
            .error
            .to_string()
            .contains("2 record(s) not asked for, so the ids it left out cannot be called missing"),
        "{}",
        report.failed[0].error
    );
}

#[tokio::test]
async fn a_bad_parameter_fails_every_id_in_a_handful_of_requests() {
    let m = mock(MockConfig::new()).await;
    let client = usermgr::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    // `$sort` has no visible effect (the generated operation does not offer it), but the
    // vendor validates it: an operation of the caller's own that sends a bad one meets a
    // request-level fault.
    let op = BadSort(usermgr::GetUsersByIds::new(client.clone()), client);
    let report = Batch::new(op)
        .concurrency(4)
        .fetch(ids(3_000))
        .await
        .unwrap();
    assert_eq!(report.failed_count(), 3_000);
    assert!(report.found.is_empty() && report.missing.is_empty());
    assert!(report.requests < 20, "{} requests", report.requests);
    let error = &report.failed[0].error;
    assert_eq!(error.status, Some(400));
    // The vendor's own message, quoted.
    assert_eq!(
        error.detail.as_deref(),
        Some("$sort: 'bogusfield' is not a value it takes")
    );
    assert!(
        error
            .to_string()
            .contains("$sort: 'bogusfield' is not a value it takes"),
        "{error}"
    );
}

#[tokio::test]
async fn a_bad_id_is_isolated_not_mistaken_for_a_bad_parameter() {
    // The vendor refuses one id with 400, the status a bad parameter gets too. In a run of
    // one request nothing else has been answered yet when it fails: the worst case.
    for (bad, at) in [("1", "first"), ("40", "inside"), ("75", "last")] {
        let m = mock(MockConfig::new().rejected_ids([bad])).await;
        let client = usermgr::Client::with_bearer(m.base_url(), TOKEN).unwrap();
        let report = Batch::new(usermgr::GetUsersByIds::new(client))
            .fetch(ids(75))
            .await
            .unwrap();
        assert_eq!(report.found.len(), 74, "bad id {at}: {:?}", report.failed);
        assert_eq!(report.failed.len(), 1);
        assert_eq!(report.failed[0].ids, [bad]);
        let message = report.failed[0].error.to_string();
        assert!(
            message.contains(&format!("The id {bad} is not valid.")),
            "{message}"
        );
        // 1 request, 2 probes, then halves down to the bad id.
        assert!(
            report.requests <= 3 + 2 * 7,
            "bad id {at}: {} requests",
            report.requests
        );
    }
}

#[tokio::test]
async fn an_oversized_body_is_split_down_to_single_ids() {
    let m = mock(MockConfig::new()).await;
    let client = nexudus::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    // One full User is about 1.5 KB: a cap of 4 KB holds two, not eight.
    let report = Batch::new(nexudus::GetUsers::new(client.clone()))
        .max_response_bytes(4_000)
        .fetch(ids(8))
        .await
        .unwrap();
    assert_eq!(report.found.len(), 8, "{:?}", report.failed);
    assert!(
        report.requests > 1 && report.requests <= 15,
        "{}",
        report.requests
    );
    // A cap no single record fits fails each id with a clear error, after splitting.
    let report = Batch::new(nexudus::GetUsers::new(client))
        .max_response_bytes(100)
        .fetch(ids(4))
        .await
        .unwrap();
    assert_eq!(report.failed_count(), 4);
    let error = &report.failed[0].error;
    assert_eq!(error.kind, ErrorKind::TooLarge);
    assert!(error.to_string().contains("over 100 bytes"), "{error}");
    assert_eq!(report.requests, 7, "4 ids: 1 + 2 + 4 requests");
}

#[tokio::test]
async fn a_truncated_body_is_retried_but_a_shape_error_is_not() {
    let faults = Faults {
        script: vec![Some(Fault::Truncate)],
        ..Faults::default()
    };
    let m = mock(MockConfig::new().faults(Vendor::Nexudus, faults)).await;
    let client = nexudus::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let report = Batch::new(nexudus::GetUsers::new(client))
        .retry(quick_retry())
        .fetch(ids(5))
        .await
        .unwrap();
    assert_eq!(report.found.len(), 5);
    assert_eq!(report.requests, 2, "cut JSON is worth one more try");
}

/// Each kind of drift at 1 and at 10,000 ids: every id in its place, for its reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_drift_at_1_and_10_000_ids() {
    for n in [1usize, 10_000] {
        let list = ids(n);
        let every_100th: Vec<String> = list.iter().step_by(100).cloned().collect();
        let cases: Vec<(&str, MockConfig)> = vec![
            (
                "unknown fields",
                MockConfig::new().drift(
                    Vendor::Nexudus,
                    Drift {
                        unknown_fields: true,
                        ..Drift::default()
                    },
                ),
            ),
            (
                "a changed type",
                MockConfig::new().drift(
                    Vendor::Nexudus,
                    Drift::default().replace(
                        "CountryId",
                        every_100th.clone(),
                        serde_json::json!("GB"),
                    ),
                ),
            ),
            (
                "an ignored filter",
                MockConfig::new().drift(
                    Vendor::Nexudus,
                    Drift {
                        ignore_filter: true,
                        ..Drift::default()
                    },
                ),
            ),
            (
                "extra records",
                MockConfig::new().faults(
                    Vendor::Nexudus,
                    Faults {
                        extra_records: 1.0,
                        ..Faults::default()
                    },
                ),
            ),
        ];
        for (name, config) in cases {
            let m = mock(config.log_requests(false)).await;
            let client = nexudus::Client::with_bearer(m.base_url(), TOKEN).unwrap();
            let report = Batch::new(nexudus::GetCoworkers::new(client))
                .fetch(&list)
                .await
                .unwrap();
            let at = format!("{name}, {n} ids");
            assert!(report.missing.is_empty(), "{at}");
            match name {
                "unknown fields" => {
                    assert_eq!(report.found.len(), n, "{at}");
                    assert!(
                        report
                            .found
                            .iter()
                            .all(|f| f.raw.as_str().contains("\"UnknownNull\":null")),
                        "{at}"
                    );
                }
                "a changed type" => {
                    assert_eq!(report.found.len(), n - every_100th.len(), "{at}");
                    let failed: Vec<&String> = report.failed.iter().flat_map(|f| &f.ids).collect();
                    assert_eq!(failed, every_100th.iter().collect::<Vec<_>>(), "{at}");
                    assert!(
                        report
                            .failed
                            .iter()
                            .all(|f| f.error.kind == ErrorKind::Decode),
                        "{at}"
                    );
                }
                "an ignored filter" => {
                    assert_eq!(report.failed_count(), n, "{at}");
                    // Three requests answer alike, then the run stops sending.
                    let most = if n == 1 {
                        1
                    } else {
                        2 * DEFAULT_CONCURRENCY as u64 + 3
                    };
                    assert!(report.requests <= most, "{at}: {}", report.requests);
                }
                _ => {
                    assert_eq!(report.found.len(), n, "{at}");
                    assert_eq!(report.unexpected, 2 * report.requests, "{at}");
                }
            }
            m.stop().await;
        }
    }
}

/// `getUsersByIds` with `$sort=bogusfield`: the generated operation, but for one parameter.
struct BadSort(usermgr::GetUsersByIds, usermgr::Client);

impl userbatch::Operation for BadSort {
    type Record = usermgr::types::User;

    fn rules(&self) -> &'static userbatch::rules::OperationRules {
        self.0.rules()
    }

    fn vendor(&self) -> &'static userbatch::rules::VendorRules {
        self.0.vendor()
    }

    async fn send(
        &self,
        ids: &[String],
        _: Option<userbatch::PageRequest>,
    ) -> userbatch_core::SendResult {
        let ids =
            usermgr::types::GetUsersByIdsIds::from_ids(ids).map_err(userbatch_core::refused)?;
        self.1
            .get_users_by_ids(
                &ids,
                None,
                None,
                Some("bogusfield"),
                Default::default(),
                Default::default(),
            )
            .await
    }

    fn decode(&self, record: &str) -> Result<Self::Record, userbatch::RecordError> {
        self.0.decode(record)
    }
}
