//! A real `pantau serve` in a temporary directory, and a minimal HTTP/1.1 client for it, for
//! the end-to-end tests (each test binary compiles this module on its own, and uses its own
//! part of it).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

/// Settings that would let the caller's environment leak into a test server.
const PLATFORM_SECRETS: [&str; 4] =
    ["PANTAU_META_APP_SECRET", "PANTAU_META_VERIFY_TOKEN", "PANTAU_X_CONSUMER_SECRET", "PANTAU_TELEGRAM_SECRET_TOKEN"];

pub struct Server {
    child: Child,
    pub addr: String,
    pub dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `pantau serve` on a port the system picks (so parallel tests never share one) with
/// `admin` as its bootstrap key and `env`; the address is read from the line it prints.
pub fn start(admin: &str, env: &[(&str, &str)]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pantau"));
    cmd.args(["serve", "--addr", "127.0.0.1:0", "--db"])
        .arg(dir.path().join("pantau.db"))
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("PANTAU_API_KEYS", admin)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for name in PLATFORM_SECRETS {
        cmd.env_remove(name);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("pantau serve stopped before serving").unwrap();
        if let Some(addr) = line.strip_prefix("pantau: serving on http://") {
            break addr.trim().to_string();
        }
    };
    // Keep reading so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Server { child, addr, dir }
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
}

/// One request on its own connection.
pub fn http(server: &Server, method: &str, path: &str, headers: &[(&str, String)], body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        server.addr,
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    // A server may answer (413, 401) before the body is sent and close: the write then fails,
    // and the answer is read as it stands.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if !raw.is_empty() && e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("reading the response: {e}"),
        }
    }
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

/// `pantau ARGS --db pantau.db` in `dir` with `env` (the caller's platform secrets removed).
pub fn pantau_run(dir: &std::path::Path, env: &[(String, String)], args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pantau"));
    cmd.args(args).args(["--db", "pantau.db"]).current_dir(dir).env("RUST_LOG", "warn").env_remove("PANTAU_API_KEYS");
    for name in PLATFORM_SECRETS {
        cmd.env_remove(name);
    }
    cmd.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    cmd.output().unwrap()
}

/// The same, which must succeed; its JSON output.
pub fn pantau_json(dir: &std::path::Path, env: &[(String, String)], args: &[&str]) -> serde_json::Value {
    let out = pantau_run(dir, env, args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Calls the API as `role` at `now` through `pantau invoke api` (an API Gateway event with
/// the JWT claims the authorizer passes); returns (status, body).
#[allow(clippy::too_many_arguments)]
pub fn invoke_api(
    dir: &std::path::Path,
    env: &[(String, String)],
    now: &str,
    role: &str,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
    headers: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let (raw_path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut head = serde_json::json!({"host": "api.example", "content-type": "application/json"});
    for (k, v) in headers {
        head[k.to_lowercase()] = serde_json::Value::String(v.to_string());
    }
    let event = serde_json::json!({
        "version": "2.0", "routeKey": "$default", "rawPath": raw_path, "rawQueryString": query,
        "headers": head,
        "requestContext": {"accountId": "123456789012", "apiId": "abc", "domainName": "api.example",
            "domainPrefix": "api", "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1", "userAgent": "t"}, "requestId": "r1", "routeKey": "$default", "stage": "$default",
            "time": "27/Nov/2026:03:00:00 +0000", "timeEpoch": 0,
            "authorizer": {"jwt": {"claims": {"sub": format!("{role}-1"), "pantau_role": role}, "scopes": null}}},
        "body": body.map(|b| b.to_string()),
        "isBase64Encoded": false
    });
    let file = format!("event-{}.json", std::process::id());
    std::fs::write(dir.join(&file), event.to_string()).unwrap();
    let response = pantau_json(dir, env, &["invoke", "api", "--event", &file, "--now", now]);
    let status = response["statusCode"].as_u64().unwrap() as u16;
    let body = response["body"]
        .as_str()
        .filter(|b| !b.is_empty())
        .map_or(serde_json::Value::Null, |b| serde_json::from_str(b).unwrap());
    (status, body)
}
