//! Known accounts through `pantau invoke api` as each role: Facebook gives no follower counts,
//! so only the office's registry can make a Facebook critic influential.

use pantau::classify::triage::triage_for_tier;
use pantau::domain::{Category, Influence};
use serde_json::{Value, json};

mod support;

const NOW: &str = "2026-11-27T03:00:00Z";
const CRITIC: &str = "/v1/accounts/facebook%3A100012345678901";

fn api(dir: &std::path::Path, role: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    support::invoke_api(dir, &[], NOW, role, method, path, body, &[])
}

/// A Facebook comment attacking the governor, by `author_id` (no follower count).
fn hater(id: &str, author_id: &str) -> Value {
    json!({"platform": "facebook", "external_id": id, "created_at": NOW,
           "text": "Gubernur goblok, pejabat korup semua, dasar tidak becus kerja!",
           "author": {"id": author_id, "name": "Cak Kritis"}})
}

fn refused(dir: &std::path::Path, path: &str, body: Value, member: &str) {
    let (status, problem) = api(dir, "operator", "PUT", path, Some(body));
    assert_eq!(status, 400, "{problem}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.starts_with(member), "the refusal names {member}: {detail}");
}

fn triage_of(dir: &std::path::Path, key: &str) -> Value {
    let (status, mention) = api(dir, "viewer", "GET", &format!("/v1/mentions/{key}"), None);
    assert_eq!(status, 200, "{mention}");
    assert_eq!(mention["classification"]["category"], "hater", "{mention}");
    mention
}

#[test]
fn a_registered_facebook_critic_is_triaged_as_influential_and_an_unregistered_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let critic = json!({"kind": "pengkritik", "influence": "besar", "name": "Cak Kritis",
                        "notes": "Sering mengkritik program jalan; jawab dengan data Dinas PU Bina Marga."});

    // Viewers read the registry but do not change it; bad input is refused naming the member,
    // and nothing is written.
    assert_eq!(api(d, "viewer", "PUT", CRITIC, Some(critic.clone())).0, 403);
    refused(d, CRITIC, json!({"kind": "wartawan", "influence": "besar", "name": "Cak Kritis"}), "kind:");
    refused(d, CRITIC, json!({"kind": "media", "influence": "tidak_diketahui", "name": "Cak Kritis"}), "influence:");
    refused(d, CRITIC, json!({"kind": "media", "influence": 3, "name": "Cak Kritis"}), "influence:");
    refused(d, CRITIC, json!({"kind": "media", "influence": "besar", "name": "  "}), "name");
    refused(d, CRITIC, json!({"kind": "media", "influence": "besar"}), "name");
    refused(d, CRITIC, json!({"kind": "media", "influence": "besar", "name": "A", "followers": 9}), "followers:");
    refused(d, "/v1/accounts/twitter%3A1", critic.clone(), "account:");
    assert_eq!(api(d, "viewer", "GET", CRITIC, None).0, 404, "a refused request wrote nothing");

    let (status, created) = api(d, "operator", "PUT", CRITIC, Some(critic.clone()));
    assert_eq!(status, 201, "{created}");
    assert_eq!((&created["id"], &created["revision"]), (&json!("facebook:100012345678901"), &json!(0)));
    assert_eq!(api(d, "operator", "PUT", CRITIC, Some(critic.clone())).0, 200, "the same creation again");
    let mut other = critic.clone();
    other["influence"] = "kecil".into();
    assert_eq!(api(d, "operator", "PUT", CRITIC, Some(other.clone())).0, 409, "it exists: send the revision");
    other["revision"] = 7.into();
    assert_eq!(api(d, "operator", "PUT", CRITIC, Some(other.clone())).0, 409, "a stale revision");
    let mut changed = critic.clone();
    changed["notes"] = "Juga aktif di grup warga Surabaya.".into();
    changed["revision"] = 0.into();
    let (status, stored) = api(d, "operator", "PUT", CRITIC, Some(changed.clone()));
    assert_eq!((status, &stored["revision"]), (200, &json!(1)), "{stored}");
    assert_eq!(api(d, "admin", "PUT", CRITIC, Some(changed)).0, 409, "revision 0 was changed meanwhile");
    let (status, read) = api(d, "viewer", "GET", CRITIC, None);
    assert_eq!(
        (status, &read["notes"], &read["influence"]),
        (200, &json!("Juga aktif di grup warga Surabaya."), &json!("besar"))
    );

    let listed = |query: &str| -> usize {
        let (status, page) = api(d, "viewer", "GET", &format!("/v1/accounts{query}"), None);
        assert_eq!(status, 200, "{page}");
        page["items"].as_array().unwrap().len()
    };
    assert_eq!(listed("?platform=facebook&kind=pengkritik"), 1);
    assert_eq!(listed("?kind=media"), 0);
    assert_eq!(listed("?platform=x"), 0);
    assert_eq!(api(d, "viewer", "GET", "/v1/accounts?kind=haters", None).0, 400);

    // The same comment from the registered critic and from an unknown Facebook author.
    let batch = json!({"mentions": [hater("c-1", "100012345678901"), hater("c-2", "100099999999999")]});
    let (status, stats) = api(d, "admin", "POST", "/v1/mentions", Some(batch));
    assert_eq!((status, &stats["stored"]), (200, &json!(2)), "{stats}");
    let expected = triage_for_tier(Category::Hater, Influence::Besar, false);
    let known = triage_of(d, "facebook%3Ac-1");
    assert_eq!(known["triage"]["influence"], "besar", "{known}");
    assert_eq!(known["triage"]["priority"], expected.priority.as_str());
    assert_eq!(known["triage"]["action"], expected.action.as_str());
    assert_eq!(known["triage"]["account"], expected.account.as_str());
    assert!(known["case"]["id"].is_string(), "an influential critic gets a case: {known}");
    let unknown = triage_of(d, "facebook%3Ac-2");
    assert_eq!(
        (&unknown["triage"]["influence"], &unknown["triage"]["action"]),
        (&json!("tidak_diketahui"), &json!("pantau"))
    );
    assert!(unknown["case"].is_null(), "{unknown}");
    let (status, alerts) = api(d, "viewer", "GET", "/v1/alerts?kind=influential_hater&from=2026-11-01", None);
    assert_eq!(status, 200);
    let alerted: Vec<&Value> = alerts["items"].as_array().unwrap().iter().map(|a| &a["data"]["key"]).collect();
    assert_eq!(alerted, [&json!("facebook:c-1")]);

    // Only an admin deletes; the author's next comment is triaged by followers again.
    assert_eq!(api(d, "operator", "DELETE", CRITIC, None).0, 403);
    assert_eq!(api(d, "admin", "DELETE", CRITIC, None).0, 204);
    assert_eq!(api(d, "viewer", "GET", CRITIC, None).0, 404);
    let later = json!({"mentions": [hater("c-3", "100012345678901")]});
    assert_eq!(api(d, "admin", "POST", "/v1/mentions", Some(later)).0, 200);
    assert_eq!(triage_of(d, "facebook%3Ac-3")["triage"]["influence"], "tidak_diketahui");
}
