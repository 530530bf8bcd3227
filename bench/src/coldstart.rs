//! Prepares the local AWS emulator (moto) for the cold-start benchmark (bench/coldstart.sh):
//! tables made from the template's definitions, the bus, the reports bucket and the secret;
//! then writes, for each function, its environment as the template sets it (`<fn>.env`), its
//! memory and timeout (`<fn>.config`) and the first events it gets (`<fn>-<run>.json`): the
//! template's scheduled input, a `MentionReceived` for a mention already stored, an API Gateway
//! HTTP API (v2) request.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::Utc;
use clap::Parser;
use pantau::adapters::dynamodb::TableNames;
use pantau::app::ingest::Ingest;
use pantau::aws::AwsRuntime;
use pantau::config::{AwsSettings, Secrets};
use pantau::domain::Event;
use pantau::schedule::SCHEDULES;
use serde_json::{Value as Json, json};
use serde_yaml::Value;

#[derive(Parser)]
struct Args {
    /// moto's URL.
    #[arg(long)]
    endpoint: String,
    /// Folder for the environment and event files.
    #[arg(long)]
    out: PathBuf,
    /// Cold starts per function (each gets its own first event).
    #[arg(long, default_value_t = 5)]
    runs: usize,
}

/// The region of record (what `pantau_tests::sdk_config` configures).
const REGION: &str = "ap-southeast-3";
const ACCOUNT: &str = "123456789012";
/// The delivery each webhook run and each seeded mention starts from.
const TELEGRAM_MESSAGE: &str = include_str!("../../tests/fixtures/telegram/message.json");

/// Values for the template's `!Ref`s: created resources, then parameter defaults.
struct Refs {
    resources: HashMap<String, String>,
    template: Value,
}

impl Refs {
    fn reference(&self, name: &str) -> Option<String> {
        if let Some(value) = self.resources.get(name) {
            return Some(value.clone());
        }
        match name {
            "AWS::Region" => Some(REGION.to_string()),
            "AWS::AccountId" => Some(ACCOUNT.to_string()),
            _ => scalar(&self.template["Parameters"][name]["Default"]),
        }
    }

    /// A template value as a string: literals, `!Ref`, `!Sub` over refs, `!If` over conditions.
    /// `None` for anything else (the variable is then left out, as it could not be known).
    fn resolve(&self, value: &Value) -> Option<String> {
        let Value::Tagged(tagged) = value else { return scalar(value) };
        let args = &tagged.value;
        if tagged.tag == "Ref" {
            self.reference(args.as_str()?)
        } else if tagged.tag == "Sub" {
            let (mut rest, mut text) = (args.as_str()?, String::new());
            while let Some(start) = rest.find("${") {
                let end = start + rest[start..].find('}')?;
                text.push_str(&rest[..start]);
                text.push_str(&self.reference(&rest[start + 2..end])?);
                rest = &rest[end + 1..];
            }
            text.push_str(rest);
            Some(text)
        } else if tagged.tag == "If" {
            let branch =
                if self.condition(&Value::String(args[0].as_str()?.to_string()))? { &args[1] } else { &args[2] };
            self.resolve(branch)
        } else {
            None
        }
    }

