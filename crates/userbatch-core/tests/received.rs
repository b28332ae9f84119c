//! `execute_buffered` over real loopback HTTP: the guard of `release_when_received` is
//! dropped once the whole body has arrived (not before, and before the call ends), and the
//! response handed on is intact.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use userbatch_core::{execute_buffered, release_when_received};

/// Sets its flag when dropped.
struct Guard(Arc<AtomicBool>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn the_guard_goes_when_the_whole_body_has_arrived() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let dropped = Arc::new(AtomicBool::new(false));
    let (half_sent, half_seen) = oneshot::channel::<()>();
    let (go_on, resume) = oneshot::channel::<bool>();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.ends_with(b"\r\n\r\n") {
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0, "the request ends with an empty line");
            request.extend_from_slice(&buf[..n]);
        }
        socket
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-vendor: yes\r\ncontent-length: 13\r\n\r\n{\"id\":")
            .await
            .unwrap();
        socket.flush().await.unwrap();
        half_sent.send(()).unwrap();
        // The test says whether the guard was still held with half the body out.
        let held_at_half = resume.await.unwrap();
        socket.write_all(b" 12345}").await.unwrap();
        held_at_half
    });

    let client = reqwest::Client::new();
    let url = format!("http://{addr}/users?id=1");
    let request = client.get(&url).build().unwrap();
    let flag = Arc::clone(&dropped);
    let watcher = async {
        half_seen.await.unwrap();
        // Give the client time to read the first half; the guard must stay.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        go_on.send(!flag.load(Ordering::SeqCst)).unwrap();
    };
    let call = async {
        let response = execute_buffered(&client, request).await.unwrap();
        // Inside the call, after the body arrived, before anyone decoded it.
        assert!(
            dropped.load(Ordering::SeqCst),
            "the guard is dropped once the body has arrived"
        );
        response
    };
    let (response, ()) = tokio::join!(
        release_when_received(Guard(Arc::clone(&dropped)), call),
        watcher
    );
    assert!(
        server.await.unwrap(),
        "the guard was still held while half the body was out"
    );
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.url().as_str(), url);
    assert_eq!(response.headers()["x-vendor"], "yes");
    assert_eq!(response.bytes().await.unwrap().as_ref(), b"{\"id\": 12345}");
}

#[tokio::test]
async fn the_guard_goes_when_the_request_fails() {
    // A port nobody listens on any more.
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let dropped = Arc::new(AtomicBool::new(false));
    let client = reqwest::Client::new();
    let request = client.get(format!("http://{addr}/")).build().unwrap();
    let flag = Arc::clone(&dropped);
    release_when_received(Guard(Arc::clone(&dropped)), async {
        assert!(execute_buffered(&client, request).await.is_err());
        assert!(flag.load(Ordering::SeqCst), "dropped inside the call");
    })
    .await;
}

#[tokio::test]
async fn without_a_scope_it_just_sends() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 1024];
        let _ = socket.read(&mut buf).await.unwrap();
        socket
            .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\nno")
            .await
            .unwrap();
    });
    let client = reqwest::Client::new();
    let request = client.get(format!("http://{addr}/")).build().unwrap();
    let response = execute_buffered(&client, request).await.unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(response.text().await.unwrap(), "no");
}
