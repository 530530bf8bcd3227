//! `shared/openapi.json` (as served at `GET /v1/openapi.json`), the server's route table and
//! `infra/template.yaml` describe one API: the same routes, the same roles, the same public
//! routes, and the office's vocabularies spelled as the code spells them.

use std::collections::{BTreeMap, BTreeSet};

use pantau::domain::{
    Account, AccountKind, Action, CaseStatus, Category, Influence, Language, OccurrenceState, PUBLISH_PLATFORMS,
    Platform, PostStatus, Priority, ReplySource, Sentiment, SeriesStatus, SlaClock,
};
use pantau::handlers::api::{MAX_IDEMPOTENCY_KEY, MAX_LIMIT, OPENAPI};
use pantau::http::{Access, Function, ROUTES};
use pantau_tests::template;
use serde_json::Value;

type Route = (String, String);

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

fn document() -> Value {
    serde_json::from_str(OPENAPI).expect("shared/openapi.json is JSON")
}

/// Every operation of the document by (METHOD, path).
fn operations(doc: &Value) -> BTreeMap<Route, Value> {
    let mut ops = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            assert!(METHODS.contains(&method.as_str()), "{path}: {method} is not an HTTP method");
            ops.insert((method.to_uppercase(), path.clone()), op.clone());
        }
    }
    ops
}

/// The role name of a route as the document writes it (`x-pantau-role`).
fn role_of(access: Access) -> String {
    match access {
        Access::Public => "public".to_string(),
        Access::Role(role) => role.to_string(),
    }
}

/// The `/v1` routes the server serves, with their roles.
fn server_routes() -> BTreeMap<Route, String> {
    ROUTES
        .iter()
        .filter(|r| r.function == Function::Api)
        .map(|r| ((r.method.to_string(), r.path.to_string()), role_of(r.access)))
        .collect()
}

/// Every HttpApi event of the template: (route, its function's binary, whether it is public).
fn template_routes() -> Vec<(Route, String, bool)> {
    let t = template();
    let mut routes = Vec::new();
    for (_, resource) in t["Resources"].as_mapping().expect("Resources") {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap_or_default().to_string();
        for (_, event) in resource["Properties"]["Events"].as_mapping().into_iter().flatten() {
            if event["Type"].as_str() != Some("HttpApi") {
                continue;
            }
            let p = &event["Properties"];
            let route = (p["Method"].as_str().unwrap().to_uppercase(), p["Path"].as_str().unwrap().to_string());
            routes.push((route, binary.clone(), p["Auth"]["Authorizer"].as_str() == Some("NONE")));
        }
    }
    routes
}

#[test]
fn the_document_the_server_and_the_template_have_the_same_api_routes() {
    let documented: BTreeSet<Route> = operations(&document()).into_keys().collect();
    let served: BTreeSet<Route> = server_routes().into_keys().collect();
    let deployed: BTreeSet<Route> =
        template_routes().into_iter().filter(|(_, binary, _)| binary == "api").map(|(route, _, _)| route).collect();
    assert_eq!(
        documented.symmetric_difference(&served).collect::<Vec<_>>(),
        Vec::<&Route>::new(),
        "document and ROUTES differ"
    );
    assert_eq!(
        deployed.symmetric_difference(&served).collect::<Vec<_>>(),
        Vec::<&Route>::new(),
        "template (function api) and ROUTES differ"
    );
    assert!(documented.iter().all(|(_, path)| path.starts_with("/v1/")), "webhooks are not part of the document");
}

#[test]
fn each_operation_states_the_role_the_server_requires() {
    let ops = operations(&document());
    for (route, role) in server_routes() {
        let op = ops.get(&route).unwrap_or_else(|| panic!("{route:?} is not in the document"));
        assert_eq!(op["x-pantau-role"].as_str(), Some(role.as_str()), "{route:?}: x-pantau-role");
        let security = &op["security"];
        if role == "public" {
            assert_eq!(security, &serde_json::json!([]), "{route:?} is public");
        } else {
            assert_eq!(security, &serde_json::json!([{"bearer": []}]), "{route:?} needs a bearer credential");
            let description = op["description"].as_str().unwrap_or_default();
            assert!(description.contains(&format!("Role: `{role}`")), "{route:?}: description names the role");
        }
    }
}

