//! Authentication and roles for `/v1`. On AWS the HTTP API's JWT authorizer has verified the
//! token and passes its claims; locally callers present bearer API keys, stored hashed.

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::labels::vocabulary;

vocabulary! {
    /// What a caller may do. Each role includes the reads of `viewer` except `ingest`.
    Role, "role" {
        Viewer => "viewer",
        Operator => "operator",
        Admin => "admin",
        /// Apps that only send mentions.
        Ingest => "ingest",
    }
}

impl Role {
    /// Whether this role may act where `needed` is required.
    pub fn allows(self, needed: Role) -> bool {
        use Role::*;
        matches!((self, needed), (Admin, _) | (Operator, Viewer | Operator) | (Viewer, Viewer) | (Ingest, Ingest))
    }
}

/// What the caller presented, as the adapter found it.
#[derive(Clone)]
pub enum Credential {
    None,
    /// `Authorization: Bearer <key>` (local API keys).
    Bearer(SecretString),
    /// Claims of a JWT the API Gateway authorizer has already verified.
    JwtClaims(serde_json::Value),
}

impl Credential {
    /// Reads a bearer key from an `Authorization` header value.
    pub fn from_authorization(header: Option<&str>) -> Credential {
        match header.and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer "))) {
            Some(token) if !token.trim().is_empty() => Credential::Bearer(SecretString::from(token.trim().to_string())),
            _ => Credential::None,
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub subject: String,
    /// The strongest role held (admin, operator, viewer, ingest), as messages name it.
    pub role: Role,
    /// Any other role held too (a token may name several groups).
    pub other_roles: Vec<Role>,
}

impl Principal {
    pub fn new(subject: impl Into<String>, role: Role) -> Principal {
        Principal { subject: subject.into(), role, other_roles: Vec::new() }
    }

    /// Whether any role held allows acting where `needed` is required.
    pub fn allows(&self, needed: Role) -> bool {
        self.role.allows(needed) || self.other_roles.iter().any(|r| r.allows(needed))
    }
}

/// The roles a claim value names: a plain role (`admin`), the HTTP API's flattening of a list
/// (`[admin operator]`), a JSON array or its text (`["admin","operator"]`); other names (groups
/// that are not roles) are ignored.
pub fn roles_in(value: &serde_json::Value) -> Vec<Role> {
    let items: Vec<String> = match value {
        serde_json::Value::Array(items) => items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        serde_json::Value::String(text) => {
            let text = text.trim();
            let inner = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')).unwrap_or(text);
            inner.split(|c: char| c.is_whitespace() || c == ',').map(|i| i.trim_matches('"').to_string()).collect()
        }
        _ => Vec::new(),
    };
    let mut roles: Vec<Role> = items.iter().filter_map(|i| i.parse::<Role>().ok()).collect();
    roles.sort_by_key(|r| precedence(*r));
    roles.dedup();
    roles
}

/// Strongest first: admin, operator, viewer, ingest.
fn precedence(role: Role) -> u8 {
    match role {
        Role::Admin => 0,
        Role::Operator => 1,
        Role::Viewer => 2,
        Role::Ingest => 3,
    }
}

/// The roles of a verified token: from the role claim when it is there; otherwise (an app's
/// client-credentials token has no groups) from the `pantau/…` items of its `scope`.
fn roles_of(claims: &serde_json::Value, role_claim: &str) -> Vec<Role> {
    if let Some(value) = claims.get(role_claim) {
        return roles_in(value);
    }
    let scopes = claims.get("scope").and_then(|s| s.as_str()).unwrap_or("");
    let names: Vec<serde_json::Value> =
        scopes.split_whitespace().filter_map(|s| s.strip_prefix("pantau/")).map(|s| s.into()).collect();
    roles_in(&serde_json::Value::Array(names))
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing or invalid credential")]
    Unauthenticated,
    #[error("role {have} may not do this; it needs {needed}")]
    Forbidden { have: Role, needed: Role },
    /// Credentials cannot be checked right now.
    #[error("credentials cannot be checked right now; try again later")]
    Unavailable,
    /// A valid credential that carries no Pantau role.
    #[error("the credential carries no Pantau role; it needs {needed}")]
    NoRole { needed: Role },
}

/// A stored API key: its id, SHA-256 hash and role. The key itself is never stored.
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub id: String,
    pub hash: [u8; 32],
    pub role: Role,
}

