//! `infra/template.yaml` and the code must agree: tables, routes, schedules and bus rules.

use std::collections::BTreeSet;

use pantau::adapters::dynamodb::schema;
use pantau::domain::{EventKind, MentionKey};
use pantau::handlers::consumer;
use pantau::http::ROUTES;
use pantau::schedule::SCHEDULES;
use pantau_tests::{template, template_tables};
use serde_yaml::Value;

/// Functions of the template by logical id → crate name (from `BuildProperties.Binary`).
fn functions() -> Vec<(String, String, Value)> {
    let t = template();
    t["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|(id, r)| {
            let binary = r["Metadata"]["BuildProperties"]["Binary"].as_str().expect("every function names its binary");
            (id.as_str().unwrap().to_string(), binary.to_string(), r.clone())
        })
        .collect()
}

fn events_of(function: &Value, kind: &str) -> Vec<Value> {
    function["Properties"]["Events"]
        .as_mapping()
        .into_iter()
        .flatten()
        .filter(|(_, e)| e["Type"].as_str() == Some(kind))
        .map(|(_, e)| e["Properties"].clone())
        .collect()
}

#[test]
fn tables_keys_indexes_and_ttl_match_the_code() {
    let tables = template_tables();
    assert_eq!(
        tables.len(),
        schema::ALL.len(),
        "template tables: {:?}",
        tables.iter().map(|t| &t.logical_id).collect::<Vec<_>>()
    );
    for def in schema::ALL {
        let table = tables
            .iter()
            .find(|t| t.logical_id == def.logical_id)
            .unwrap_or_else(|| panic!("template lacks {}", def.logical_id));
        assert!(
            table.matches(&def),
            "template and code disagree on {}:\n template {table:?}\n code {def:?}",
            def.logical_id
        );
    }
}

