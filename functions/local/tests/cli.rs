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
    assert_eq!(refused["statusCode"], 403);

    let report = stats(&pantau(&["invoke", "report", "--now", "2026-11-17T00:00:00Z"], dir.path()));
    assert_eq!(report["period"], "daily");
    assert_eq!(report["from"], "2026-11-16");
    let folder = dir.path().join("pantau-data/reports/daily/2026-11-16_2026-11-16");
    let csv = std::fs::read_to_string(folder.join("volume_by_day.csv")).unwrap();
    assert!(csv.starts_with("\u{feff}Tanggal;Aplikasi lain (API);Berita daring;Jumlah\r\n"), "{csv}");
    assert!(csv.contains("2026-11-16;2;1;3\r\n"), "{csv}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["volume"]["total"]["value"], 3);
    assert!(std::fs::read_to_string(folder.join("report.html")).unwrap().contains("Laporan harian"));
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

fn pantau_stdin(args: &[&str], dir: &std::path::Path, stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_pantau"))
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn lines(out: &Output) -> Vec<serde_json::Value> {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn classify_writes_one_line_per_row_in_order_and_copies_ids() {
    let dir = tempfile::tempdir().unwrap();
    let long = "jalan rusak ".repeat(10_000);
    let csv = format!(
        "id,text,extra\n\
         a1,\"Jalan rusak parah di Gresik, sudah 3 bulan berlubang dan banyak pengendara jatuh\",x\n\
         a2,Kapan pendaftaran beasiswa Jatim Cerdas dibuka?,y\n\
         a3,,z\n\
         a4,😡😡😡,z\n\
         a5,https://t.co/abc,z\n\
         a6,{long},z\n"
    );
    std::fs::write(dir.path().join("in.csv"), csv).unwrap();
    let out = lines(&pantau(&["classify", "--input", "in.csv"], dir.path()));
    assert_eq!(
        out.iter().map(|l| l["id"].as_str().unwrap()).collect::<Vec<_>>(),
        vec!["a1", "a2", "a3", "a4", "a5", "a6"]
    );
    assert_eq!(out[0]["category"], "pengaduan");
    assert_eq!(out[1]["category"], "permintaan_informasi");
    for line in &out {
        for field in ["category", "sentiment", "language", "topics", "confidence", "scores", "reasons"] {
            assert!(!line[field].is_null(), "{field} missing in {line}");
        }
        let p: f64 = line["scores"]["category"].as_object().unwrap().values().map(|v| v.as_f64().unwrap()).sum();
        assert!((p - 1.0).abs() < 1e-3, "category probabilities sum to 1: {line}");
        assert_eq!(line["confidence"], line["scores"]["category"][line["category"].as_str().unwrap()]);
    }
    // JSONL on stdin to stdout, without ids.
    let jsonl = b"{\"text\": \"Terima kasih Pemprov Jatim, bantuan sudah sampai\"}\n{\"text\": \"Gubernur goblok tidak becus\", \"id\": 7}\n";
    let out = lines(&pantau_stdin(&["classify", "--input", "-"], dir.path(), jsonl));
    assert_eq!(out.len(), 2);
    assert!(out[0].get("id").is_none());
    assert_eq!(out[1]["id"], "7");
    assert_eq!(out[0]["category"], "apresiasi");
    assert_eq!(out[1]["category"], "hater");
}

#[test]
fn classify_names_the_row_it_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("no_text.csv"), "id,message\n1,halo\n").unwrap();
    let out = pantau(&["classify", "--input", "no_text.csv"], dir.path());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no \"text\" column"));
    std::fs::write(dir.path().join("bad.csv"), b"text\nok\n\xff\xfe bad\n".as_slice()).unwrap();
    let out = pantau(&["classify", "--input", "bad.csv"], dir.path());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("row 3"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = pantau_stdin(&["classify", "--input", "-"], dir.path(), b"{\"text\": \"ok\"}\n{\"txt\": 1}\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("row 2"));
    std::fs::write(dir.path().join("broken.bin"), b"PANTAUCM garbage").unwrap();
    std::fs::write(dir.path().join("in.csv"), "text\nhalo\n").unwrap();
    let out = pantau(&["classify", "--input", "in.csv", "--model", "broken.bin"], dir.path());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.bin"));
}

#[test]
fn eval_prints_scores_for_people_and_machines() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "text,category,sentiment\n\
        \"Jalan di Gresik rusak parah, tolong diperbaiki\",pengaduan,negatif\n\
        Kapan pendaftaran beasiswa dibuka?,permintaan_informasi,netral\n\
        \"Terima kasih Bu Gubernur, mantap\",apresiasi,positif\n";
    std::fs::write(dir.path().join("gold.csv"), csv).unwrap();
    let text = pantau(&["eval", "--input", "gold.csv"], dir.path());
    let printed = String::from_utf8_lossy(&text.stdout);
    assert!(printed.contains("category: macro-F1") && printed.contains("confusion"), "{printed}");
    let json: serde_json::Value =
        serde_json::from_slice(&pantau(&["eval", "--input", "gold.csv", "--json"], dir.path()).stdout).unwrap();
    assert_eq!(json["category"]["examples"], 3);
    let f1 = json["category"]["macro_f1"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&f1));
    let confusion: u64 = json["category"]["confusion"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(confusion, 3, "every example lands in the confusion matrix");
    std::fs::write(dir.path().join("smsa.tsv"), "pelayanan sangat bagus\tpositive\nburuk sekali\tnegative\n").unwrap();
    let smsa: serde_json::Value =
        serde_json::from_slice(&pantau(&["eval", "--input", "smsa.tsv", "--json"], dir.path()).stdout).unwrap();
    assert_eq!(smsa["sentiment"]["examples"], 2);
    assert!(smsa.get("category").is_none());
}