/// Hash of an API key as stored.
pub fn hash_key(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// A stored API key as people see it (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApiKeyInfo {
    pub id: String,
    pub role: Role,
    pub label: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Where issued API keys live (the local database; on AWS people and apps use JWTs).
#[async_trait::async_trait]
pub trait KeyStore: Send + Sync {
    /// The unrevoked key with this hash.
    async fn find_key(&self, hash: &[u8; 32]) -> Result<Option<ApiKey>, crate::error::StoreError>;
}

/// A new random API key: `pantau_` and 64 hex characters (256 bits).
pub fn new_api_key() -> String {
    format!("pantau_{}", hex::encode(rand::random::<[u8; 32]>()))
}

/// Checks credentials. Keys are compared by hash in constant time.
pub struct Authenticator {
    keys: Vec<ApiKey>,
    /// Keys issued with `pantau keys create`, looked up on every request (so a key created or
    /// revoked while `pantau serve` runs takes effect at once).
    store: Option<std::sync::Arc<dyn KeyStore>>,
    /// Claim carrying the role in JWTs (for example `custom:pantau_role` in Cognito).
    role_claim: String,
}

impl Authenticator {
    pub fn new(keys: Vec<ApiKey>, role_claim: impl Into<String>) -> Self {
        Authenticator { keys, store: None, role_claim: role_claim.into() }
    }

    /// Also accepts the keys of a key store.
    pub fn with_key_store(mut self, store: std::sync::Arc<dyn KeyStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Admin keys from `PANTAU_API_KEYS` (comma-separated), for bootstrapping.
    pub fn admin_keys(list: Option<&SecretString>) -> Vec<ApiKey> {
        list.map(|l| l.expose_secret().split(',').map(str::trim).filter(|k| !k.is_empty()).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(i, k)| ApiKey { id: format!("env-{}", i + 1), hash: hash_key(k), role: Role::Admin })
            .collect()
    }

    /// Authenticates, then checks the role: 401 before 403.
    pub async fn authorize(&self, credential: &Credential, needed: Role) -> Result<Principal, AuthError> {
        let principal = match self.authenticate(credential) {
            Err(AuthError::Unauthenticated) => self.stored_key(credential).await?,
            other => other?,
        }
        .ok_or(AuthError::NoRole { needed })?;
        if principal.allows(needed) {
            Ok(principal)
        } else {
            Err(AuthError::Forbidden { have: principal.role, needed })
        }
    }

    async fn stored_key(&self, credential: &Credential) -> Result<Option<Principal>, AuthError> {
        let (Some(store), Credential::Bearer(key)) = (&self.store, credential) else {
            return Err(AuthError::Unauthenticated);
        };
        match store.find_key(&hash_key(key.expose_secret())).await {
            Ok(Some(k)) => Ok(Some(Principal::new(format!("key:{}", k.id), k.role))),
            Ok(None) => Err(AuthError::Unauthenticated),
            Err(e) => {
                tracing::error!(error = %e, "key store unavailable");
                Err(AuthError::Unavailable)
            }
        }
    }

    /// The caller, `None` when the credential is valid but carries no role.
    fn authenticate(&self, credential: &Credential) -> Result<Option<Principal>, AuthError> {
        match credential {
            Credential::None => Err(AuthError::Unauthenticated),
            Credential::Bearer(key) => {
                let hash = hash_key(key.expose_secret());
                // Compare against every key so timing does not reveal which one matched.
                let mut found: Option<&ApiKey> = None;
                for candidate in &self.keys {
                    if bool::from(candidate.hash.ct_eq(&hash)) {
                        found = Some(candidate);
                    }
                }
                found.map(|k| Some(Principal::new(format!("key:{}", k.id), k.role))).ok_or(AuthError::Unauthenticated)
            }
            Credential::JwtClaims(claims) => {
                let subject = claims.get("sub").and_then(|s| s.as_str()).ok_or(AuthError::Unauthenticated)?;
                // The authorizer verified the token; a missing or unknown role is a 403.
                let mut roles = roles_of(claims, &self.role_claim).into_iter();
                Ok(roles.next().map(|role| Principal {
                    subject: subject.to_string(),
                    role,
                    other_roles: roles.collect(),
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> Authenticator {
        let mut keys = Authenticator::admin_keys(Some(&SecretString::from("adm-1, ,adm-2")));
        keys.push(ApiKey { id: "v".into(), hash: hash_key("view-key"), role: Role::Viewer });
        Authenticator::new(keys, "pantau_role")
    }

    #[tokio::test]
    async fn credential_is_checked_before_role() {
        let a = auth();
        assert_eq!(a.authorize(&Credential::None, Role::Viewer).await, Err(AuthError::Unauthenticated));
        let wrong = Credential::from_authorization(Some("Bearer nope"));
        assert_eq!(a.authorize(&wrong, Role::Admin).await, Err(AuthError::Unauthenticated));
        let viewer = Credential::from_authorization(Some("Bearer view-key"));
        assert_eq!(a.authorize(&viewer, Role::Viewer).await.unwrap().role, Role::Viewer);
        assert_eq!(
            a.authorize(&viewer, Role::Operator).await,
            Err(AuthError::Forbidden { have: Role::Viewer, needed: Role::Operator })
        );
        let admin = Credential::from_authorization(Some("Bearer adm-2"));
        assert_eq!(a.authorize(&admin, Role::Operator).await.unwrap().subject, "key:env-2");
    }

    #[tokio::test]
    async fn cognito_groups_and_app_scopes_give_roles() {
        let a = Authenticator::new(vec![], "cognito:groups");
        let claims = |c: serde_json::Value| Credential::JwtClaims(c);
        // The HTTP API flattens a list claim into one bracketed string.
        let two = claims(serde_json::json!({"sub": "u-1", "cognito:groups": "[pantau-staff operator]"}));
        let p = a.authorize(&two, Role::Operator).await.unwrap();
        assert_eq!((p.role, p.other_roles.clone()), (Role::Operator, vec![]));
        let both = claims(serde_json::json!({"sub": "u-2", "cognito:groups": "[ingest viewer]"}));
        assert!(a.authorize(&both, Role::Ingest).await.is_ok(), "any role held allows");
        assert!(a.authorize(&both, Role::Viewer).await.is_ok());
        assert_eq!(
            a.authorize(&both, Role::Operator).await,
            Err(AuthError::Forbidden { have: Role::Viewer, needed: Role::Operator })
        );
        let json_text = claims(serde_json::json!({"sub": "u-3", "cognito:groups": "[\"admin\",\"viewer\"]"}));
        assert_eq!(a.authorize(&json_text, Role::Admin).await.unwrap().role, Role::Admin);
        // A client-credentials token has no groups: its `pantau/` scopes name the roles.
        let app = claims(
            serde_json::json!({"sub": "client-1", "client_id": "client-1", "scope": "pantau/ingest other/read"}),
        );
        assert_eq!(a.authorize(&app, Role::Ingest).await.unwrap().role, Role::Ingest);
        let unprefixed = claims(serde_json::json!({"sub": "client-2", "scope": "admin"}));
        assert_eq!(a.authorize(&unprefixed, Role::Viewer).await, Err(AuthError::NoRole { needed: Role::Viewer }));
        // With the role claim present, scopes are not looked at.
        let groups_win = claims(serde_json::json!({"sub": "u-4", "cognito:groups": "[]", "scope": "pantau/admin"}));
        assert_eq!(a.authorize(&groups_win, Role::Viewer).await, Err(AuthError::NoRole { needed: Role::Viewer }));
        assert_eq!(roles_in(&serde_json::json!("admin")), vec![Role::Admin]);
        assert_eq!(roles_in(&serde_json::json!(["viewer", "x", "viewer"])), vec![Role::Viewer]);
    }

    #[tokio::test]
    async fn jwt_claims_carry_subject_and_role() {
        let a = auth();
        let ok = Credential::JwtClaims(serde_json::json!({"sub": "app-1", "pantau_role": "ingest"}));
        assert_eq!(a.authorize(&ok, Role::Ingest).await.unwrap().subject, "app-1");
        assert!(matches!(a.authorize(&ok, Role::Viewer).await, Err(AuthError::Forbidden { .. })));
        let no_role = Credential::JwtClaims(serde_json::json!({"sub": "app-1"}));
        assert_eq!(a.authorize(&no_role, Role::Viewer).await, Err(AuthError::NoRole { needed: Role::Viewer }));
        let no_subject = Credential::JwtClaims(serde_json::json!({"pantau_role": "admin"}));
        assert_eq!(a.authorize(&no_subject, Role::Viewer).await, Err(AuthError::Unauthenticated));
    }

    #[test]
    fn malformed_authorization_headers_are_no_credential() {
        for header in [None, Some(""), Some("Basic abc"), Some("Bearer "), Some("Bearer    ")] {
            assert!(matches!(Credential::from_authorization(header), Credential::None), "{header:?}");
        }
    }
}