#[test]
fn every_crate_is_a_function_for_arm64_al2023_built_by_cargo_lambda() {
    let globals = template()["Globals"]["Function"].clone();
    let mut names = BTreeSet::new();
    for (_, binary, f) in functions() {
        let p = &f["Properties"];
        assert_eq!(f["Metadata"]["BuildMethod"].as_str(), Some("rust-cargolambda"), "{binary}");
        assert_eq!(p["Runtime"].as_str().or(globals["Runtime"].as_str()), Some("provided.al2023"), "{binary}");
        assert_eq!(p["Architectures"][0].as_str().or(globals["Architectures"][0].as_str()), Some("arm64"), "{binary}");
        assert!(pantau_tests::repo().join(format!("functions/{binary}/Cargo.toml")).exists(), "no crate for {binary}");
        names.insert(binary);
    }
    let expected: BTreeSet<String> = ["ingest-webhook", "ingest-poll", "classify", "publish", "report", "watch", "api"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(names, expected);
}

#[test]
fn http_routes_match_the_server() {
    let mut template_routes = BTreeSet::new();
    for (_, binary, f) in functions() {
        for e in events_of(&f, "HttpApi") {
            let method = e["Method"].as_str().unwrap().to_uppercase();
            let path = e["Path"].as_str().unwrap().to_string();
            template_routes.insert((method, path, binary.clone()));
        }
    }
    let server_routes: BTreeSet<(String, String, String)> = ROUTES
        .iter()
        .map(|r| {
            let function = match r.function {
                pantau::http::Function::Api => "api",
                pantau::http::Function::IngestWebhook => "ingest-webhook",
            };
            (r.method.to_string(), r.path.to_string(), function.to_string())
        })
        .collect();
    assert_eq!(template_routes, server_routes);
}

#[test]
fn schedules_match_the_local_scheduler() {
    let mut template_schedules = BTreeSet::new();
    for (_, binary, f) in functions() {
        for e in events_of(&f, "ScheduleV2") {
            let input: serde_json::Value = serde_json::from_str(e["Input"].as_str().unwrap()).unwrap();
            assert_eq!(input["source"], "pantau.schedule");
            assert_eq!(e["ScheduleExpressionTimezone"].as_str(), Some("Asia/Jakarta"));
            let name = input["detail"]["schedule"].as_str().unwrap().to_string();
            template_schedules.insert((name, e["ScheduleExpression"].as_str().unwrap().to_string(), binary.clone()));
        }
    }
    let code: BTreeSet<(String, String, String)> =
        SCHEDULES.iter().map(|s| (s.name.to_string(), s.expression.to_string(), s.function.to_string())).collect();
    assert_eq!(template_schedules, code);
}

#[test]
fn bus_rules_route_events_as_the_local_bus_does() {
    let mut template_rules = BTreeSet::new();
    for (_, binary, f) in functions() {
        for e in events_of(&f, "EventBridgeRule") {
            for detail_type in e["Pattern"]["detail-type"].as_sequence().unwrap() {
                template_rules.insert((detail_type.as_str().unwrap().to_string(), binary.clone()));
            }
        }
    }
    let key: MentionKey = "x:1".parse().unwrap();
    let samples = [
        EventKind::MentionReceived { key: key.clone() },
        EventKind::MentionClassified {
            key,
            category: pantau::domain::Category::Lainnya,
            sentiment: pantau::domain::Sentiment::Netral,
            priority: pantau::domain::Priority::P4,
        },
        EventKind::AlertRaised { kind: pantau::domain::AlertKind::Spike, data: Default::default() },
        EventKind::ReportRequested {
            period: pantau::domain::ReportPeriod::Custom,
            from: chrono::NaiveDate::MIN,
            to: chrono::NaiveDate::MIN,
        },
        EventKind::PostPublished {
            post: "p".into(),
            occurrence: "o".into(),
            platform: "x".into(),
            platform_post_id: "1".into(),
        },
    ];
    let code: BTreeSet<(String, String)> =
        samples.iter().filter_map(|k| consumer(k).map(|f| (k.detail_type().to_string(), f.to_string()))).collect();
    assert_eq!(template_rules, code);
}

#[test]
fn alert_channels_are_configured_on_the_watch_function_only() {
    use pantau::adapters::notifier::{ALERT_EMAIL_FROM, ALERT_EMAIL_TO, TELEGRAM_ALERT_CHAT_ID};
    let globals = template()["Globals"]["Function"]["Environment"]["Variables"].clone();
    for (_, binary, f) in functions() {
        let env = &f["Properties"]["Environment"]["Variables"];
        for name in [TELEGRAM_ALERT_CHAT_ID, ALERT_EMAIL_FROM, ALERT_EMAIL_TO] {
            assert!(globals[name].is_null(), "{name} is for the watch function only");
            assert_eq!(!env[name].is_null(), binary == "watch", "{name} on {binary}");
        }
        let policies = serde_yaml::to_string(&f["Properties"]["Policies"]).unwrap();
        assert_eq!(policies.contains("ses:SendEmail"), binary == "watch", "SES rights of {binary}");
        if binary == "watch" {
            // Only with a sender, and only as that sender.
            assert!(policies.contains("HasAlertEmail") && policies.contains("ses:FromAddress"), "{policies}");
        }
    }
}

/// Every store a function's `main.rs` wires (`field: rt.store.clone()`) is a table its IAM role
/// may write (or read, for the few stores a function only reads), and a function that announces
/// events may write the outbox: moto does not enforce IAM, so this is where a missing permission
/// shows before AWS refuses it.
#[test]
fn each_function_may_use_the_tables_it_wires() {
    let table_of = |field: &str| match field {
        "mentions" => Some("MentionsTable"),
        "cases" => Some("CasesTable"),
        "config" => Some("ConfigTable"),
        "counters" => Some("CountersTable"),
        "outbox" => Some("OutboxTable"),
        "reports" => Some("ReportsTable"),
        "occurrences" => Some("PostsTable"),
        _ => None,
    };
    for (id, binary, f) in functions() {
        let main =
            std::fs::read_to_string(pantau_tests::repo().join(format!("functions/{binary}/src/main.rs"))).unwrap();
        let mut policies: Vec<(String, String)> = Vec::new();
        for p in f["Properties"]["Policies"].as_sequence().into_iter().flatten() {
            for kind in ["DynamoDBCrudPolicy", "DynamoDBReadPolicy"] {
                if let Some(table) = p[kind]["TableName"]["Ref"].as_str().or_else(|| p[kind]["TableName"].as_str()) {
                    policies.push((kind.to_string(), table.to_string()));
                }
            }
        }
        // Stores a function only reads (everything else it wires, it may write).
        const READ_ONLY: [(&str, &str); 3] =
            [("watch", "MentionsTable"), ("watch", "CountersTable"), ("report", "MentionsTable")];
        let mut wired: Vec<(&str, bool)> = main
            .lines()
            .filter_map(|l| l.trim().strip_suffix(": rt.store.clone(),"))
            .filter_map(table_of)
            .map(|t| (t, !READ_ONLY.contains(&(binary.as_str(), t))))
            .collect();
        if main.contains("rt.inline_relay()") {
            wired.push(("OutboxTable", true));
        }
        for (table, write) in wired {
            let allowed = policies.iter().any(|(kind, t)| t == table && (kind == "DynamoDBCrudPolicy" || !write));
            assert!(allowed, "{id} wires {table} but its policies {policies:?} do not allow it");
        }
    }
}
