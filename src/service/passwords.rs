//! Argon2id password hashing (OWASP: m = 19 MiB, t = 2, p = 1), run on blocking threads behind a
//! semaphore so hashing never stalls the async workers and cannot exhaust memory.

use std::sync::Arc;

use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHasher as _, PasswordVerifier as _, phc::PasswordHash},
};
use tokio::sync::Semaphore;

use crate::domain::{DomainError, Password};

/// Hashes and verifies passwords; clones share the concurrency limit.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// A real hash of a random password, verified against when the user does not exist so that
    /// unknown users and wrong passwords take the same time.
    dummy_hash: Arc<String>,
}

fn argon2() -> Result<Argon2<'static>, DomainError> {
    let params =
        Params::new(19 * 1024, 2, 1, None).map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_blocking(password: &[u8]) -> Result<String, DomainError> {
    let hash = argon2()?
        .hash_password(password)
        .map_err(|e| anyhow::anyhow!("argon2 hash: {e}"))?;
    Ok(hash.to_string())
}

impl PasswordHasher {
    /// Builds the hasher; at most one hash per CPU core runs at a time.
    pub async fn new() -> Result<Self, DomainError> {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let random: [u8; 16] = rand::random();
        let dummy = tokio::task::spawn_blocking(move || hash_blocking(&random))
            .await
            .map_err(|e| anyhow::anyhow!("hash task: {e}"))??;
        Ok(Self {
            permits: Arc::new(Semaphore::new(cores)),
            dummy_hash: Arc::new(dummy),
        })
    }

    /// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) of `password`.
    pub async fn hash(&self, password: &Password) -> Result<String, DomainError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let bytes = password.expose().to_vec();
        tokio::task::spawn_blocking(move || hash_blocking(&bytes))
            .await
            .map_err(|e| anyhow::anyhow!("hash task: {e}"))?
    }

    /// Whether `password` matches `hash`; with `hash = None` verifies against a dummy hash and
    /// returns false, taking the same time.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, DomainError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let known = hash.is_some();
        let hash = hash
            .map(str::to_owned)
            .unwrap_or_else(|| self.dummy_hash.as_str().to_owned());
        let password = password.as_bytes().to_vec();
        let ok = tokio::task::spawn_blocking(move || {
            let parsed =
                PasswordHash::new(&hash).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
            Ok::<_, DomainError>(argon2()?.verify_password(&password, &parsed).is_ok())
        })
        .await
        .map_err(|e| anyhow::anyhow!("verify task: {e}"))??;
        Ok(ok && known)
    }
}