    /// A condition: by name (from `Conditions`), or `!Equals` / `!Not` / `!And` / `!Or`.
    fn condition(&self, value: &Value) -> Option<bool> {
        match value {
            Value::String(name) => self.condition(&self.template["Conditions"][name.as_str()]),
            Value::Tagged(t) if t.tag == "Condition" => self.condition(&t.value),
            Value::Tagged(t) if t.tag == "Equals" => Some(self.resolve(&t.value[0])? == self.resolve(&t.value[1])?),
            Value::Tagged(t) if t.tag == "Not" => self.condition(&t.value[0]).map(|b| !b),
            Value::Tagged(t) if t.tag == "And" => {
                t.value.as_sequence()?.iter().try_fold(true, |all, c| Some(all && self.condition(c)?))
            }
            Value::Tagged(t) if t.tag == "Or" => {
                t.value.as_sequence()?.iter().try_fold(false, |any, c| Some(any || self.condition(c)?))
            }
            _ => None,
        }
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A function's environment on Lambda: the template's globals and its own variables, the
/// variables Lambda itself sets from the function's configuration, and the SDK's endpoint
/// and credentials for the emulator.
fn environment(refs: &Refs, function: &Value, endpoint: &str) -> anyhow::Result<Vec<(String, String)>> {
    let globals = &refs.template["Globals"]["Function"];
    let properties = &function["Properties"];
    let mut env = Vec::new();
    for variables in [&globals["Environment"]["Variables"], &properties["Environment"]["Variables"]] {
        for (name, value) in variables.as_mapping().into_iter().flatten() {
            let name = name.as_str().context("variable name")?;
            match refs.resolve(value) {
                // A file of the function's layers (`/opt/…`): the layer's folder in the repository.
                Some(value) => match pantau_tests::layer_file(&refs.template, function, &value) {
                    Some(file) => env.push((name.to_string(), file.display().to_string())),
                    None => env.push((name.to_string(), value)),
                },
                None => eprintln!("coldstart: {name} left out (cannot resolve {value:?})"),
            }
        }
    }
    let name = refs.resolve(&properties["FunctionName"]).context("FunctionName")?;
    let memory = scalar(&properties["MemorySize"]).context("MemorySize")?;
    let log_group = format!("/aws/lambda/{name}");
    for (key, value) in [
        ("AWS_LAMBDA_FUNCTION_NAME", name.as_str()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory.as_str()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", log_group.as_str()),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/12/03/[$LATEST]coldstart"),
        ("_HANDLER", "bootstrap"),
        ("TZ", ":UTC"),
        ("LANG", "en_US.UTF-8"),
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ("AWS_REGION", REGION),
        ("AWS_DEFAULT_REGION", REGION),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_SESSION_TOKEN", "test"),
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        // No platform is configured; should anything call one, it stays on this machine.
        ("PANTAU_GRAPH_API_BASE", "http://127.0.0.1:9"),
        ("PANTAU_X_API_BASE", "http://127.0.0.1:9"),
        ("PANTAU_YOUTUBE_API_BASE", "http://127.0.0.1:9"),
        ("PANTAU_TELEGRAM_API_BASE", "http://127.0.0.1:9"),
    ] {
        env.push((key.to_string(), value.to_string()));
    }
    Ok(env)
}

/// The template's functions: crate name (`BuildProperties.Binary`) and resource.
fn functions(template: &Value) -> anyhow::Result<Vec<(String, Value)>> {
    let resources = template["Resources"].as_mapping().context("Resources")?;
    let functions = resources.values().filter(|r| r["Type"].as_str() == Some("AWS::Serverless::Function"));
    functions
        .map(|r| {
            let binary = r["Metadata"]["BuildProperties"]["Binary"].as_str().context("a function without Binary")?;
            Ok((binary.to_string(), r.clone()))
        })
        .collect()
}

/// The scheduled input the template gives a function's first schedule (in `SCHEDULES` order).
fn scheduled_input(binary: &str, function: &Value) -> anyhow::Result<Option<Json>> {
    let Some(schedule) = SCHEDULES.iter().find(|s| s.function == binary) else { return Ok(None) };
    let events = function["Properties"]["Events"].as_mapping().into_iter().flatten().map(|(_, e)| e);
    for event in events.filter(|e| e["Type"].as_str() == Some("ScheduleV2")) {
        let input: Json = serde_json::from_str(event["Properties"]["Input"].as_str().context("schedule Input")?)?;
        if input["detail"]["schedule"].as_str() == Some(schedule.name.as_str()) {
            return Ok(Some(input));
        }
    }
    bail!("{binary}: the template has no schedule {}", schedule.name.as_str())
}

/// An event as the bus delivers it to a rule's target.
fn delivered(event: &Event) -> Json {
    json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": event.kind.detail_type(),
        "source": event.source,
        "account": ACCOUNT,
        "time": event.created_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "region": REGION,
        "resources": [],
        "detail": event.published_detail(),
    })
}

