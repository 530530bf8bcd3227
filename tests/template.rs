//! `infra/template.yaml` and the code must agree: tables, routes, schedules and bus rules.

use std::collections::BTreeSet;

use pantau::adapters::dynamodb::schema;
use pantau::domain::{EventKind, MentionKey};
use pantau::handlers::consumer;
use pantau::http::ROUTES;
use pantau::schedule::SCHEDULES;
use pantau_tests::{bus_rules, default_classifier, events_of, functions, queue_sources, template, template_tables};
use serde_yaml::Value;

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
    for rule in bus_rules() {
        for detail_type in rule.pattern["detail-type"].as_sequence().unwrap() {
            template_rules.insert((detail_type.as_str().unwrap().to_string(), rule.function.clone()));
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

#[test]
fn the_secret_goes_only_to_functions_that_hold_credentials() {
    // classify and report call no platform, verify no signature and check no key: they get
    // neither the secret's ARN nor the right to read it (and start without reading it).
    let globals = template()["Globals"]["Function"]["Environment"]["Variables"].clone();
    assert!(globals["PANTAU_SECRET_ID"].is_null(), "the secret is given per function, not in Globals");
    for (id, binary, f) in functions() {
        let given = !f["Properties"]["Environment"]["Variables"]["PANTAU_SECRET_ID"].is_null();
        let readable =
            serde_yaml::to_string(&f["Properties"]["Policies"]).unwrap().contains("secretsmanager:GetSecretValue");
        let holds_credentials = !matches!(binary.as_str(), "classify" | "report");
        assert_eq!((given, readable), (holds_credentials, holds_credentials), "{id}: secret given, readable");
    }
}

#[test]
fn the_classify_function_reads_the_committed_model_from_its_layer() {
    let template = template();
    for (id, binary, f) in functions() {
        let file = &f["Properties"]["Environment"]["Variables"]["PANTAU_MODEL_FILE"];
        if binary != "classify" {
            assert!(file.is_null() && f["Properties"]["Layers"].is_null(), "{id} has no model");
            continue;
        }
        let path = file.as_str().expect("PANTAU_MODEL_FILE is a literal path");
        let on_disk =
            pantau_tests::layer_file(&template, &f, path).unwrap_or_else(|| panic!("no layer of {id} holds {path}"));
        let bytes = std::fs::read(&on_disk).unwrap();
        assert!(bytes == pantau::classify::DEFAULT_MODEL, "{} is the model pantau embeds", on_disk.display());
        let main = std::fs::read_to_string(pantau_tests::repo().join("functions/classify/src/main.rs")).unwrap();
        assert!(
            main.contains("model_file(&Env)") && !main.contains("DEFAULT_MODEL"),
            "classify reads the layer's file"
        );
    }
}

/// A resource of an IAM statement as the logical id it names (`!GetAtt X.Arn`, `!Ref X`,
/// `!Sub '${X.Arn}/…'`), or `ses` for SES identities.
fn resource_id(resource: &Value) -> String {
    match resource {
        Value::Tagged(t) => {
            let text = match &t.value {
                Value::String(s) => s.clone(),
                other => panic!("unexpected resource {other:?}"),
            };
            if text.contains(":ses:") {
                return pantau::aws::SES.to_string();
            }
            let text = text.trim_start_matches("${");
            text.split(['.', '}', '/']).next().unwrap_or_default().to_string()
        }
        Value::String(s) if s.contains(":ses:") => pantau::aws::SES.to_string(),
        other => panic!("unexpected resource {other:?}"),
    }
}

fn strings(v: &Value) -> Vec<Value> {
    match v {
        Value::Sequence(items) => items.clone(),
        other => vec![other.clone()],
    }
}

/// The (resource, action) pairs a function's `Policies` grant, the stack key's policy aside.
/// Every grant is an exact statement: SAM's policy templates grant more than any code needs.
fn granted(id: &str, function: &Value) -> BTreeSet<(String, String)> {
    let mut pairs = BTreeSet::new();
    for policy in function["Properties"]["Policies"].as_sequence().into_iter().flatten() {
        if let Value::Tagged(t) = policy
            && t.value.as_str() == Some("PantauKeyUsePolicy")
        {
            continue;
        }
        // `!If [Condition, policy, !Ref AWS::NoValue]`: granted when configured.
        let policy = match policy {
            Value::Tagged(t) if t.tag == "If" => &t.value[1],
            other => other,
        };
        let statements = policy["Statement"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{id}: every policy is an exact Statement list, not a SAM template: {policy:?}"));
        for statement in statements {
            // `!If [Condition, statement, !Ref AWS::NoValue]`: granted when configured.
            let statement = match statement {
                Value::Tagged(t) if t.tag == "If" => t.value[1].clone(),
                other => other.clone(),
            };
            assert_eq!(statement["Effect"].as_str(), Some("Allow"), "{id}: {statement:?}");
            let actions: Vec<String> =
                strings(&statement["Action"]).iter().map(|a| a.as_str().unwrap().to_string()).collect();
            let resources = strings(&statement["Resource"]);
            let ids: BTreeSet<String> = resources.iter().map(resource_id).collect();
            // A Query on a table with indexes needs the indexes' ARNs too.
            for table in template_tables() {
                if ids.contains(&table.logical_id)
                    && !table.indexes.is_empty()
                    && actions.iter().any(|a| a == "dynamodb:Query")
                {
                    let on_indexes = resources.iter().any(|r| format!("{r:?}").contains("/index/*"));
                    assert!(on_indexes, "{id}: Query on {} without its indexes", table.logical_id);
                }
            }
            for resource in &ids {
                for action in &actions {
                    pairs.insert((resource.clone(), action.clone()));
                }
            }
        }
    }
    pairs
}

/// What each function's code uses, as the ports its wiring (`pantau::aws`, called by its
/// `main.rs`) hands out declare it, compared with what its role grants, both ways: an action
/// granted but unused, or used but not granted, fails.
#[tokio::test]
async fn each_function_is_granted_exactly_what_its_code_uses() {
    use pantau::aws::AwsRuntime;
    use pantau::config::{AwsSettings, Secrets};
    let Some(endpoint) = pantau_tests::moto().await else { return };
    let sdk = pantau_tests::sdk_config(&endpoint).await;
    let tables = pantau_tests::create_tables(&aws_sdk_dynamodb::Client::new(&sdk)).await;
    // Every optional capability configured, so every conditional grant is exercised.
    let src: std::collections::HashMap<String, String> = [
        ("PANTAU_ALERT_EMAIL_FROM", "humas@jatimprov.go.id"),
        ("PANTAU_ALERT_EMAIL_TO", "piket@jatimprov.go.id"),
        ("PANTAU_REPORTS_BUCKET", "reports"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let secrets = Secrets { cursor_secret: Some("k".to_string().into()), ..Secrets::default() };
    let globals = template()["Globals"]["Function"]["Environment"]["Variables"].clone();
    let mut failures = Vec::new();
    for (id, binary, function) in functions() {
        // The secret's ARN where the template gives it (a function without it reads no secret).
        let secret = &function["Properties"]["Environment"]["Variables"]["PANTAU_SECRET_ID"];
        let settings = AwsSettings {
            tables: tables.clone(),
            bus_name: "pantau".into(),
            reports_bucket: Some("reports".into()),
            retention_days: 30,
            secret_id: (!secret.is_null() || !globals["PANTAU_SECRET_ID"].is_null())
                .then(|| "arn:aws:secretsmanager:ap-southeast-3:123456789012:secret:pantau".into()),
        };
        let rt = AwsRuntime::new(settings, sdk.clone(), secrets.clone()).unwrap();
        let main =
            std::fs::read_to_string(pantau_tests::repo().join(format!("functions/{binary}/src/main.rs"))).unwrap();
        let wiring = match binary.as_str() {
            "ingest-webhook" => rt.webhook_state(&src).map(drop).map_err(|e| e.to_string()),
            "ingest-poll" => rt.poll_state(&src).map(drop).map_err(|e| e.to_string()),
            "classify" => {
                rt.classify_service(async { Ok(default_classifier()) }, &src).await.map(drop).map_err(|e| e.to_string())
            }
            "watch" => rt.watch_state(&src).map(drop).map_err(|e| e.to_string()),
            "report" => rt.report_state(&src).map(drop).map_err(|e| e.to_string()),
            "api" => rt.api_state(&src).map(drop).map_err(|e| e.to_string()),
            "publish" => rt.publish_service(&src).map(drop).map_err(|e| e.to_string()),
            other => panic!("no wiring for {other}"),
        };
        wiring.unwrap_or_else(|e| panic!("{binary}: {e}"));
        let method = match binary.as_str() {
            "ingest-webhook" => "webhook_state",
            "ingest-poll" => "poll_state",
            "classify" => "classify_service",
            "watch" => "watch_state",
            "report" => "report_state",
            "api" => "api_state",
            "publish" => "publish_service",
            other => panic!("no wiring for {other}"),
        };
        assert!(main.contains(&format!("rt.{method}(")), "{binary}'s main.rs wires with AwsRuntime::{method}");
        let mut used: BTreeSet<(String, String)> =
            rt.granted().into_iter().map(|g| (g.resource.to_string(), g.action.to_string())).collect();
        // A queue an event source mapping reads for the function, with the function's role:
        // what AWS documents the mapping needs.
        for (_, queue) in queue_sources().into_iter().filter(|(fed, _)| *fed == binary) {
            for action in ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"] {
                used.insert((queue.clone(), action.to_string()));
            }
        }
        let granted = granted(&id, &function);
        let unused: Vec<_> = granted.difference(&used).collect();
        let missing: Vec<_> = used.difference(&granted).collect();
        if !(unused.is_empty() && missing.is_empty()) {
            failures.push(format!("{id}: granted but unused {unused:?}; used but not granted {missing:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
