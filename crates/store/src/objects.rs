//! File contents (attachments, results) in an object store: a local folder by default; the
//! `object_store` crate also speaks S3, GCS and Azure, so a production deployment swaps the
//! backend without touching callers. Keys are content-addressed under the upload's id.

use std::sync::Arc;

use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::{Result, StoreError};

#[derive(Clone)]
pub struct Objects {
    inner: Arc<dyn ObjectStore>,
}

impl Objects {
    /// Files under `folder`, which is created if missing.
    pub fn local(folder: &std::path::Path) -> Result<Self> {
        std::fs::create_dir_all(folder).map_err(|e| {
            StoreError::Conflict(format!("cannot create {}: {e}", folder.display()))
        })?;
        let local = LocalFileSystem::new_with_prefix(folder).map_err(object_error)?;
        Ok(Self {
            inner: Arc::new(local),
        })
    }

    pub async fn put(&self, key: &str, content: Vec<u8>) -> Result<()> {
        self.inner
            .put(&Path::from(key), PutPayload::from(content))
            .await
            .map_err(object_error)?;
        Ok(())
    }

    pub async fn get(&self, key: &str) -> Result<Vec<u8>> {
        let found = self
            .inner
            .get(&Path::from(key))
            .await
            .map_err(object_error)?;
        Ok(found.bytes().await.map_err(object_error)?.to_vec())
    }
}

fn object_error(e: object_store::Error) -> StoreError {
    StoreError::Objects(e.to_string())
}
