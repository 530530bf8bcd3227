//! Blob stores for rendered reports: a folder locally, S3 on AWS.

use std::path::{Component, Path, PathBuf};

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;

use crate::error::BlobError;
use crate::ports::BlobStore;

/// Blobs as files below a root folder; keys are relative paths with `/`.
#[derive(Debug, Clone)]
pub struct FolderBlobStore {
    root: PathBuf,
}

impl FolderBlobStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FolderBlobStore { root: root.into() }
    }

    fn error(&self, operation: &'static str, key: &str, source: impl Into<crate::error::BoxError>) -> BlobError {
        BlobError { operation, location: self.root.display().to_string(), key: key.to_string(), source: source.into() }
    }

    /// Keys must stay inside the root: no absolute paths, no `..`.
    fn path(&self, operation: &'static str, key: &str) -> Result<PathBuf, BlobError> {
        let relative = Path::new(key);
        let safe = !key.is_empty() && relative.components().all(|c| matches!(c, Component::Normal(_)));
        if !safe {
            return Err(self.error(operation, key, "key must be a relative path without '..'"));
        }
        Ok(self.root.join(relative))
    }
}

#[async_trait]
impl BlobStore for FolderBlobStore {
    async fn put_blob(&self, key: &str, bytes: Vec<u8>, _content_type: &str) -> Result<(), BlobError> {
        let path = self.path("Put", key)?;
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(|e| self.error("Put", key, e))?;
        }
        // Write then rename, so a reader never sees half a file.
        let tmp = path.with_extension("partial");
        tokio::fs::write(&tmp, bytes).await.map_err(|e| self.error("Put", key, e))?;
        tokio::fs::rename(&tmp, &path).await.map_err(|e| self.error("Put", key, e))
    }

    async fn get_blob(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        let path = self.path("Get", key)?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.error("Get", key, e)),
        }
    }

    async fn list_blobs(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        let mut found = Vec::new();
        let mut dirs = vec![self.root.clone()];
        while let Some(dir) = dirs.pop() {
            let mut entries = match tokio::fs::read_dir(&dir).await {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(self.error("List", prefix, e)),
            };
            while let Some(entry) = entries.next_entry().await.map_err(|e| self.error("List", prefix, e))? {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if let Ok(rel) = path.strip_prefix(&self.root) {
                    let key = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
                    if key.starts_with(prefix) && !key.ends_with(".partial") {
                        found.push(key);
                    }
                }
            }
        }
        found.sort();
        Ok(found)
    }

    async fn download_url(&self, _key: &str, _expires: std::time::Duration) -> Result<Option<String>, BlobError> {
        Ok(None)
    }
}

/// Blobs in one S3 bucket.
#[derive(Clone)]
pub struct S3BlobStore {
    client: Client,
    bucket: String,
}

impl S3BlobStore {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        S3BlobStore { client, bucket: bucket.into() }
    }

    fn error(&self, operation: &'static str, key: &str, source: impl Into<crate::error::BoxError>) -> BlobError {
        BlobError { operation, location: format!("s3://{}", self.bucket), key: key.to_string(), source: source.into() }
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn put_blob(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| self.error("Put", key, e))?;
        Ok(())
    }

    async fn get_blob(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => {
                let bytes = out.body.collect().await.map_err(|e| self.error("Get", key, e))?;
                Ok(Some(bytes.to_vec()))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(self.error("Get", key, e)),
        }
    }

    async fn list_blobs(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        let mut keys = Vec::new();
        let mut pages = self.client.list_objects_v2().bucket(&self.bucket).prefix(prefix).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.error("List", prefix, e))?;
            keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_string)));
        }
        keys.sort();
        Ok(keys)
    }

    async fn download_url(&self, key: &str, expires: std::time::Duration) -> Result<Option<String>, BlobError> {
        let config =
            aws_sdk_s3::presigning::PresigningConfig::expires_in(expires).map_err(|e| self.error("Presign", key, e))?;
        let request = self.client.get_object().bucket(&self.bucket).key(key).presigned(config).await;
        Ok(Some(request.map_err(|e| self.error("Presign", key, e))?.uri().to_string()))
    }
}