/// `pantau demo --out DIR` never destroys what Pantau did not create: a folder with someone
/// else's files is refused untouched; its own earlier output gets a fresh database, and files
/// added to it meanwhile stay.
#[test]
fn the_demo_never_deletes_what_it_did_not_create() {
    let dir = tempfile::tempdir().unwrap();
    let theirs = dir.path().join("laporan");
    std::fs::create_dir_all(theirs.join("arsip")).unwrap();
    std::fs::write(theirs.join("catatan.txt"), "milik staf").unwrap();
    let refused = pantau(&["demo", "--out", "laporan"], dir.path());
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("not made by `pantau demo`") && message.contains("--out"), "{message}");
    assert_eq!(std::fs::read_to_string(theirs.join("catatan.txt")).unwrap(), "milik staf");
    assert!(theirs.join("arsip").is_dir());
    assert_eq!(std::fs::read_dir(&theirs).unwrap().count(), 2, "nothing was added either");

    let first = pantau(&["demo", "--out", "demo-out"], dir.path());
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let out = dir.path().join("demo-out");
    std::fs::write(out.join("mine.txt"), "kept").unwrap();
    let second = pantau(&["demo", "--out", "demo-out"], dir.path());
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
    assert_eq!(std::fs::read_to_string(out.join("mine.txt")).unwrap(), "kept");
    let printed = String::from_utf8_lossy(&second.stdout);
    assert!(!printed.contains("WARN") && !printed.contains("ERROR"), "log lines stay in the log file: {printed}");
    assert!(String::from_utf8_lossy(&second.stderr).trim().is_empty(), "{}", String::from_utf8_lossy(&second.stderr));
    assert!(out.join("pantau.log").is_file());
    // The publishing part: a reply and twelve slots on three platforms, reposts where X refused
    // the same text; the earlier run's publications were replaced, not added to.
    assert!(printed.contains("outbox files: x 12, facebook 13, telegram 12"), "{printed}");
    assert!(printed.contains("x repost (X refused the same text)"), "{printed}");
    assert!(printed.contains("the case's first response"), "{printed}");
}
