//! `pantau serve` under idle, slow and oversized connections: each kind of stalled socket is
//! closed within its deadline, bodies are refused by their declared size and `/v1` callers by
//! their credential before a byte of the body is read, and a signed delivery is answered at once
//! while hundreds of idle sockets are open.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use pantau::platforms::hmac_sha256;
use support::{Server, http};

const META_SECRET: &str = "meta-app-secret";

fn start() -> Server {
    support::start(
        "limits-admin",
        &[
            ("PANTAU_META_APP_SECRET", META_SECRET),
            ("PANTAU_SERVE_HEADER_TIMEOUT", "1"),
            ("PANTAU_SERVE_BODY_TIMEOUT", "1"),
            ("PANTAU_SERVE_IDLE_TIMEOUT", "2"),
        ],
    )
}

/// Waits for the server to close the socket; returns how long it took and what it sent.
fn closed_within(mut stream: TcpStream, limit: Duration) -> (Duration, Vec<u8>) {
    let started = Instant::now();
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return (started.elapsed(), got),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (started.elapsed(), got),
            Err(e) => panic!("socket still open after {:?}: {e}", started.elapsed()),
        }
    }
}

fn status_of(raw: &[u8]) -> Option<u16> {
    String::from_utf8_lossy(raw).split(' ').nth(1)?.parse().ok()
}

#[test]
fn stalled_sockets_are_closed_within_their_deadlines() {
    let server = start();
    let limit = Duration::from_secs(6);
    // 1. Connected, nothing sent.
    let silent = TcpStream::connect(&server.addr).unwrap();
    // 2. Half a request head, then silence.
    let mut half_head = TcpStream::connect(&server.addr).unwrap();
    half_head.write_all(b"POST /webhooks/meta HTTP/1.1\r\nHost: x\r\nContent-Le").unwrap();
    // 3. The head of a small body, part of it, then silence.
    let mut half_body = TcpStream::connect(&server.addr).unwrap();
    half_body.write_all(b"POST /webhooks/meta HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"obj").unwrap();
    // 4. A complete request on a kept-alive connection, then silence.
    let mut kept = TcpStream::connect(&server.addr).unwrap();
    kept.write_all(b"GET /v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    for (name, socket) in [("silent", silent), ("half head", half_head), ("half body", half_body), ("kept alive", kept)]
    {
        let (took, got) = closed_within(socket, limit);
        assert!(took < limit, "{name}: closed after {took:?}");
        if name == "half body" {
            assert_eq!(status_of(&got), Some(408), "{name}: {}", String::from_utf8_lossy(&got));
        }
    }
}

/// A kept-alive connection waits the idle deadline (2 s here) for its next request, not the
/// head deadline (1 s): a client reusing it after a pause is answered.
#[test]
fn a_kept_alive_connection_outlives_the_head_deadline_until_it_is_idle() {
    let server = start();
    let mut kept = TcpStream::connect(&server.addr).unwrap();
    kept.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let ask = b"GET /v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n";
    // One whole answer: its head, then as many bytes as it declares.
    let read_answer = |stream: &mut TcpStream| {
        let mut got = Vec::new();
        let mut buf = [0u8; 64 * 1024];
        loop {
            if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&got[..end]).to_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .expect("a Content-Length");
                if got.len() >= end + 4 + length {
                    return status_of(&got);
                }
            }
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "closed before the answer");
            got.extend_from_slice(&buf[..n]);
        }
    };
    kept.write_all(ask).unwrap();
    assert_eq!(read_answer(&mut kept), Some(200));
    std::thread::sleep(Duration::from_millis(1500));
    kept.write_all(ask).unwrap();
    assert_eq!(read_answer(&mut kept), Some(200), "reused after 1.5 s");
    let (took, _) = closed_within(kept, Duration::from_secs(6));
    assert!(took >= Duration::from_millis(1500), "closed only once idle: {took:?}");
}

