//! A sloppy vendor: records nobody asked for, ids written differently, paging that does not add up, duplicated ids, HTML labels.
use userbatch::{Batch, ErrorKind, Outcome, Verbatim, avepoint, usermgr};
use userbatch_mock::MockConfig;

use super::{Sloppy, avepoint_page, nexudus_users, places, record};
use crate::support::{TOKEN, ids, mock, quick_retry};

#[tokio::test]
async fn records_nobody_asked_for_stop_the_others_being_missing() {
    // A vendor that ignores the filter and answers its default page, 1 to 25.
    let server = Sloppy::start(|_| {
        let page: Vec<String> = (1..=25).map(|i| record(&i.to_string(), "")).collect();
        (200, "application/json", format!("[{}]", page.join(",")))
    })
    .await;
    let report = nexudus_users(&server.url(), &["1", "2", "3", "30"]).await;
    let (found, missing, failed) = places(&report);
    assert_eq!(found, ["1", "2", "3"]);
    assert!(missing.is_empty());
    assert_eq!(failed, [("30".to_owned(), ErrorKind::Unrequested)]);
    assert_eq!(report.unexpected, 22);

    // One record nobody asked for among those asked.
    let server = Sloppy::start(|_| {
        (
            200,
            "application/json",
            format!(
                "[{},{},{}]",
                record("1", ""),
                record("2", ""),
                record("99", "")
            ),
        )
    })
    .await;
    let report = nexudus_users(&server.url(), &["1", "2", "3"]).await;
    let (found, missing, failed) = places(&report);
    assert_eq!(
        (found, missing),
        (vec!["1".to_owned(), "2".to_owned()], vec![])
    );
    assert_eq!(failed, [("3".to_owned(), ErrorKind::Unrequested)]);
}