#[test]
fn the_templates_public_routes_are_exactly_the_public_routes_of_the_server() {
    let public_in_template: BTreeSet<Route> =
        template_routes().into_iter().filter(|(_, _, public)| *public).map(|(route, _, _)| route).collect();
    let public_in_code: BTreeSet<Route> = ROUTES
        .iter()
        .filter(|r| r.access == Access::Public)
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    assert_eq!(public_in_template, public_in_code);
    let v1: Vec<&Route> = public_in_code.iter().filter(|(_, path)| path.starts_with("/v1/")).collect();
    assert_eq!(v1, [&("GET".to_string(), "/v1/openapi.json".to_string())], "only the document is public in /v1");
}

/// Follows a local `$ref` (components only).
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str() {
        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap_or_else(|| panic!("dangling $ref {r}")),
        None => value,
    }
}

#[test]
fn every_operation_documents_its_parameters_errors_and_idempotency() {
    let doc = document();
    let mut ids = BTreeSet::new();
    for ((method, path), op) in operations(&doc) {
        let at = format!("{method} {path}");
        assert!(ids.insert(op["operationId"].as_str().unwrap().to_string()), "{at}: operationId is not unique");
        let params: Vec<&Value> = op["parameters"].as_array().into_iter().flatten().map(|p| resolve(&doc, p)).collect();
        let in_path: BTreeSet<&str> =
            params.iter().filter(|p| p["in"] == "path").map(|p| p["name"].as_str().unwrap()).collect();
        let templated: BTreeSet<&str> =
            path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect();
        assert_eq!(in_path, templated, "{at}: path parameters");
        for p in params.iter().filter(|p| p["in"] == "path") {
            assert_eq!(p["required"], true, "{at}: path parameters are required");
            assert!(p["example"].is_string(), "{at}: path parameter {} has an example", p["name"]);
        }
        if let Some(limit) = params.iter().find(|p| p["name"] == "limit") {
            assert_eq!(limit["schema"]["minimum"], 1, "{at}: limit");
            assert!(limit["schema"]["maximum"].is_null(), "{at}: a larger limit is clamped, not refused");
            assert!(limit["description"].as_str().unwrap().contains(&MAX_LIMIT.to_string()), "{at}: the cap");
        }
        let idempotency = params.iter().find(|p| p["name"] == "Idempotency-Key");
        let creates = [
            "/v1/answers",
            "/v1/cases/{id}/replies",
            "/v1/cases/{id}/transitions",
            "/v1/posts",
            "/v1/series",
            "/v1/reports",
        ];
        assert_eq!(idempotency.is_some(), method == "POST" && creates.contains(&path.as_str()), "{at}");
        if let Some(key) = idempotency {
            assert_eq!((&key["in"], &key["schema"]["maxLength"]), (&"header".into(), &MAX_IDEMPOTENCY_KEY.into()));
        }

        let responses = op["responses"].as_object().unwrap();
        let public = op["x-pantau-role"] == "public";
        for status in ["401", "403", "503"] {
            assert_eq!(responses.contains_key(status), !public, "{at}: {status}");
        }
        assert!(responses.contains_key("413"), "{at}: every request body is capped");
        if op.get("requestBody").is_some() || !params.is_empty() {
            assert!(responses.contains_key("400"), "{at}: input can be refused");
        }
        for (status, response) in responses {
            let response = resolve(&doc, response);
            let code: u16 = status.parse().unwrap_or_else(|_| panic!("{at}: status {status}"));
            assert!(code != 500 && code < 600, "{at}: {status} — a 5xx other than 503 is a bug, not a contract");
            let content: Vec<&String> = response["content"].as_object().map(|c| c.keys().collect()).unwrap_or_default();
            match code {
                204 => assert!(content.is_empty(), "{at}: 204 has no body"),
                // A report's files are what they are: HTML, CSV or JSON.
                200 if path == "/v1/reports/{id}/files/{name}" => {
                    let mut kinds = content.clone();
                    kinds.sort();
                    assert_eq!(kinds, ["application/json", "text/csv", "text/html"], "{at}: {status}")
                }
                200..=299 => assert_eq!(content, ["application/json"], "{at}: {status}"),
                _ => assert_eq!(content, ["application/problem+json"], "{at}: {status} is a problem"),
            }
        }
        if let Some(body) = op.get("requestBody") {
            assert_eq!(body["required"], true, "{at}");
            let media = &body["content"]["application/json"];
            assert!(media["example"].is_object(), "{at}: the request body has an example");
            let schema = resolve(&doc, &media["schema"]);
            // Every body struct refuses unknown members, except the taxonomy (its file format allows them).
            let closed = path != "/v1/taxonomy";
            assert_eq!(schema["additionalProperties"] == false, closed, "{at}: additionalProperties");
        }
    }
}

