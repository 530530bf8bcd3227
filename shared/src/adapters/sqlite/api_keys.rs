//! API keys of the local deployment (`pantau keys`): only their SHA-256 is stored.

use async_trait::async_trait;
use chrono::Utc;
use rusqlite::{OptionalExtension, params};

use super::{Sql, SqliteStore, sql_err};
use crate::auth::{ApiKey, ApiKeyInfo, KeyStore, Role, hash_key, new_api_key};
use crate::error::StoreError;
use crate::time::sortable;

impl SqliteStore {
    /// Issues a key with a role; returns its record and the key itself (shown once).
    pub async fn create_api_key(&self, role: Role, label: Option<String>) -> Sql<(ApiKeyInfo, String)> {
        let key = new_api_key();
        let info = ApiKeyInfo {
            id: hex::encode(rand::random::<[u8; 6]>()),
            role,
            label,
            created_at: self.clock.now(),
            revoked_at: None,
        };
        let (row, hash) = (info.clone(), hex::encode(hash_key(&key)));
        self.write(&[], move |tx, _| {
            tx.execute(
                "INSERT INTO api_keys (id, hash, role, label, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![row.id, hash, row.role.as_str(), row.label, sortable(row.created_at)],
            )
            .map_err(sql_err("CreateApiKey", "api_keys", Some(&row.id)))?;
            Ok(Some(()))
        })
        .await?;
        Ok((info, key))
    }

    /// Every key issued, newest first (revoked ones included, marked).
    pub async fn list_api_keys(&self) -> Sql<Vec<ApiKeyInfo>> {
        self.read(|conn, _| {
            let mut stmt = conn
                .prepare("SELECT id, role, label, created_at, revoked_at FROM api_keys ORDER BY created_at DESC, id")
                .map_err(sql_err("ListApiKeys", "api_keys", None))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<String>>(4)?,
                    ))
                })
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(sql_err("ListApiKeys", "api_keys", None))?;
            rows.into_iter()
                .map(|(id, role, label, created, revoked)| {
                    let time = |t: &str| {
                        chrono::DateTime::parse_from_rfc3339(t)
                            .map(|t| t.with_timezone(&Utc))
                            .map_err(|e| StoreError::corrupt("api_keys", &id, e))
                    };
                    Ok(ApiKeyInfo {
                        role: role.parse().map_err(|e| StoreError::corrupt("api_keys", &id, e))?,
                        label,
                        created_at: time(&created)?,
                        revoked_at: revoked.as_deref().map(time).transpose()?,
                        id,
                    })
                })
                .collect()
        })
        .await
    }

    /// Revokes a key; `false` when no unrevoked key has that id.
    pub async fn revoke_api_key(&self, id: &str) -> Sql<bool> {
        let (id, at) = (id.to_string(), sortable(self.clock.now()));
        let revoked = self
            .write(&[], move |tx, _| {
                let n = tx
                    .execute(
                        "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                        params![id, at],
                    )
                    .map_err(sql_err("RevokeApiKey", "api_keys", Some(&id)))?;
                Ok(Some(n == 1))
            })
            .await?;
        Ok(revoked == Some(true))
    }
}

#[async_trait]
impl KeyStore for SqliteStore {
    async fn find_key(&self, hash: &[u8; 32]) -> Sql<Option<ApiKey>> {
        let hash = *hash;
        self.read(move |conn, _| {
            let row: Option<(String, String)> = conn
                .query_row(
                    "SELECT id, role FROM api_keys WHERE hash = ?1 AND revoked_at IS NULL",
                    params![hex::encode(hash)],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(sql_err("FindApiKey", "api_keys", None))?;
            row.map(|(id, role)| {
                let role = role.parse().map_err(|e| StoreError::corrupt("api_keys", &id, e))?;
                Ok(ApiKey { id, hash, role })
            })
            .transpose()
        })
        .await
    }
}
