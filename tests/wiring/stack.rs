//! The stack of `infra/template.yaml` made in moto from the template's own definitions: the
//! tables (keys, indexes, TTL), the bus, every bus rule with its `EventPattern` and an SQS queue
//! standing for the function it invokes (or the template's own queue it fills), a queue for everything on the bus (the archive's
//! stand-in), the reports bucket, the secret, and each function's environment and schedules.

use std::collections::HashMap;

use pantau::adapters::dynamodb::TableNames;
use pantau_tests::{
    bus_queue, bus_rules, create_bucket, create_tables, fresh, fresh_queue, functions, logical_id, named_events_of,
    table_ids, template,
};
use serde_yaml::Value as Yaml;

/// A bus rule of the template and the queue standing for its target.
pub struct Rule {
    /// The crate of the function the rule invokes.
    pub function: String,
    /// The rule's event name in the template (`MentionReceived`…).
    pub name: String,
    pub pattern: serde_json::Value,
    pub queue: String,
    /// The function reads the rule's queue in batches (an event source mapping), rather than
    /// being invoked with each event.
    pub through_queue: bool,
    /// Where the queue's redrive policy moves messages received too often (the template's
    /// dead-letter queue, staged), with the policy's `maxReceiveCount`.
    pub dead_letters: Option<(String, u32)>,
}

/// A schedule of the template: what EventBridge Scheduler sends the function.
pub struct Schedule {
    pub function: String,
    pub name: String,
    pub expression: String,
    /// The `Input` exactly as the template writes it.
    pub input: String,
}

pub struct Stack {
    pub tables: TableNames,
    pub rules: Vec<Rule>,
    pub schedules: Vec<Schedule>,
    /// Receives every event on the bus, as the bus archive keeps them.
    pub archive: String,
    /// Logical id → physical name (what `!Ref` gives).
    resources: HashMap<String, String>,
    template: Yaml,
    sqs: aws_sdk_sqs::Client,
}

impl Stack {
    /// Makes the stack in moto; `secrets` are put into the template's secret as the guide does
    /// after deploying.
    pub async fn create(sdk: &aws_config::SdkConfig, secrets: &[(&str, &str)]) -> Stack {
        let template = template();
        let resource = |id: &str| {
            let r = &template["Resources"][id];
            assert!(!r.is_null(), "the template has no {id}");
            r.clone()
        };
        let tables = create_tables(&aws_sdk_dynamodb::Client::new(sdk)).await;
        let mut resources: HashMap<String, String> =
            table_ids(&tables).into_iter().map(|(id, name)| (id.to_string(), name)).collect();

        assert_eq!(resource("PantauBus")["Type"].as_str(), Some("AWS::Events::EventBus"));
        let bus = fresh("pantau");
        aws_sdk_eventbridge::Client::new(sdk).create_event_bus().name(&bus).send().await.unwrap();
        resources.insert("PantauBus".into(), bus.clone());

        let (s3, bucket) = create_bucket(sdk).await;
        let versioning = resource("ReportsBucket")["Properties"]["VersioningConfiguration"]["Status"].clone();
        if versioning.as_str() == Some("Enabled") {
            s3.put_bucket_versioning()
                .bucket(&bucket)
                .versioning_configuration(
                    aws_sdk_s3::types::VersioningConfiguration::builder()
                        .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                        .build(),
                )
                .send()
                .await
                .unwrap();
        }
        resources.insert("ReportsBucket".into(), bucket);

        // The secret as the template generates it, then filled in.
        let generate = &resource("PantauSecrets")["Properties"]["GenerateSecretString"];
        let mut value: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(generate["SecretStringTemplate"].as_str().unwrap()).unwrap();
        let generated = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        value.insert(generate["GenerateStringKey"].as_str().unwrap().to_string(), generated.into());
        for (key, secret) in secrets {
            assert!(value.contains_key(*key), "{key} is not among the template's secret keys");
            value.insert(key.to_string(), (*secret).into());
        }
        let arn = aws_sdk_secretsmanager::Client::new(sdk)
            .create_secret()
            .name(fresh("pantau-secrets"))
            .secret_string(serde_json::Value::Object(value).to_string())
            .send()
            .await
            .unwrap()
            .arn
            .unwrap();
        resources.insert("PantauSecrets".into(), arn);

        let mut rules = Vec::new();
        let mut schedules = Vec::new();
        for rule in bus_rules() {
            let (function, name) = (rule.function, rule.name);
            assert!(
                matches!(&rule.bus, Yaml::Tagged(t) if t.tag == "Ref" && t.value.as_str() == Some("PantauBus")),
                "{function}'s rule {name} listens on {:?}, not the bus PantauBus",
                rule.bus
            );
            let pattern = serde_json::to_value(&rule.pattern).unwrap();
            let queue = bus_queue(sdk, &bus, &pattern).await;
            let mut dead_letters = None;
            if let Some(id) = &rule.through_queue {
                // The queue's redrive policy as the template writes it, onto a staged DLQ.
                let policy = &resource(id)["Properties"]["RedrivePolicy"];
                let dlq = logical_id(&policy["deadLetterTargetArn"]).expect("the queue names its DLQ");
                assert_eq!(resource(&dlq)["Type"].as_str(), Some("AWS::SQS::Queue"));
                let max_receives = policy["maxReceiveCount"].as_u64().expect("maxReceiveCount") as u32;
                dead_letters = Some((redrive_to_new_queue(sdk, &queue, max_receives).await, max_receives));
            }
            rules.push(Rule {
                function,
                name,
                pattern,
                queue,
                through_queue: rule.through_queue.is_some(),
                dead_letters,
            });
        }
        for (_, function, f) in functions() {
            for (name, schedule) in named_events_of(&f, "ScheduleV2") {
                schedules.push(Schedule {
                    function: function.clone(),
                    name,
                    expression: schedule["ScheduleExpression"].as_str().unwrap().to_string(),
                    input: schedule["Input"].as_str().unwrap().to_string(),
                });
            }
        }
        // The archive keeps every event of the bus (no EventPattern in the template).
        let archive = resource("PantauBusArchive");
        assert!(archive["Properties"]["EventPattern"].is_null(), "the archive's pattern changed: stage it here");
        let archive = bus_queue(sdk, &bus, &serde_json::json!({"source": [{"prefix": ""}]})).await;
        Stack { tables, rules, schedules, archive, resources, template, sqs: aws_sdk_sqs::Client::new(sdk) }
    }

