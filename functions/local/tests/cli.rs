//! The `pantau` command line: import, invoke and help, run as a user would.

use std::process::{Command, Output};

fn pantau(args: &[&str], dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pantau"))
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .env_remove("PANTAU_API_KEYS")
        .output()
        .unwrap()
}

fn stats(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

const CSV: &str = "platform,external_id,text,created_at,author_id,author_followers\n\
api,lapor-1,\"Jalan di Tuban rusak, tolong\",2026-11-16T01:00:00Z,w1,15\n\
api,lapor-2,Kapan pencairan PKH?,2026-11-16T02:00:00Z,w2,\n\
news,https://berita.example/a,Gubernur resmikan jembatan,2026-11-16T03:00:00Z,berita.example,\n";

#[test]
fn import_checks_the_whole_file_then_stores_each_row_once() {
    let dir = tempfile::tempdir().unwrap();
    let bad = CSV.replace("api,lapor-2,", "twitter,lapor-2,");
    std::fs::write(dir.path().join("bad.csv"), bad).unwrap();
    let refused = pantau(&["import", "bad.csv"], dir.path());
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("row 3") && message.contains("platform"), "{message}");

    std::fs::write(dir.path().join("good.csv"), CSV).unwrap();
    let first = stats(&pantau(&["import", "good.csv"], dir.path()));
    assert_eq!(first["stored"], 3, "nothing of the refused file was stored: {first}");
    let again = stats(&pantau(&["import", "good.csv"], dir.path()));
    assert_eq!((again["stored"].as_u64(), again["duplicates"].as_u64()), (Some(0), Some(3)));

    let jsonl = r#"{"platform":"api","external_id":"lapor-1","text":"Jalan di Tuban rusak","created_at":"2026-11-16T01:00:00Z","author":{"id":"w1"}}
{"platform":"api","external_id":"lapor-3","text":"Terima kasih Bu Gubernur","created_at":"2026-11-16T04:00:00Z","author":{"id":"w3"}}
"#;
    std::fs::write(dir.path().join("more.jsonl"), jsonl).unwrap();
    let more = stats(&pantau(&["import", "more.jsonl"], dir.path()));
    assert_eq!((more["stored"].as_u64(), more["duplicates"].as_u64()), (Some(1), Some(1)));
}

#[test]
fn invoke_runs_a_handler_with_an_api_gateway_event_and_a_fixed_clock() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.csv"), CSV).unwrap();
    stats(&pantau(&["import", "good.csv"], dir.path()));
    let event = serde_json::json!({
        "version": "2.0", "routeKey": "GET /v1/mentions", "rawPath": "/v1/mentions",
        "rawQueryString": "from=2026-11-16&to=2026-11-17&platform=api",
        "headers": {"host": "api.example"},
        "queryStringParameters": {"from": "2026-11-16", "to": "2026-11-17", "platform": "api"},
        "requestContext": {"accountId": "123456789012", "apiId": "abc", "domainName": "api.example", "domainPrefix": "api",
            "http": {"method": "GET", "path": "/v1/mentions", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "t"},
            "requestId": "r1", "routeKey": "GET /v1/mentions", "stage": "$default", "time": "16/Nov/2026:03:00:00 +0000", "timeEpoch": 1_794_798_000_000_i64,
            "authorizer": {"jwt": {"claims": {"sub": "dashboard", "pantau_role": "viewer"}, "scopes": null}}},
        "isBase64Encoded": false
    });
    std::fs::write(dir.path().join("event.json"), event.to_string()).unwrap();
    let out = pantau(&["invoke", "api", "--event", "event.json", "--now", "2026-11-17T00:00:00Z"], dir.path());
    let response = stats(&out);
    assert_eq!(response["statusCode"], 200, "{response}");
    let body: serde_json::Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    let keys: Vec<&str> = body["items"].as_array().unwrap().iter().map(|m| m["key"].as_str().unwrap()).collect();
    assert_eq!(keys, vec!["api:lapor-2", "api:lapor-1"]);

    let mut no_role = event.clone();
    no_role["requestContext"]["authorizer"]["jwt"]["claims"] = serde_json::json!({"sub": "x"});
    std::fs::write(dir.path().join("event.json"), no_role.to_string()).unwrap();
    let refused = stats(&pantau(&["invoke", "api", "--event", "event.json"], dir.path()));
    assert_eq!(refused["statusCode"], 401);

    let report = stats(&pantau(&["invoke", "report", "--now", "2026-11-17T00:00:00Z"], dir.path()));
    assert_eq!(report["period"], "daily");
    assert_eq!(report["from"], "2026-11-16");
    let csv =
        std::fs::read_to_string(dir.path().join("pantau-data/reports/daily/2026-11-16_2026-11-16/report.csv")).unwrap();
    assert!(csv.contains("2026-11-16,api,2") && csv.contains("2026-11-16,news,1"), "{csv}");
}

#[test]
fn help_explains_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out = pantau(&["--help"], dir.path());
    let help = String::from_utf8_lossy(&out.stdout);
    for command in ["serve", "invoke", "import", "demo"] {
        assert!(help.contains(command), "{command} missing from --help:\n{help}");
    }
    let unknown = pantau(&["invoke", "nope"], dir.path());
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown function nope"));
}