fn strings(values: impl IntoIterator<Item = impl ToString>) -> Vec<String> {
    values.into_iter().map(|v| v.to_string()).collect()
}

#[test]
fn vocabularies_are_spelled_as_the_code_spells_them() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    let enum_of = |pointer: &str| -> Vec<String> {
        let values =
            schemas.pointer(pointer).and_then(Value::as_array).unwrap_or_else(|| panic!("no enum at {pointer}"));
        values.iter().map(|v| v.as_str().unwrap().to_string()).collect()
    };
    let serde_names =
        |values: &[Value]| -> Vec<String> { values.iter().map(|v| v.as_str().unwrap().to_string()).collect() };
    assert_eq!(enum_of("/Platform/enum"), strings(Platform::ALL));
    assert_eq!(enum_of("/Category/enum"), strings(Category::ALL));
    assert_eq!(enum_of("/Sentiment/enum"), strings(Sentiment::ALL));
    assert_eq!(enum_of("/Language/enum"), strings(Language::ALL));
    assert_eq!(enum_of("/Influence/enum"), strings(Influence::ALL));
    assert_eq!(enum_of("/AccountKind/enum"), strings(AccountKind::ALL));
    let tiers = Influence::ALL.iter().filter(|i| **i != Influence::TidakDiketahui);
    assert_eq!(enum_of("/KnownTier/enum"), strings(tiers), "a known account has a tier");
    assert_eq!(enum_of("/Priority/enum"), strings(Priority::ALL));
    assert_eq!(enum_of("/Action/enum"), strings(Action::ALL));
    assert_eq!(enum_of("/Account/enum"), strings(Account::ALL));
    assert_eq!(enum_of("/CaseStatus/enum"), strings(CaseStatus::ALL));
    assert_eq!(enum_of("/SlaClock/enum"), strings(SlaClock::ALL));
    assert_eq!(enum_of("/AlertKind/enum"), strings(pantau::domain::AlertKind::ALL));
    assert_eq!(enum_of("/DayOff/properties/kind/enum"), pantau::sla::DAY_OFF_KINDS);
    use pantau::classify::TopicKind;
    let kinds = serde_json::to_value([TopicKind::Kebijakan, TopicKind::Program, TopicKind::Kegiatan]).unwrap();
    assert_eq!(enum_of("/TopicKind/enum"), serde_names(kinds.as_array().unwrap()));
    assert_eq!(enum_of("/PublishPlatform/enum"), strings(PUBLISH_PLATFORMS));
    assert_eq!(enum_of("/PostStatus/enum"), strings(PostStatus::ALL));
    assert_eq!(enum_of("/ReportPeriod/enum"), strings(pantau::domain::ReportPeriod::ALL));
    assert_eq!(enum_of("/SeriesStatus/enum"), strings(SeriesStatus::ALL));
    assert_eq!(enum_of("/OccurrenceState/enum"), strings(OccurrenceState::ALL));
    let sources = serde_json::to_value([ReplySource::Dicatat, ReplySource::Platform, ReplySource::Dikirim]).unwrap();
    assert_eq!(enum_of("/CaseReply/properties/source/enum"), serde_names(sources.as_array().unwrap()));
    // A transition may name any status; the server refuses `ditutup_otomatis` with 409.
    assert_eq!(schemas["TransitionInput"]["properties"]["to"]["$ref"], "#/components/schemas/CaseStatus");
}

#[test]
fn the_document_is_openapi_3_1_and_pretty_printed() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(OPENAPI.starts_with("{\n  \"openapi\": \"3.1.0\",\n  \"info\": {\n    \""), "pretty-printed, 2 spaces");
    assert!(OPENAPI.ends_with("}\n"));
}
