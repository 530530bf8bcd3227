//! Every operation of the OpenAPI document that `pantau serve` publishes, called on a real
//! `pantau serve`: without a credential, with a wrong one, and with a key of each role. The
//! operations come from the served document, so a route added there cannot escape the walk
//! (and `tests/openapi.rs` keeps the document equal to the route table and the template).

mod support;

use serde_json::Value;
use support::{Reply, Server};

const ADMIN: &str = "walk-admin-key";
const ROLES: [&str; 4] = ["viewer", "operator", "admin", "ingest"];

fn start() -> Server {
    support::start(ADMIN, &[])
}

/// A new key of `role`, from `pantau keys create` on the serving database.
fn key(server: &Server, role: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pantau"))
        .args(["keys", "create", "--role", role, "--db"])
        .arg(server.dir.path().join("pantau.db"))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Checks an RFC 9457 problem of the reply's status and returns its detail.
fn problem(reply: &Reply, at: &str) -> String {
    assert_eq!(reply.content_type(), "application/problem+json", "{at}");
    let body = reply.json();
    assert_eq!(body["status"], reply.status, "{at}: {body}");
    assert!(body["type"].is_string() && body["title"].is_string(), "{at}: {body}");
    body["detail"].as_str().unwrap_or_else(|| panic!("{at}: no detail in {body}")).to_string()
}

/// One request, with a bearer key (and a JSON body type) when given.
fn http(server: &Server, method: &str, path: &str, bearer: Option<&str>, body: &[u8]) -> Reply {
    let headers: Vec<(&str, String)> = match bearer {
        Some(key) => vec![("Authorization", format!("Bearer {key}")), ("Content-Type", "application/json".into())],
        None => Vec::new(),
    };
    support::http(server, method, path, &headers, body)
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
            assert!(!problem(&reply, &at).is_empty());
            assert_eq!(reply.header("www-authenticate"), Some("Bearer"), "{at}");
        }
    }

    // (b) a key of each role: 403 where the role may not, never 401/403 where it may.
    for role in ROLES {
        let key = key(&server, role);
        for op in ops.iter().filter(|o| !o.public) {
            let at = format!("{} as {role}", op.at());
            let reply = http(&server, &op.method, &op.path, Some(&key), b"");
            // Approving a post needs the configured approver role (`admin` by default) on top of
            // the route's `operator`: its own documented 403.
            let approver_only = op.path.ends_with("/approval") && role == "operator" && reply.status == 403;
            if approver_only {
                assert!(problem(&reply, &at).contains("may not approve posts"), "{at}");
            } else if may(role, &op.role) {
                assert!(![401, 403].contains(&reply.status), "{at}: {}", String::from_utf8_lossy(&reply.body));
                assert!(reply.status < 500, "{at}: {}", String::from_utf8_lossy(&reply.body));
            } else {
                assert_eq!(reply.status, 403, "{at}: {}", String::from_utf8_lossy(&reply.body));
                let detail = problem(&reply, &at);
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
        assert!(problem(&reply, &at).contains("unknown parameter colour"), "{at}");
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
        problem(&reply, &op.path);
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
    problem(&reply, "POST /v1/mentions, 4 MiB + 1");
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
        let detail = problem(&reply, path);
        assert!(detail.contains("object"), "{path}: {detail}");
    }
}

#[test]
fn unusable_idempotency_keys_are_refused_not_ignored() {
    let server = start();
    let answer = br#"{"title": "Jam layanan", "text": "Senin sampai Jumat, 08.00-16.00 WIB."}"#;
    let send = |key: &str| {
        let headers = [("Authorization", format!("Bearer {ADMIN}")), ("Idempotency-Key", key.to_string())];
        support::http(&server, "POST", "/v1/answers", &headers, answer).status
    };
    assert_eq!(send("k-1"), 201);
    assert_eq!(send("k-1"), 200, "a retry answers as the first time");
    assert_eq!(send(""), 400, "blank");
    assert_eq!(send(&"k".repeat(256)), 400, "too long");
    assert_eq!(send("kunci-\u{e9}"), 400, "not visible ASCII (it would be ignored, and a retry act twice)");
    assert_eq!(send("kunci\tsatu"), 400, "a tab is not visible ASCII");
    assert_eq!(send("kunci satu"), 201, "inner spaces are");
}
