//! Every operation and vendor of the registry: fetched, throttled, unknown ids, paging.

use std::collections::BTreeSet;
use std::time::Duration;

use userbatch::Batch;
use userbatch_mock::{Fault, Faults, MockConfig, RetryAfter, UnknownIdAnswer, Vendor};

use crate::support::{TOKEN, mock, quick_retry};

/// Every batch operation of the registry (a spec added to `specs/` is in it too), built
/// from text options as a command line builds it, against the mock: every id found but the
/// one the vendor lacks, which is missing, in the fewest requests its rules allow.
#[tokio::test]
async fn every_operation_of_the_registry_fetches_and_says_what_is_missing() {
    use userbatch::rules::{IdEncoding, IdKind};
    let mut checked = 0;
    for (vendor, resource, entry) in userbatch::registry::operations() {
        let rules = entry.rules;
        let single = rules.ids.encoding == IdEncoding::Single;
        let n = if single { 3 } else { 150 };
        let list: Vec<String> = (1..=n)
            .map(|i| match rules.ids.kind {
                IdKind::Integer => (1000 + i).to_string(),
                IdKind::String => format!("u{i}"),
            })
            .collect();
        let gone = list[1].clone();
        let m = mock(
            MockConfig::new()
                .missing_ids([gone.as_str()])
                .log_requests(false),
        )
        .await;
        let config = userbatch::ClientConfig::new(m.base_url())
            .credentials(userbatch::Credentials::bearer(TOKEN));
        let op = entry.build_for_mock(config).unwrap();
        let what = format!("{} {} {}", vendor.name, resource.name, rules.operation_id);
        let report = Batch::new(op.strict(true)).fetch(&list).await.unwrap();
        assert_eq!(report.found.len(), n - 1, "{what}: {:?}", report.failed);
        assert_eq!(report.missing, [gone], "{what}");
        assert!(report.failed.is_empty(), "{what}");
        let found: Vec<&str> = report.found.iter().map(|f| f.id.as_str()).collect();
        let expected: Vec<&str> = list
            .iter()
            .filter(|i| **i != list[1])
            .map(String::as_str)
            .collect();
        assert_eq!(found, expected, "{what}: input order");
        // The fewest requests: one per id, or as the planner cuts them (a paged
        // operation's requests carry at most a page).
        let minimum = if single {
            n as u64
        } else {
            let mut planner = userbatch::Planner::new(rules);
            if let Some(p) = &rules.paging {
                planner = planner.max_batch(p.default_size as usize).unwrap();
            }
            planner.plan(&list).unwrap().chunks.len() as u64
        };
        // Unknown ids that fail a whole request cost a split to isolate: not here,
        // where the mock omits them unless the rules say a request fails.
        if !matches!(
            rules.unknown_ids,
            userbatch::rules::UnknownIds::FailsRequest(_)
        ) || single
        {
            assert_eq!(report.requests, minimum, "{what}");
        }
        checked += 1;
    }
    assert!(checked >= 6, "{checked} operations");
}

/// Every operation of the registry, built for the mock at `base_url` (required options as
/// `OperationEntry::build_for_mock` fills them), with its vendor and entry.
fn registry_operations(
    base_url: &str,
) -> Vec<(
    &'static userbatch::registry::Vendor,
    &'static userbatch::registry::OperationEntry,
    userbatch::registry::AnyOperation,
)> {
    let mut out = Vec::new();
    for (vendor, _, entry) in userbatch::registry::operations() {
        let config = userbatch::ClientConfig::new(base_url)
            .credentials(userbatch::Credentials::bearer(TOKEN));
        out.push((vendor, entry, entry.build_for_mock(config).unwrap()));
    }
    out
}

/// `n` ids of the operation's type.
fn ids_for(entry: &userbatch::registry::OperationEntry, n: usize) -> Vec<String> {
    (1..=n)
        .map(|i| match entry.rules.ids.kind {
            userbatch::rules::IdKind::Integer => (1000 + i).to_string(),
            userbatch::rules::IdKind::String => format!("u{i}"),
        })
        .collect()
}

/// The mock's name for a vendor of the registry.
fn mock_vendor(name: &str) -> Vendor {
    Vendor::ALL.into_iter().find(|v| v.name() == name).unwrap()
}

