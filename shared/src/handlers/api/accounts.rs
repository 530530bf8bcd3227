//! `/v1/accounts`: the office's known accounts (media outlets, public figures, known critics and
//! advocates) with the influence tier triage gives their authors before follower counts. Viewers
//! read, operators create and change them (a change is conditional on the revision read: 409
//! otherwise), admins delete them.

use http::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::answers::text_field;
use super::{ApiError, Call, Handled, MAX_LIMIT, bad, conflict, no_content, not_found};
use crate::domain::known_account::{MAX_AUTHOR_ID, account_id, valid_author_id};
use crate::domain::{AccountKind, Influence, KnownAccount, Platform};
use crate::error::StoreError;
use crate::http::json;
use crate::ports::Position;
use crate::stores::accounts::MAX_KNOWN_ACCOUNTS;

const SCOPE: &str = "accounts";
const MAX_NAME: usize = 200;
const MAX_NOTES: usize = 2000;
const FIELDS: [&str; 5] = ["kind", "influence", "name", "notes", "revision"];

/// `{platform}:{author_id}` of the path.
fn account_of(call: &Call<'_>) -> Result<(Platform, String), ApiError> {
    let raw = call.param();
    let (platform, author_id) = raw.split_once(':').ok_or_else(|| {
        bad(format!("account must be {{platform}}:{{author_id}}, for example facebook:100012345678901, got {raw:?}"))
    })?;
    let platform: Platform = platform.parse().map_err(|e| bad(format!("account: {e}")))?;
    if !valid_author_id(author_id) {
        return Err(bad(format!(
            "account: the author id must be 1 to {MAX_AUTHOR_ID} bytes without spaces or control characters"
        )));
    }
    Ok((platform, author_id.to_string()))
}

/// A member of the body as `T`, refused with its name; `null` is absent.
fn member<T: DeserializeOwned>(body: &Map<String, Value>, name: &str) -> Result<Option<T>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => T::deserialize(v).map(Some).map_err(|e| bad(format!("{name}: {e}"))),
    }
}

fn required<T: DeserializeOwned>(body: &Map<String, Value>, name: &str) -> Result<T, ApiError> {
    member(body, name)?.ok_or_else(|| bad(format!("{name} is required")))
}

/// What a client sends to create or change a known account.
struct AccountInput {
    kind: AccountKind,
    influence: Influence,
    name: String,
    notes: Option<String>,
    /// The revision read (changing an account); none creates one.
    revision: Option<u32>,
}

impl AccountInput {
    /// Reads the body member by member, so that a refusal names the member.
    fn read(call: &Call<'_>) -> Result<Self, ApiError> {
        let body: Map<String, Value> = call.body("known account {kind, influence, name, notes, revision}")?;
        if let Some(unknown) = body.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(bad(format!("{unknown}: unknown member; known: {}", FIELDS.join(", "))));
        }
        let kind: AccountKind = required(&body, "kind")?;
        let influence: Influence = required(&body, "influence")?;
        if influence == Influence::TidakDiketahui {
            return Err(bad("influence: a known account has a tier: kecil, menengah, besar or sangat_besar"));
        }
        let name: String = required(&body, "name")?;
        text_field("name", &name, MAX_NAME)?;
        let notes: Option<String> = member(&body, "notes")?;
        if let Some(notes) = &notes {
            text_field("notes", notes, MAX_NOTES)?;
        }
        Ok(AccountInput { kind, influence, name: name.trim().to_string(), notes, revision: member(&body, "revision")? })
    }

    fn into_account(self, platform: Platform, author_id: String, revision: u32, call: &Call<'_>) -> KnownAccount {
        KnownAccount {
            platform,
            author_id,
            kind: self.kind,
            influence: self.influence,
            name: self.name,
            notes: self.notes,
            updated_at: call.now(),
            updated_by: call.who.subject.clone(),
            revision,
        }
    }

    /// Whether a stored account holds exactly this input (a retried create).
    fn same_as(&self, a: &KnownAccount) -> bool {
        self.kind == a.kind && self.influence == a.influence && self.name == a.name && self.notes == a.notes
    }
}

/// An account as the API shows it: with its id.
#[derive(Serialize)]
struct AccountView {
    id: String,
    #[serde(flatten)]
    account: KnownAccount,
}

fn view(account: KnownAccount) -> AccountView {
    AccountView { id: account.id(), account }
}

#[derive(Serialize)]
struct AccountPage {
    items: Vec<AccountView>,
    next_cursor: Option<String>,
}