/// The Telegram delivery of run `run`: the fixture with its own message id, sent now.
fn telegram_delivery(run: usize, offset: i64) -> anyhow::Result<String> {
    let mut update: Json = serde_json::from_str(TELEGRAM_MESSAGE)?;
    update["update_id"] = json!(900_000 + offset + run as i64);
    update["message"]["message_id"] = json!(offset + run as i64);
    update["message"]["date"] = json!(Utc::now().timestamp());
    Ok(update.to_string())
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.out)?;
    let sdk = pantau_tests::sdk_config(&args.endpoint).await;
    let tables: TableNames = pantau_tests::create_tables(&aws_sdk_dynamodb::Client::new(&sdk)).await;

    let bus = pantau_tests::fresh("pantau");
    aws_sdk_eventbridge::Client::new(&sdk).create_event_bus().name(&bus).send().await.context("creating the bus")?;
    let bucket = pantau_tests::fresh("reports");
    aws_sdk_s3::Client::new(&sdk)
        .create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(REGION))
                .build(),
        )
        .send()
        .await
        .context("creating the bucket")?;

    let template = pantau_tests::template();
    // The secret as the template creates it (placeholders and the generated cursor key), with
    // the Telegram webhook's token filled in; no platform account (nothing may call out).
    let generate = &template["Resources"]["PantauSecrets"]["Properties"]["GenerateSecretString"];
    let mut secret_value: Json =
        serde_json::from_str(generate["SecretStringTemplate"].as_str().context("the secret's template")?)?;
    let generated = generate["GenerateStringKey"].as_str().context("the secret's generated key")?;
    secret_value[generated] = json!(hex::encode(rand::random::<[u8; 32]>()));
    let telegram_token = hex::encode(rand::random::<[u8; 16]>());
    secret_value["PANTAU_TELEGRAM_SECRET_TOKEN"] = json!(telegram_token);
    let secret = aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(pantau_tests::fresh("pantau-secrets"))
        .secret_string(secret_value.to_string())
        .send()
        .await
        .context("creating the secret")?;
    let secret_arn = secret.arn().context("the secret's ARN")?.to_string();

    let resources: HashMap<String, String> = [
        ("MentionsTable", &tables.mentions),
        ("CasesTable", &tables.cases),
        ("PostsTable", &tables.posts),
        ("ReportsTable", &tables.reports),
        ("ConfigTable", &tables.config),
        ("OutboxTable", &tables.outbox),
        ("CountersTable", &tables.counters),
        ("PantauBus", &bus),
        ("ReportsBucket", &bucket),
        ("PantauSecrets", &secret_arn),
    ]
    .into_iter()
    .map(|(id, name)| (id.to_string(), name.clone()))
    .collect();
    let refs = Refs { resources, template: template.clone() };

    // Mentions for classify to classify, stored through the webhooks' own path.
    let settings = AwsSettings {
        tables: tables.clone(),
        bus_name: bus.clone(),
        reports_bucket: Some(bucket.clone()),
        retention_days: 365,
        secret_id: Some(secret_arn.clone()),
    };
    let rt = AwsRuntime::new(settings, sdk.clone(), Secrets::default())?;
    let (mentions, lookups) = (rt.mentions(), rt.lookups());
    let mut received = Vec::new();
    for run in 1..=args.runs {
        let body = telegram_delivery(run, 50_000)?;
        let parsed = pantau::platforms::telegram::parse(body.as_bytes())?;
        let ingest = Ingest {
            mentions: mentions.as_ref(),
            lookups: lookups.as_ref(),
            source: "ingest-webhook",
            now: Utc::now(),
        };
        let outcome = ingest.apply(parsed.items).await;
        if let Some(e) = outcome.error {
            bail!("storing a mention: {e}");
        }
        received.extend(outcome.events);
    }
    if received.len() != args.runs {
        bail!("stored {} mentions for {} runs", received.len(), args.runs);
    }

    for (binary, function) in functions(&template)? {
        let env = environment(&refs, &function, &args.endpoint)?;
        let lines: String = env.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        write(&args.out.join(format!("{binary}.env")), &lines)?;
        let properties = &function["Properties"];
        let config = json!({
            "memory_mb": scalar(&properties["MemorySize"]).context("MemorySize")?.parse::<u32>()?,
            "timeout_ms": scalar(&properties["Timeout"]).context("Timeout")?.parse::<u64>()? * 1000,
        });
        write(&args.out.join(format!("{binary}.config")), &config.to_string())?;
        let role_claim = env.iter().find(|(k, _)| k == "PANTAU_ROLE_CLAIM").map(|(_, v)| v.clone());
        for run in 1..=args.runs {
            let event = match binary.as_str() {
                // classify reads its queue: the event inside an SQS delivery of one message.
                "classify" => pantau_tests::sqs_event(&[delivered(&received[run - 1])]),
                "ingest-webhook" => pantau_tests::http_api_event(
                    "POST",
                    "/webhooks/telegram",
                    "",
                    json!({"content-type": "application/json", "x-telegram-bot-api-secret-token": telegram_token}),
                    Some(telegram_delivery(run, 60_000)?),
                    None,
                ),
                "api" => {
                    let claim = role_claim.clone().context("api: PANTAU_ROLE_CLAIM")?;
                    pantau_tests::http_api_event(
                        "GET",
                        "/v1/mentions",
                        "limit=20",
                        json!({"accept": "application/json", "authorization": "Bearer eyJ.coldstart"}),
                        None,
                        Some(json!({"sub": "coldstart-officer", claim: "[viewer]"})),
                    )
                }
                _ => scheduled_input(&binary, &function)?.with_context(|| format!("{binary}: no first event"))?,
            };
            write(&args.out.join(format!("{binary}-{run}.json")), &event.to_string())?;
        }
    }
    eprintln!("coldstart: tables, bus {bus}, bucket {bucket} and secret ready; files in {}", args.out.display());
    Ok(())
}