#[tokio::test]
async fn ids_are_compared_as_the_vendor_compares_them() {
    // Integer ids by value, and the report names each as the input spelled it.
    let server = Sloppy::start(|seen| {
        let ids = seen.nexudus_ids();
        assert_eq!(ids, ["7", "12"], "integers go out without leading zeros");
        (
            200,
            "application/json",
            format!("[{},{}]", record("\"0012\"", ""), record("7", "")),
        )
    })
    .await;
    let report = nexudus_users(&server.url(), &["007", "12", "7"]).await;
    assert_eq!(places(&report).0, ["007", "12"]);
    assert_eq!(report.duplicates, 1, "007 and 7 are one id");

    // User Manager's ids are strings: `007` answered as 7 is not `007`, and not missing.
    let server = Sloppy::start(|seen| {
        assert_eq!(seen.usermgr_ids(), ["007"]);
        (
            200,
            "application/json",
            r#"{"user": [{"id": 7}]}"#.to_owned(),
        )
    })
    .await;
    let client = usermgr::Client::with_bearer(&server.url(), TOKEN).unwrap();
    let report = Batch::new(Verbatim(usermgr::GetUsersByIds::new(client)))
        .fetch(["007"])
        .await
        .unwrap();
    let (_, missing, failed) = places(&report);
    assert!(missing.is_empty());
    assert_eq!(failed, [("007".to_owned(), ErrorKind::Unrequested)]);

    // AvePoint's ids are GUIDs (the spec's `case-insensitive`): sent as given, matched in
    // any case, reported as given.
    let upper = "C2AA00D3-1234-5678-9ABC-9E9C79232BFF";
    let server = Sloppy::start(move |seen| {
        let (ids, _, _) = seen.avepoint();
        assert_eq!(ids, [upper, "b"]);
        let data = format!(r#"[{{"id": "{}"}}]"#, upper.to_lowercase());
        (200, "application/json", format!(r#"{{"data": {data}, "metadata": {{"pageIndex": 1, "pageSize": 100, "totalCount": 1}}}}"#))
    })
    .await;
    let client = avepoint::Client::with_bearer(&server.url(), TOKEN).unwrap();
    let report = Batch::new(Verbatim(avepoint::RetrieveMultipleUsers::new(
        client, "c", "t",
    )))
    .fetch([upper, "b", &upper.to_lowercase()])
    .await
    .unwrap();
    assert_eq!(places(&report).0, [upper]);
    assert_eq!(report.missing, ["b"]);
    assert_eq!(report.duplicates, 1);
}

#[tokio::test]
async fn paging_that_does_not_add_up_calls_nothing_missing() {
    // (what the server does, its answer to (asked ids, page index, page size))
    type Paging = fn(&[String], u64, u64) -> String;
    let cases: [(&str, Paging); 3] = [
        ("at most 25 a page, totalCount 10", |ids, index, _| {
            let skip = ((index - 1) * 25) as usize;
            let page: Vec<String> = ids.iter().skip(skip).take(25).cloned().collect();
            avepoint_page(&page, index, 25, Some(10))
        }),
        ("at most 25 a page, no metadata", |ids, index, _| {
            let skip = ((index - 1) * 25) as usize;
            let page: Vec<String> = ids.iter().skip(skip).take(25).cloned().collect();
            avepoint_page(&page, index, 25, None)
        }),
        ("page 2 cut short, totalCount right", |ids, index, size| {
            let skip = ((index - 1) * size) as usize;
            let take = if index == 1 { 85 } else { 3 };
            let page: Vec<String> = ids.iter().skip(skip).take(take).cloned().collect();
            avepoint_page(&page, index, size, Some(ids.len()))
        }),
    ];
    for (name, paging) in cases {
        let server = Sloppy::start(move |seen| {
            let (ids, index, size) = seen.avepoint();
            (200, "application/json", paging(&ids, index, size))
        })
        .await;
        let client = avepoint::Client::with_bearer(&server.url(), TOKEN).unwrap();
        let asked = ids(100);
        let report = Batch::new(Verbatim(avepoint::RetrieveMultipleUsers::new(
            client, "c", "t",
        )))
        .retry(quick_retry())
        .fetch(&asked)
        .await
        .unwrap();
        assert!(report.missing.is_empty(), "{name}: {:?}", report.missing);
        assert_eq!(report.found.len() + report.failed_count(), 100, "{name}");
        // The ids the pages left out are asked again, while that brings new records.
        assert_eq!(report.found.len(), 100, "{name}: {:?}", report.failed);
        assert!(
            server.requests() < 20,
            "{name}: {} requests",
            server.requests()
        );
    }
}

#[tokio::test]
async fn a_vendor_that_pages_the_same_records_over_and_over_fails_the_rest() {
    // Only ids 1 to 10 ever come back, on every page, while the total counts every id
    // asked: the others can never be accounted for, and asking again brings nothing new.
    let server = Sloppy::start(|seen| {
        let (ids, index, size) = seen.avepoint();
        let page: Vec<String> = ids
            .iter()
            .filter(|id| id.parse::<u32>().is_ok_and(|i| i <= 10))
            .cloned()
            .collect();
        (
            200,
            "application/json",
            avepoint_page(&page, index, size, Some(ids.len())),
        )
    })
    .await;
    let client = avepoint::Client::with_bearer(&server.url(), TOKEN).unwrap();
    let report = Batch::new(Verbatim(avepoint::RetrieveMultipleUsers::new(
        client, "c", "t",
    )))
    .fetch(ids(30))
    .await
    .unwrap();
    assert!(report.missing.is_empty());
    assert_eq!(report.found.len(), 10);
    assert_eq!(report.failed_count(), 20);
    assert!(
        report
            .failed
            .iter()
            .all(|f| f.error.kind == ErrorKind::Paging)
    );
    assert!(server.requests() < 10, "{}", server.requests());
}

#[tokio::test]
async fn a_record_that_names_two_ids_or_an_id_named_twice_is_reported() {
    let server = Sloppy::start(|_| {
        let body = format!(
            r#"[{{"Id":1,"Id":2}},{},{},{},{}]"#,
            record("3", "a"),
            record("3", "b"),
            record("4", "same"),
            record("4", "same")
        );
        (200, "application/json", body)
    })
    .await;
    let report = nexudus_users(&server.url(), &["1", "2", "3", "4", "5"]).await;
    let (found, missing, failed) = places(&report);
    assert_eq!(found, ["4"], "the same record twice is that record");
    // An answer that names ids twice is not trusted to have left 5 out for its reason.
    assert!(missing.is_empty());
    assert_eq!(
        failed,
        [
            ("1".to_owned(), ErrorKind::Ambiguous),
            ("2".to_owned(), ErrorKind::Ambiguous),
            ("3".to_owned(), ErrorKind::Ambiguous),
            ("5".to_owned(), ErrorKind::Ambiguous)
        ]
    );
    let why: Vec<String> = report.failed.iter().map(|f| f.error.to_string()).collect();
    assert!(why.iter().any(|w| w.contains("appears twice")), "{why:?}");
    assert!(
        why.iter().any(|w| w.contains("two different records")),
        "{why:?}"
    );
}

#[tokio::test]
async fn a_200_labelled_html_whose_body_is_an_empty_list_calls_nothing_missing() {
    let server = Sloppy::start(|_| (200, "text/html; charset=utf-8", "[]".to_owned())).await;
    let report = nexudus_users(&server.url(), &["1", "2", "3"]).await;
    assert!(report.missing.is_empty());
    assert_eq!(report.failed_count(), 3);
    assert_eq!(report.failed[0].error.kind, ErrorKind::ContentType);
    assert_eq!(server.requests(), 1);
    // And labelled right, the same body is the vendor's word.
    let server = Sloppy::start(|_| (200, "application/json; charset=utf-8", "[]".to_owned())).await;
    let report = nexudus_users(&server.url(), &["1", "2", "3"]).await;
    assert_eq!(report.missing, ["1", "2", "3"]);
    // A `null`, or an object where a list is documented, is not.
    for body in ["null", r#"{"Id": 1}"#] {
        let server = Sloppy::start(move |_| (200, "application/json", body.to_owned())).await;
        let report = nexudus_users(&server.url(), &["1", "2", "3"]).await;
        assert!(report.missing.is_empty(), "{body}");
        assert_eq!(report.failed[0].error.kind, ErrorKind::Decode, "{body}");
    }
}

#[tokio::test]
async fn a_stream_says_what_each_id_became_even_when_the_run_stops() {
    // The library's stream agrees with its report: the run error is there as outcomes end.
    let m = mock(
        MockConfig::new()
            .path_values("customerId", ["c"])
            .path_values("tenantId", ["t"]),
    )
    .await;
    let client = avepoint::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let mut stream = Batch::new(avepoint::RetrieveMultipleUsers::new(client, "c", "gone"))
        .stream(ids(1_000))
        .unwrap();
    let mut failed = 0;
    while let Some(outcome) = stream.next().await {
        match outcome {
            Outcome::Failed(f) => failed += f.ids.len(),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(failed, 1_000);
    assert_eq!(stream.run_error().map(|e| e.status), Some(Some(404)));
    m.stop().await;
}

#[tokio::test]
async fn records_that_are_not_json_fail_only_their_ids_when_kept_as_sent() {
    // Each broken inside its own braces, so the body's structure holds: a bare word, a
    // trailing comma, a control character in a string, a number with a leading zero.
    let server = Sloppy::start(|_| {
        let body = concat!(
            r#"[{"Id":1,"FullName":"a"},{"Id":2,"FullName":tru},{"Id":3,"Tags":[1,]},"#,
            "{\"Id\":4,\"FullName\":\"a\u{1}b\"},",
            r#"{"Id":5,"Credit":01},{"Id":6,"FullName":"\u00e9 \"b\""}]"#
        );
        (200, "application/json", body.to_owned())
    })
    .await;
    let report = nexudus_users(&server.url(), &["1", "2", "3", "4", "5", "6"]).await;
    let (found, missing, failed) = places(&report);
    assert_eq!(found, ["1", "6"]);
    assert!(missing.is_empty());
    let not_json: Vec<(String, ErrorKind)> = ["2", "3", "4", "5"]
        .iter()
        .map(|id| (id.to_string(), ErrorKind::Decode))
        .collect();
    assert_eq!(failed, not_json);
    assert!(
        report.failed[0]
            .error
            .to_string()
            .contains("not valid JSON"),
        "{}",
        report.failed[0].error
    );
}