    /// The staged bus's name.
    pub fn bus(&self) -> String {
        self.reference("PantauBus")
    }

    /// A function's environment as the template sets it (globals, then its own).
    pub fn env(&self, function: &str) -> HashMap<String, String> {
        let (_, _, f) = functions()
            .into_iter()
            .find(|(_, binary, _)| binary == function)
            .unwrap_or_else(|| panic!("the template has no function {function}"));
        let globals = &self.template["Globals"]["Function"]["Environment"]["Variables"];
        let own = &f["Properties"]["Environment"]["Variables"];
        let mut env = HashMap::new();
        for variables in [globals, own] {
            for (name, value) in variables.as_mapping().into_iter().flatten() {
                env.insert(name.as_str().unwrap().to_string(), self.resolve(value));
            }
        }
        env
    }

    /// The value of an environment entry: a literal, `!Ref` or `!If`.
    fn resolve(&self, value: &Yaml) -> String {
        match value {
            Yaml::String(s) => s.clone(),
            Yaml::Number(n) => n.to_string(),
            Yaml::Bool(b) => b.to_string(),
            Yaml::Tagged(t) if t.tag == "Ref" => self.reference(t.value.as_str().unwrap()),
            Yaml::Tagged(t) if t.tag == "If" => {
                let branches = t.value.as_sequence().unwrap();
                let chosen = if self.condition(branches[0].as_str().unwrap()) { &branches[1] } else { &branches[2] };
                self.resolve(chosen)
            }
            other => panic!("the staged stack cannot resolve {other:?}: teach tests/wiring/stack.rs"),
        }
    }

    fn reference(&self, name: &str) -> String {
        if let Some(physical) = self.resources.get(name) {
            return physical.clone();
        }
        let parameter = &self.template["Parameters"][name];
        assert!(!parameter.is_null(), "!Ref {name}: the staged stack does not make it");
        self.resolve(&parameter["Default"])
    }

    fn condition(&self, name: &str) -> bool {
        let condition = self.template["Conditions"][name].clone();
        assert!(!condition.is_null(), "no condition {name}");
        self.holds(&condition)
    }

    fn holds(&self, expression: &Yaml) -> bool {
        let Yaml::Tagged(t) = expression else { panic!("not a condition: {expression:?}") };
        let args = t.value.as_sequence();
        if t.tag == "Equals" {
            let args = args.unwrap();
            self.resolve(&args[0]) == self.resolve(&args[1])
        } else if t.tag == "Not" {
            !self.holds(&args.unwrap()[0])
        } else if t.tag == "Condition" {
            self.condition(t.value.as_str().unwrap())
        } else {
            panic!("the staged stack cannot evaluate {expression:?}")
        }
    }

    /// Receives what waits on a queue without removing it (as a consumer that keeps failing
    /// does), the messages visible again at once.
    pub async fn receive_and_fail(&self, queue: &str) -> usize {
        let out = self
            .sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .send()
            .await
            .unwrap();
        out.messages.unwrap_or_default().len()
    }

    /// What `aws sqs start-message-move-task --source-arn <DLQ>` does (moto does not offer it):
    /// every message of the dead-letter queue sent back, body unchanged, to the queue it came
    /// from, then removed from the DLQ. Returns how many moved.
    pub async fn redrive(&self, dlq: &str, to: &str) -> usize {
        let mut moved = 0;
        for body in self.receive(dlq).await {
            self.sqs.send_message().queue_url(to).message_body(body.to_string()).send().await.unwrap();
            moved += 1;
        }
        moved
    }

    /// Everything waiting on a queue (each message removed).
    pub async fn receive(&self, queue: &str) -> Vec<serde_json::Value> {
        let mut all = Vec::new();
        loop {
            let out = self.sqs.receive_message().queue_url(queue).max_number_of_messages(10).send().await.unwrap();
            let messages = out.messages.unwrap_or_default();
            if messages.is_empty() {
                return all;
            }
            for message in messages {
                all.push(serde_json::from_str(message.body().unwrap()).unwrap());
                self.sqs
                    .delete_message()
                    .queue_url(queue)
                    .receipt_handle(message.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
}

/// A fresh queue that `queue`'s redrive policy moves messages to after `max_receives` receives.
async fn redrive_to_new_queue(sdk: &aws_config::SdkConfig, queue: &str, max_receives: u32) -> String {
    use aws_sdk_sqs::types::QueueAttributeName;
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let (dlq, arn) = fresh_queue(&sqs, "dlq").await;
    let policy = serde_json::json!({"deadLetterTargetArn": arn, "maxReceiveCount": max_receives}).to_string();
    sqs.set_queue_attributes()
        .queue_url(queue)
        .attributes(QueueAttributeName::RedrivePolicy, policy)
        .send()
        .await
        .unwrap();
    dlq
}