#[tokio::test]
async fn every_vendor_throttles_with_its_own_status_and_retry_after_is_honoured() {
    let mut seen = BTreeSet::new();
    for vendor in userbatch::registry::vendors() {
        let faults = Faults {
            script: vec![Some(Fault::Throttle)],
            retry_after: RetryAfter::Seconds(1),
            ..Faults::default()
        };
        let m = mock(MockConfig::new().faults(mock_vendor(vendor.name), faults)).await;
        let (_, entry, op) = registry_operations(m.base_url())
            .into_iter()
            .find(|(v, e, _)| {
                v.name == vendor.name
                    && e.rules.ids.encoding != userbatch::rules::IdEncoding::Single
            })
            .unwrap();
        let started = std::time::Instant::now();
        let report = Batch::new(op)
            .retry(quick_retry())
            .fetch(ids_for(entry, 3))
            .await
            .unwrap();
        assert_eq!(report.found.len(), 3, "{}", vendor.name);
        assert_eq!(
            m.log()[0].status,
            vendor.rules.throttle_statuses[0],
            "{}",
            vendor.name
        );
        // Backoff alone would wait at most 5 ms; Retry-After said one second.
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "{}: Retry-After was not honoured",
            vendor.name
        );
        seen.insert(vendor.rules.throttle_statuses[0]);
        m.stop().await;
    }
    assert!(seen.len() >= 2, "statuses of their own: {seen:?}");
}

#[tokio::test]
async fn an_unknown_id_that_fails_its_whole_request_costs_only_itself() {
    use userbatch::rules::{IdEncoding, UnknownIds};
    let mut checked = 0;
    for (vendor, entry, _) in registry_operations("http://127.0.0.1:9") {
        let rules = entry.rules;
        let can_fail = !matches!(rules.unknown_ids, UnknownIds::Omitted);
        if !can_fail || rules.ids.encoding == IdEncoding::Single {
            continue;
        }
        let n = rules.limits.max_ids.unwrap_or(75).min(75);
        let list = ids_for(entry, n);
        let gone = list[n / 2].clone();
        let config = MockConfig::new()
            .missing_ids([gone.clone()])
            .unknown_ids(UnknownIdAnswer::FailRequest);
        let m = mock(config).await;
        let (_, _, op) = registry_operations(m.base_url())
            .into_iter()
            .find(|(_, e, _)| e.rules.operation_id == rules.operation_id)
            .unwrap();
        let report = Batch::new(op).fetch(&list).await.unwrap();
        let what = format!("{} {}", vendor.name, rules.operation_id);
        assert_eq!(report.found.len(), n - 1, "{what}");
        assert_eq!(report.missing, [gone], "{what}");
        assert!(report.failed.is_empty(), "{what}");
        // 1 request, then halves down to the bad id: 2 per level.
        let levels = (n as f64).log2().ceil() as u64;
        assert!(
            report.requests <= 1 + 2 * levels,
            "{what}: {} requests",
            report.requests
        );
        assert!(report.requests >= 3, "{what}");
        checked += 1;
        m.stop().await;
    }
    assert!(checked >= 1);
}

#[tokio::test]
async fn paged_operations_return_every_record_even_from_a_server_that_caps_the_page() {
    let mut checked = 0;
    for (vendor, entry, _) in registry_operations("http://127.0.0.1:9") {
        let Some(paging) = &entry.rules.paging else {
            continue;
        };
        let page = paging.default_size as usize;
        let most = entry.rules.limits.max_ids.unwrap_or(usize::MAX);
        let what = format!("{} {}", vendor.name, entry.rules.operation_id);
        // 2.5 pages of ids in one request: the first page's total says 2 more follow. Then
        // a server that serves 30 per page, whatever is asked: the engine reads the real
        // size off the short first page and fetches the rest.
        let cap = (page / 3).max(1);
        for (n, cap) in [
            ((page * 5 / 2).min(most), None),
            (page.min(most), Some(cap as u64)),
        ] {
            let list = ids_for(entry, n);
            let gone = list[n / 3].clone();
            let mut config = MockConfig::new().missing_ids([gone.clone()]);
            if let Some(cap) = cap {
                config = config.max_page_size(cap);
            }
            let m = mock(config).await;
            let (_, _, op) = registry_operations(m.base_url())
                .into_iter()
                .find(|(_, e, _)| e.rules.operation_id == entry.rules.operation_id)
                .unwrap();
            let report = Batch::new(op).max_batch(n).fetch(&list).await.unwrap();
            assert_eq!(report.found.len(), n - 1, "{what}");
            assert_eq!(report.missing, [gone], "{what}");
            assert!(report.failed.is_empty(), "{what}");
            let per_page = cap.map_or(page, |c| c as usize);
            assert_eq!(
                report.requests as usize,
                (n - 1).div_ceil(per_page),
                "{what}"
            );
            m.stop().await;
        }
        checked += 1;
    }
    assert!(checked >= 1);
}
