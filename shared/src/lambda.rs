//! Glue between Lambda event types and the handlers' HTTP types. Only entry points use it.

use bytes::Bytes;
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};

use crate::auth::Credential;
use crate::http::{Request, Response};

/// Turns an API Gateway request into a handler request and the credential the JWT authorizer
/// verified (claims), or else a bearer key from the `Authorization` header.
pub fn request(request: lambda_http::Request) -> (Credential, Request) {
    let claims = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.authorizer.as_ref().and_then(|a| a.jwt.as_ref()).map(|jwt| {
            serde_json::Value::Object(
                jwt.claims.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect(),
            )
        }),
        _ => None,
    };
    let bearer = Credential::from_authorization(request.headers().get("authorization").and_then(|v| v.to_str().ok()));
    let (parts, body) = request.into_parts();
    let bytes = match body {
        Body::Empty => Bytes::new(),
        Body::Text(text) => Bytes::from(text),
        Body::Binary(bin) => Bytes::from(bin),
        _ => Bytes::new(),
    };
    let credential = match claims {
        Some(claims) => Credential::JwtClaims(claims),
        // API Gateway's authorizer refuses non-JWT tokens before the function runs; a bearer
        // key only reaches here through `pantau invoke`.
        None => bearer,
    };
    (credential, http::Request::from_parts(parts, bytes))
}

/// Turns a handler response into a Lambda HTTP response (text stays text, bytes become base64).
pub fn response(response: Response) -> lambda_http::Response<Body> {
    let (parts, body) = response.into_parts();
    let body = match String::from_utf8(body.to_vec()) {
        Ok(text) if text.is_empty() => Body::Empty,
        Ok(text) => Body::Text(text),
        Err(e) => Body::Binary(e.into_bytes()),
    };
    lambda_http::Response::from_parts(parts, body)
}

/// Parses an API Gateway HTTP API (v2) event as Lambda receives it (`pantau invoke`).
pub fn request_from_apigw_json(json: &str) -> Result<lambda_http::Request, serde_json::Error> {
    let event: aws_lambda_events::apigw::ApiGatewayV2httpRequest = serde_json::from_str(json)?;
    Ok(lambda_http::request::LambdaRequest::ApiGatewayV2(event).into())
}

/// The API Gateway v2 response JSON for a handler response (what `pantau invoke` prints).
pub fn response_to_apigw_json(response: &Response) -> serde_json::Value {
    let headers: serde_json::Map<String, serde_json::Value> = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned())))
        .collect();
    serde_json::json!({
        "statusCode": response.status().as_u16(),
        "headers": headers,
        "body": String::from_utf8_lossy(response.body()),
        "isBase64Encoded": false,
    })
}

/// What a handler's result becomes for Lambda: a retryable failure is an error (Lambda retries
/// it, then the DLQ keeps the event); an event no retry can help is logged, counted and
/// acknowledged, so it is never retried forever.
pub fn outcome<T: serde::Serialize>(
    result: Result<T, crate::handlers::FunctionError>,
) -> Result<serde_json::Value, lambda_runtime::Error> {
    match result {
        Ok(value) => Ok(serde_json::to_value(value)?),
        Err(e) if e.is_retryable() => Err(Box::new(e)),
        Err(e) => {
            tracing::error!(error = %e, "event rejected; acknowledged without retry");
            crate::telemetry::emit_metric("RejectedEvents", 1.0, &[], chrono::Utc::now());
            Ok(serde_json::json!({ "rejected": e.to_string() }))
        }
    }
}

/// Runs an HTTP handler as the Lambda behind API Gateway.
pub async fn run_http<F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Credential, Request) -> Fut,
    Fut: std::future::Future<Output = Response> + Send,
{
    lambda_http::run(lambda_http::service_fn(|event| {
        let (credential, request) = request(event);
        let handled = handler(credential, request);
        async move { Ok::<_, lambda_http::Error>(response(handled.await)) }
    }))
    .await
}