/// Each connection's head deadline (1 s here) and idle deadline (2 s) run from its own
/// arrival: one opened after a quiet spell longer than both, whose client takes a moment to
/// send, is answered rather than closed (a close with the request unread resets it).
#[test]
fn a_connection_opened_after_a_quiet_spell_has_its_whole_head_deadline() {
    let server = start();
    std::thread::sleep(Duration::from_millis(2500));
    let mut late = TcpStream::connect(&server.addr).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    late.write_all(b"GET /v1/openapi.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let (_, got) = closed_within(late, Duration::from_secs(5));
    assert_eq!(status_of(&got), Some(200), "{:?}", String::from_utf8_lossy(&got));
}

#[test]
fn bodies_are_refused_by_size_and_credential_before_they_are_read() {
    let server = start();
    // Declares 4 MB to a webhook (256 KB at most) and sends none of it: refused at once.
    let mut big = TcpStream::connect(&server.addr).unwrap();
    big.write_all(b"POST /webhooks/meta HTTP/1.1\r\nHost: x\r\nContent-Length: 4000000\r\n\r\n").unwrap();
    let (took, got) = closed_within(big, Duration::from_secs(3));
    assert_eq!(status_of(&got), Some(413), "{}", String::from_utf8_lossy(&got));
    assert!(took < Duration::from_millis(900), "{took:?}");
    // An unauthenticated 4 MB ingest batch: 401 without the body.
    let mut anonymous = TcpStream::connect(&server.addr).unwrap();
    anonymous.write_all(b"POST /v1/mentions HTTP/1.1\r\nHost: x\r\nContent-Length: 4000000\r\n\r\n").unwrap();
    let (took, got) = closed_within(anonymous, Duration::from_secs(3));
    assert_eq!(status_of(&got), Some(401), "{}", String::from_utf8_lossy(&got));
    assert!(took < Duration::from_millis(900), "{took:?}");
    let text = String::from_utf8_lossy(&got).to_lowercase();
    assert!(text.contains("application/problem+json") && text.contains("www-authenticate: bearer"), "{text}");
    // A body larger than declared is cut at the route's limit.
    let reply = http(
        &server,
        "POST",
        "/v1/answers",
        &[("Authorization", "Bearer limits-admin".into())],
        &vec![b' '; 70 * 1024],
    );
    assert_eq!(reply.status, 413);
    assert_eq!(reply.content_type(), "application/problem+json");
    // A request target too long is a 414 in the same form.
    let long = format!("/v1/mentions?topic={}", "a".repeat(9000));
    let reply = http(&server, "GET", &long, &[], b"");
    assert_eq!((reply.status, reply.content_type()), (414, "application/problem+json"));
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
}

#[test]
fn a_refused_small_body_arriving_late_still_lets_the_client_read_the_refusal() {
    let server = start();
    // The head first, the body a moment later (as a client on a slow link sends them): the 401
    // is decided before the body arrives. Closing with those bytes unread would reset the
    // connection, and a reset discards the 401 the client has not read yet.
    let mut late = TcpStream::connect(&server.addr).unwrap();
    let body = br#"{"period":"weekly","date":"2026-11-23"}"#;
    let head = format!(
        "POST /v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    late.write_all(head.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    late.write_all(body).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let (_, got) = closed_within(late, Duration::from_secs(5));
    assert_eq!(status_of(&got), Some(401), "{:?}", String::from_utf8_lossy(&got));
}

#[test]
fn a_signed_delivery_is_answered_at_once_among_hundreds_of_idle_sockets() {
    let server = start();
    let idle: Vec<TcpStream> = (0..400).map(|_| TcpStream::connect(&server.addr).unwrap()).collect();
    let body = br#"{"object":"page","entry":[]}"#;
    let signature = format!("sha256={}", hex::encode(hmac_sha256(META_SECRET.as_bytes(), body)));
    let started = Instant::now();
    let reply = http(&server, "POST", "/webhooks/meta", &[("X-Hub-Signature-256", signature)], body);
    assert_eq!(reply.status, 200);
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    drop(idle);
}
