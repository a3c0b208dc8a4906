//! What several of these tests share.

use std::sync::Mutex;
use tochen_platforms::publish::RefRecorder;
use tochen_store::StoreError;

/// A [`RefRecorder`] that keeps what the publisher recorded, in order.
#[derive(Default)]
pub struct Refs(Mutex<Vec<String>>);

#[async_trait::async_trait]
impl RefRecorder for Refs {
    async fn record(&self, r: &str) -> Result<(), StoreError> {
        self.0.lock().unwrap().push(r.to_string());
        Ok(())
    }
}

impl Refs {
    pub fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}