/// Runs a bus- or schedule-triggered handler as a Lambda; its errors make Lambda retry.
pub async fn run_events<F, Fut, T>(handler: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(crate::handlers::Trigger) -> Fut,
    Fut: std::future::Future<Output = Result<T, crate::handlers::FunctionError>>,
    T: serde::Serialize,
{
    lambda_runtime::run(lambda_runtime::service_fn(
        |event: lambda_runtime::LambdaEvent<aws_lambda_events::eventbridge::EventBridgeEvent>| {
            let started = crate::handlers::Trigger::from_event(&event.payload).map(&handler);
            async move {
                match started {
                    Ok(handled) => outcome(handled.await),
                    Err(e) => outcome::<()>(Err(e)),
                }
            }
        },
    ))
    .await
}

/// A queue's messages as Lambda's SQS event source delivers them (what Pantau reads of it).
#[derive(Debug, serde::Deserialize)]
pub struct QueueEvent {
    #[serde(rename = "Records")]
    pub records: Vec<QueueMessage>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueMessage {
    pub message_id: String,
    #[serde(default)]
    pub body: String,
}

/// The triggers of a queue delivery: each message's body is the EventBridge event a bus rule
/// put on the queue. Returns the ids of the messages read, in order with their triggers; a
/// message that is no event is logged, counted and acknowledged (no retry can help).
pub fn read_queue(event: QueueEvent) -> (Vec<String>, Vec<crate::handlers::Trigger>) {
    use crate::handlers::{FunctionError, Trigger};
    let (mut ids, mut triggers) = (Vec::new(), Vec::new());
    for message in event.records {
        let trigger = serde_json::from_str::<aws_lambda_events::eventbridge::EventBridgeEvent>(&message.body)
            .map_err(|e| {
                FunctionError::Rejected(format!("message {} is no EventBridge event: {e}", message.message_id))
            })
            .and_then(|event| Trigger::from_event(&event));
        match trigger {
            Ok(trigger) => {
                ids.push(message.message_id);
                triggers.push(trigger);
            }
            Err(e) => {
                // Logged and counted as rejected; the message is acknowledged.
                let _ = outcome::<()>(Err(e));
            }
        }
    }
    (ids, triggers)
}

/// What Lambda's SQS event source is answered (`ReportBatchItemFailures`): the messages whose
/// handling failed and may succeed later are delivered again (after the queue's visibility
/// timeout; past its `maxReceiveCount` the redrive policy moves them to the DLQ); the rest,
/// rejected ones included (logged and counted), are deleted from the queue.
pub fn answer_queue<T>(ids: Vec<String>, results: Vec<Result<T, crate::handlers::FunctionError>>) -> serde_json::Value {
    let mut results = results.into_iter();
    let mut again = Vec::new();
    for id in ids {
        let retry = match results.next() {
            Some(Ok(_)) => false,
            // Rejected failures are logged, counted and acknowledged there; retryable ones return.
            Some(Err(e)) => match outcome::<()>(Err(e)) {
                Ok(_) => false,
                Err(e) => {
                    tracing::warn!(message = %id, error = %e, "will be delivered again");
                    true
                }
            },
            None => true,
        };
        if retry {
            again.push(serde_json::json!({ "itemIdentifier": id }));
        }
    }
    serde_json::json!({ "batchItemFailures": again })
}

/// Runs a queue-fed handler as a Lambda: each delivery's events handled in one call.
pub async fn run_queue<F, Fut, T>(handler: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(Vec<crate::handlers::Trigger>) -> Fut,
    Fut: std::future::Future<Output = Vec<Result<T, crate::handlers::FunctionError>>>,
{
    lambda_runtime::run(lambda_runtime::service_fn(|event: lambda_runtime::LambdaEvent<QueueEvent>| {
        let (ids, triggers) = read_queue(event.payload);
        let handled = handler(triggers);
        async move { Ok::<_, lambda_runtime::Error>(answer_queue(ids, handled.await)) }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn event(body: &str, base64: bool, claims: Option<serde_json::Value>) -> String {
        let mut context = serde_json::json!({
            "accountId": "123456789012", "apiId": "abc", "domainName": "api.example", "domainPrefix": "api",
            "http": {"method": "POST", "path": "/webhooks/meta", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "t"},
            "requestId": "r1", "routeKey": "POST /webhooks/meta", "stage": "$default", "time": "16/Nov/2026:03:00:00 +0000",
            "timeEpoch": 1_794_798_000_000_i64
        });
        if let Some(claims) = claims {
            context["authorizer"] = serde_json::json!({"jwt": {"claims": claims, "scopes": null}});
        }
        serde_json::json!({
            "version": "2.0", "routeKey": "POST /webhooks/meta", "rawPath": "/webhooks/meta", "rawQueryString": "",
            "headers": {"x-hub-signature-256": "sha256=00", "content-type": "application/json"},
            "requestContext": context, "body": body, "isBase64Encoded": base64
        })
        .to_string()
    }

    #[test]
    fn base64_bodies_reach_the_handler_as_the_exact_bytes_sent() {
        let raw = "{\"object\":\"page\",\"entry\":[]}\n";
        let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
        for (body, is_base64) in [(encoded.as_str(), true), (raw, false)] {
            let (credential, request) = request(request_from_apigw_json(&event(body, is_base64, None)).unwrap());
            assert_eq!(request.body().as_ref(), raw.as_bytes());
            assert_eq!(request.uri().path(), "/webhooks/meta");
            assert_eq!(request.headers()["x-hub-signature-256"], "sha256=00");
            assert!(matches!(credential, Credential::None));
        }
    }

    #[test]
    fn authorizer_claims_become_the_credential() {
        let claims = serde_json::json!({"sub": "app-7", "pantau_role": "ingest"});
        let (credential, _) = request(request_from_apigw_json(&event("{}", false, Some(claims))).unwrap());
        match credential {
            Credential::JwtClaims(c) => {
                assert_eq!((c["sub"].as_str(), c["pantau_role"].as_str()), (Some("app-7"), Some("ingest")))
            }
            _ => panic!("expected JWT claims"),
        }
    }

    #[test]
    fn a_queue_delivery_returns_only_what_may_succeed_later() {
        use crate::handlers::{FunctionError, Trigger};
        let envelope = |detail_type: &str, detail: serde_json::Value| {
            serde_json::json!({
                "version": "0", "id": "7b3f1c2e-0000-4000-8000-000000000001", "detail-type": detail_type,
                "source": "pantau.ingest-webhook", "account": "123456789012", "time": "2026-11-16T03:00:00Z",
                "region": "ap-southeast-3", "resources": [], "detail": detail
            })
            .to_string()
        };
        let received = |key: &str| envelope("MentionReceived", serde_json::json!({"key": key, "event_id": "e"}));
        let event: QueueEvent = serde_json::from_value(serde_json::json!({"Records": [
            {"messageId": "m1", "receiptHandle": "r1", "body": received("x:1"), "eventSource": "aws:sqs"},
            {"messageId": "m2", "receiptHandle": "r2", "body": "not json", "eventSource": "aws:sqs"},
            {"messageId": "m3", "receiptHandle": "r3", "body": envelope("MentionReceived", serde_json::json!({"key": 5})), "eventSource": "aws:sqs"},
            {"messageId": "m4", "receiptHandle": "r4", "body": received("x:4"), "eventSource": "aws:sqs"},
            {"messageId": "m5", "receiptHandle": "r5", "body": received("x:5"), "eventSource": "aws:sqs"}
        ]}))
        .unwrap();
        let (ids, triggers) = read_queue(event);
        // Messages that are no event (m2) or carry a bad detail (m3) are acknowledged, not retried.
        assert_eq!(ids, ["m1", "m4", "m5"]);
        assert!(triggers.iter().all(|t| matches!(t, Trigger::Event(crate::domain::EventKind::MentionReceived { .. }))));
        let results: Vec<Result<&str, FunctionError>> = vec![
            Ok("classified"),
            Err(FunctionError::Retryable("throttled".into())),
            Err(FunctionError::Rejected("not mine".into())),
        ];
        assert_eq!(
            answer_queue(ids.clone(), results),
            serde_json::json!({"batchItemFailures": [{"itemIdentifier": "m4"}]})
        );
        // A result missing for a message: it is delivered again rather than lost.
        let short: Vec<Result<&str, FunctionError>> = vec![Ok("classified")];
        assert_eq!(
            answer_queue(ids, short),
            serde_json::json!({"batchItemFailures": [{"itemIdentifier": "m4"}, {"itemIdentifier": "m5"}]})
        );
    }
}
