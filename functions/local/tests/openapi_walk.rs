//! Every operation of the OpenAPI document that `pantau serve` publishes, called on a real
//! `pantau serve`: without a credential, with a wrong one, and with a key of each role. The
//! operations come from the served document, so a route added there cannot escape the walk
//! (and `tests/openapi.rs` keeps the document equal to the route table and the template).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const ADMIN: &str = "walk-admin-key";
const ROLES: [&str; 4] = ["viewer", "operator", "admin", "ingest"];

struct Server {
    child: Child,
    addr: String,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_pantau"))
        .args(["serve", "--addr", &addr, "--db"])
        .arg(dir.path().join("pantau.db"))
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("PANTAU_API_KEYS", ADMIN)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(&addr).is_err() {
        assert!(Instant::now() < deadline, "pantau serve did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Server { child, addr, dir }
}

impl Server {
    /// A new key of `role`, from `pantau keys create` on the serving database.
    fn key(&self, role: &str) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_pantau"))
            .args(["keys", "create", "--role", role, "--db"])
            .arg(self.dir.path().join("pantau.db"))
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    /// Checks an RFC 9457 problem of this status and returns its detail.
    fn problem(&self, at: &str) -> String {
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{at}");
        let body = self.json();
        assert_eq!(body["status"], self.status, "{at}: {body}");
        assert!(body["type"].is_string() && body["title"].is_string(), "{at}: {body}");
        body["detail"].as_str().unwrap_or_else(|| panic!("{at}: no detail in {body}")).to_string()
    }
}

/// One HTTP/1.1 request on its own connection.
fn http(server: &Server, method: &str, path: &str, bearer: Option<&str>, body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        server.addr,
        body.len()
    );
    if let Some(key) = bearer {
        head.push_str(&format!("Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete response");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_string(), v.trim().to_string())))
        .collect();
    Reply { status, headers, body: raw[split + 4..].to_vec() }
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// An operation of the document.
struct Operation {
    method: String,
    /// The path as the document writes it.
    template: String,
    /// The path with its parameters filled in and percent-encoded.
    path: String,
    /// `x-pantau-role`.
    role: String,
    public: bool,
}

impl Operation {
    fn at(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// The operations of the served document, path parameters filled with the document's examples.
fn operations(doc: &Value) -> Vec<Operation> {
    let mut ops = Vec::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let mut path = template.clone();
            for p in op["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == "path") {
                let name = p["name"].as_str().unwrap();
                let example = p["example"].as_str().unwrap_or("x:1");
                path = path.replace(&format!("{{{name}}}"), &encode(example));
            }
            assert!(!path.contains('{'), "{method} {template}: a path parameter is not declared");
            ops.push(Operation {
                method: method.to_uppercase(),
                template: template.clone(),
                path,
                role: op["x-pantau-role"].as_str().unwrap_or_else(|| panic!("{template}: no x-pantau-role")).into(),
                public: op["security"] == serde_json::json!([]),
            });
        }
    }
    ops
}

/// Whether a key of `have` may call an operation needing `needed` (written out, not taken from
/// the code under test).
fn may(have: &str, needed: &str) -> bool {
    match have {
        "admin" => true,
        "operator" => matches!(needed, "viewer" | "operator"),
        "viewer" => needed == "viewer",
        "ingest" => needed == "ingest",
        _ => false,
    }
}

#[test]
fn every_documented_operation_checks_credential_then_role() {
    let server = start();
    let doc_reply = http(&server, "GET", "/v1/openapi.json", None, b"");
    assert_eq!(doc_reply.status, 200);
    assert_eq!(doc_reply.header("content-type"), Some("application/json"));
    let doc = doc_reply.json();
    let ops = operations(&doc);
    assert!(ops.len() >= 25, "{} operations", ops.len());
    let public: Vec<String> = ops.iter().filter(|o| o.public).map(Operation::at).collect();
    assert_eq!(public, ["GET /v1/openapi.json"], "the document alone is public");

    // (a) no credential, or one that is not valid: 401 before anything else.
    for op in &ops {
        let at = op.at();
        for bearer in [None, Some("not-a-key")] {
            let reply = http(&server, &op.method, &op.path, bearer, b"");
            if op.public {
                assert_eq!(reply.status, 200, "{at}");
                continue;
            }
            assert_eq!(reply.status, 401, "{at} with {bearer:?}");
            assert!(!reply.problem(&at).is_empty());
            assert_eq!(reply.header("www-authenticate"), Some("Bearer"), "{at}");
        }
    }

    // (b) a key of each role: 403 where the role may not, never 401/403 where it may.
    for role in ROLES {
        let key = server.key(role);
        for op in ops.iter().filter(|o| !o.public) {
            let at = format!("{} as {role}", op.at());
            let reply = http(&server, &op.method, &op.path, Some(&key), b"");
            if may(role, &op.role) {
                assert!(![401, 403].contains(&reply.status), "{at}: {}", String::from_utf8_lossy(&reply.body));
                assert!(reply.status < 500, "{at}: {}", String::from_utf8_lossy(&reply.body));
            } else {
                assert_eq!(reply.status, 403, "{at}: {}", String::from_utf8_lossy(&reply.body));
                let detail = reply.problem(&at);
                assert!(detail.contains(&op.role), "{at}: the problem names the role needed: {detail}");
            }
        }
    }
}

#[test]
fn every_documented_operation_refuses_unknown_query_parameters() {
    let server = start();
    let doc = http(&server, "GET", "/v1/openapi.json", None, b"").json();
    for op in operations(&doc).iter().filter(|o| !o.public) {
        let at = op.at();
        let reply = http(&server, &op.method, &format!("{}?colour=red", op.path), Some(ADMIN), b"{}");
        assert_eq!(reply.status, 400, "{at}: {}", String::from_utf8_lossy(&reply.body));
        assert!(reply.problem(&at).contains("unknown parameter colour"), "{at}");
    }
}

#[test]
fn undocumented_methods_get_405_naming_the_documented_ones() {
    let server = start();
    let doc = http(&server, "GET", "/v1/openapi.json", None, b"").json();
    let ops = operations(&doc);
    for op in &ops {
        let mut documented: Vec<&str> =
            ops.iter().filter(|o| o.template == op.template).map(|o| o.method.as_str()).collect();
        let reply = http(&server, "PATCH", &op.path, Some(ADMIN), b"");
        assert_eq!(reply.status, 405, "PATCH {}", op.path);
        reply.problem(&op.path);
        let mut allowed: Vec<&str> = reply.header("allow").unwrap_or_default().split(", ").collect();
        allowed.sort_unstable();
        documented.sort_unstable();
        assert_eq!(allowed, documented, "Allow of {}", op.template);
    }
}

#[test]
fn api_bodies_up_to_4_mib_are_read_and_larger_ones_refused() {
    let server = start();
    // 200 mentions of 2 KiB each: far above the webhooks' 256 KiB, within the API's 4 MiB.
    let text = "Jalan berlubang di Lamongan. ".repeat(70);
    let mentions: Vec<Value> = (0..200)
        .map(|i| {
            serde_json::json!({"platform": "api", "external_id": format!("big-{i}"), "text": text,
                "created_at": "2026-11-16T01:00:00Z", "author": {"id": "a"}})
        })
        .collect();
    let body = serde_json::to_vec(&serde_json::json!({ "mentions": mentions })).unwrap();
    assert!(body.len() > 400 * 1024, "{}", body.len());
    let reply = http(&server, "POST", "/v1/mentions", Some(ADMIN), &body);
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    assert_eq!(reply.json()["stored"], 200);

    let huge = vec![b' '; 4 * 1024 * 1024 + 1];
    let reply = http(&server, "POST", "/v1/mentions", Some(ADMIN), &huge);
    assert_eq!(reply.status, 413);
    reply.problem("POST /v1/mentions, 4 MiB + 1");
}

#[test]
fn structs_are_read_from_objects_only() {
    let server = start();
    // serde would read a struct from an array of its fields; a client never means that.
    for (method, path, body) in [
        ("PUT", "/v1/sla", "[3, 5, 14, 60, 10, 24, 24]"),
        ("POST", "/v1/cases/x%3A1/transitions", r#"["selesai", null, null]"#),
        (
            "POST",
            "/v1/mentions",
            r#"{"mentions": [["api", "a1", "Halo", null, "2026-11-16T01:00:00Z", {"id": "u"}, null, null, false]]}"#,
        ),
        (
            "POST",
            "/v1/mentions",
            r#"{"mentions": [{"platform": "api", "external_id": "a2", "text": "Halo", "created_at": "2026-11-16T01:00:00Z", "author": ["u", null, null, null]}]}"#,
        ),
        (
            "PUT",
            "/v1/holidays",
            r#"{"source": "s", "years": [2026], "days": [["2026-12-25", "libur_nasional", "Natal"]]}"#,
        ),
        ("PUT", "/v1/taxonomy", r#"{"topics": [["jalan", "Jalan", "program", [], []]]}"#),
    ] {
        let reply = http(&server, method, path, Some(ADMIN), body.as_bytes());
        assert_eq!(reply.status, 400, "{method} {path} {body}: {}", String::from_utf8_lossy(&reply.body));
        let detail = reply.problem(path);
        assert!(detail.contains("object"), "{path}: {detail}");
    }
}

#[test]
fn unusable_idempotency_keys_are_refused_not_ignored() {
    let server = start();
    let answer = br#"{"title": "Jam layanan", "text": "Senin sampai Jumat, 08.00-16.00 WIB."}"#;
    let send = |key: &str| {
        let mut stream = TcpStream::connect(&server.addr).unwrap();
        let head = format!(
            "POST /v1/answers HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {ADMIN}\r\n\
             Idempotency-Key: {key}\r\nContent-Length: {}\r\n\r\n",
            answer.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(answer).unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        String::from_utf8_lossy(&raw[9..12]).parse::<u16>().unwrap()
    };
    assert_eq!(send("k-1"), 201);
    assert_eq!(send("k-1"), 200, "a retry answers as the first time");
    assert_eq!(send(""), 400, "blank");
    assert_eq!(send(&"k".repeat(256)), 400, "too long");
    assert_eq!(send("kunci-\u{e9}"), 400, "not visible ASCII (it would be ignored, and a retry act twice)");
    assert_eq!(send("kunci\tsatu"), 400, "a tab is not visible ASCII");
    assert_eq!(send("kunci satu"), 201, "inner spaces are");
}