fn stale(id: &str) -> ApiError {
    conflict(format!("known account {id} was changed by someone else meanwhile; read it again"))
}

fn saved(result: Result<(), StoreError>, id: &str) -> Result<(), ApiError> {
    match result {
        Err(StoreError::Conflict { .. }) => Err(stale(id)),
        other => Ok(other?),
    }
}

async fn load(call: &Call<'_>, platform: Platform, author_id: &str) -> Result<KnownAccount, ApiError> {
    let found = call.state.accounts.known_account(platform, author_id).await?;
    found.ok_or_else(|| not_found(format!("no known account {}", account_id(platform, author_id))))
}

/// `GET /v1/accounts`: by platform, then author id; `platform` and `kind` filter.
pub(super) async fn list(call: &Call<'_>) -> Handled {
    let q = call.query(&["platform", "kind", "limit", "cursor"])?;
    let platform = q.label::<Platform>("platform")?;
    let kind = q.label::<AccountKind>("kind")?;
    let limit = q.limit()?;
    // A cursor resumes only the listing it was issued for (the same filters).
    let scope = format!("{SCOPE}/{}/{}", platform.map_or("", Platform::as_str), kind.map_or("", AccountKind::as_str));
    let mut after = call.position(&scope, q.get("cursor"))?;
    let mut items: Vec<KnownAccount> = Vec::new();
    let next = loop {
        let page = call.state.accounts.known_accounts_page(platform, MAX_LIMIT, after.as_ref()).await?;
        let mut read = page.items.into_iter();
        for account in read.by_ref().filter(|a| kind.is_none_or(|k| a.kind == k)) {
            items.push(account);
            if items.len() == limit {
                break;
            }
        }
        if items.len() == limit {
            // A page position is the last id read: the next page starts after the last one shown.
            let more = read.next().is_some() || page.next.is_some();
            break items.last().filter(|_| more).map(|a| Position(a.id()));
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break None,
        }
    };
    let next_cursor = call.cursor(&scope, next.as_ref());
    Ok(json(StatusCode::OK, &AccountPage { items: items.into_iter().map(view).collect(), next_cursor }))
}

pub(super) async fn get(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let (platform, author_id) = account_of(call)?;
    Ok(json(StatusCode::OK, &view(load(call, platform, &author_id).await?)))
}

/// `PUT /v1/accounts/{account}`: without `revision` creates the account (201; the same body
/// again is 200), with the revision read replaces it (200); anything else is 409.
pub(super) async fn put(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let (platform, author_id) = account_of(call)?;
    let input = AccountInput::read(call)?;
    let id = account_id(platform, &author_id);
    let accounts = call.state.accounts.as_ref();
    match (accounts.known_account(platform, &author_id).await?, input.revision) {
        (None, None) => {
            if accounts.all_known_accounts().await?.len() >= MAX_KNOWN_ACCOUNTS {
                return Err(conflict(format!(
                    "the registry holds {MAX_KNOWN_ACCOUNTS} known accounts at most; delete some first"
                )));
            }
            let account = input.into_account(platform, author_id, 0, call);
            // Conditional on absence: of two creations at once, one wins and the other is 409.
            saved(accounts.add_known_account(&account).await, &id)?;
            Ok(json(StatusCode::CREATED, &view(account)))
        }
        (None, Some(_)) => Err(not_found(format!("no known account {id}; send no revision to create it"))),
        (Some(current), None) if input.same_as(&current) => Ok(json(StatusCode::OK, &view(current))),
        (Some(current), None) => Err(conflict(format!(
            "known account {id} exists (revision {}); send the revision you read to change it",
            current.revision
        ))),
        (Some(current), Some(revision)) if revision != current.revision => Err(stale(&id)),
        (Some(current), Some(_)) => {
            let next = input.into_account(platform, author_id, current.revision + 1, call);
            // Conditional on what was read: a change made meanwhile is not overwritten.
            saved(accounts.replace_known_account(&current, &next).await, &id)?;
            Ok(json(StatusCode::OK, &view(next)))
        }
    }
}

pub(super) async fn delete(call: &Call<'_>) -> Handled {
    call.query(&[])?;
    let (platform, author_id) = account_of(call)?;
    let existing = load(call, platform, &author_id).await?;
    call.state.accounts.delete_known_account(existing.platform, &existing.author_id).await?;
    tracing::info!(by = %call.who.subject, account = %existing.id(), "known account deleted");
    Ok(no_content())
}
