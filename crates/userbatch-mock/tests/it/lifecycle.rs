//! Starting and stopping: no task and no port left behind; the log and counters.

use std::time::Duration;

use crate::support::*;
use userbatch_mock::{Fault, Faults, MockConfig, MockServer, Vendor};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_leaves_no_task_and_frees_the_port() {
    let metrics = tokio::runtime::Handle::current().metrics();
    let baseline = metrics.num_alive_tasks();
    for round in 0..20 {
        let faults = Faults {
            // Every third request hangs: stop must end those too.
            script: vec![None, None, Some(Fault::Hang)],
            ..Faults::default()
        };
        let m = MockServer::start(MockConfig::new().faults(Vendor::Nexudus, faults))
            .await
            .unwrap();
        let addr = m.addr();
        // Keep-alive connections from a client that outlives the server, and a hanging one.
        let client = nexudus(&m);
        client.get_user(1).await.unwrap();
        client.get_user(2).await.unwrap();
        let hanging = tokio::spawn({
            let client = client.clone();
            async move { client.get_user(3).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            metrics.num_alive_tasks() > baseline,
            "the server runs tasks"
        );
        tokio::time::timeout(Duration::from_secs(10), m.stop())
            .await
            .unwrap_or_else(|_| panic!("round {round}: stop did not finish"));
        // The hanging request got an answer or a closed connection, not a wait.
        let _ = tokio::time::timeout(Duration::from_secs(10), hanging)
            .await
            .expect("hang ended");
        // The port is free again: it can be bound at once.
        let rebound = tokio::net::TcpListener::bind(addr).await;
        assert!(
            rebound.is_ok(),
            "round {round}: port {addr} still taken: {rebound:?}"
        );
        drop(rebound);
        drop(client);
    }
    // Every task the servers spawned (accept loop, connections, handlers) has ended.
    let mut alive = metrics.num_alive_tasks();
    for _ in 0..100 {
        if alive <= baseline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        alive = metrics.num_alive_tasks();
    }
    assert_eq!(alive, baseline, "tasks leaked");
}

#[tokio::test]
async fn the_log_and_counters_see_every_request() {
    let faults = Faults {
        script: vec![Some(Fault::ServerError(503))],
        ..Faults::default()
    };
    let m = mock(MockConfig::new().faults(Vendor::Nexudus, faults)).await;
    let client = nexudus(&m);
    assert!(client.get_users(&user_ids([1, 2, 3])).await.is_err());
    client.get_users(&user_ids([1, 2, 3])).await.unwrap();
    client.get_users(&user_ids([4, 4])).await.unwrap();
    client.get_user(9).await.unwrap();
    usermgr_get(&usermgr(&m), "a,b", None, None, None).await;

    let log = m.log();
    assert_eq!(log.len(), 5);
    assert_eq!(
        log.iter().map(|r| r.seq).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4]
    );
    assert_eq!(log[0].operation, "getUsers");
    assert_eq!(log[0].status, 503);
    assert_eq!(log[0].fault, Some(Fault::ServerError(503)));
    assert_eq!(log[1].ids, ["1", "2", "3"]);
    assert_eq!(log[1].status, 200);
    assert_eq!(log[1].fault, None);
    assert_eq!(log[2].ids, ["4", "4"], "duplicates as sent");
    assert_eq!(log[3].operation, "getUser");
    assert_eq!(log[4].vendor, Vendor::Usermgr);
    assert_eq!(log[4].operation, "getUsersByIds");
    assert_eq!(
        log[1].request_bytes,
        "/api/sys/users/?id=%5B1%2C2%2C3%5D".len(),
        "path and query as sent"
    );

    let stats = m.stats();
    let users = stats.operation("getUsers");
    assert_eq!(users.requests, 3);
    assert_eq!(users.ids, 8);
    assert_eq!(users.max_ids_per_request, 3);
    assert_eq!(users.statuses.get(&503), Some(&1));
    assert_eq!(users.statuses.get(&200), Some(&2));
    assert!(users.response_bytes > 1000);
    assert_eq!(stats.operation("getUser").requests, 1);
    assert_eq!(stats.total_requests(), 5);
    assert_eq!(stats.operation("nothing"), Default::default());
}

#[tokio::test]
async fn counters_without_the_log() {
    let m = mock(MockConfig::new().log_requests(false)).await;
    nexudus(&m).get_user(1).await.unwrap();
    assert!(m.log().is_empty());
    assert_eq!(m.stats().operation("getUser").requests, 1);
}

#[tokio::test]
async fn dropping_a_server_stops_it() {
    let m = mock(MockConfig::new()).await;
    let url = format!("{}/api/sys/users/1", m.base_url());
    drop(m);
    let mut refused = false;
    for _ in 0..100 {
        if raw().get(&url).bearer_auth(TOKEN).send().await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refused, "the dropped server still answers");
}
