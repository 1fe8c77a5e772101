//! Argon2id password hashing (RFC 9106; OWASP parameters m = 19 MiB, t = 2, p = 1) on a fixed
//! pool of hashing threads, one per CPU core, never on the async workers.
//!
//! Each thread owns one 19 MiB block buffer and reuses it for every hash
//! (`hash_password_into_with_memory`). Allocating 19 MiB per hash on tokio's blocking pool made
//! the allocator keep those buffers in many per-thread arenas: 60 registrations grew the process
//! from 42 MB to 569 MB. With reused buffers the cost is fixed at one buffer per core, paid on
//! first use. Hashes are stored as PHC strings: `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`
//! (salt 16 bytes, hash 32 bytes, base64 without padding).

use std::sync::Arc;

use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::{Engine, engine::general_purpose::STANDARD_NO_PAD as B64};
use tokio::sync::{mpsc, oneshot};

use super::tokens::constant_time_eq;
use crate::domain::{DomainError, Password, RecoveryPin};

const M_KIB: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_LANES: u32 = 1;
const SALT_LEN: usize = 16;
const HASH_LEN: usize = 32;

enum Job {
    Hash(Vec<u8>, oneshot::Sender<Result<String, DomainError>>),
    Verify(Vec<u8>, String, oneshot::Sender<Result<bool, DomainError>>),
}

/// Hashes and verifies passwords; clones share the thread pool.
#[derive(Clone)]
pub struct PasswordHasher {
    jobs: mpsc::Sender<Job>,
    /// A real hash of a random password, verified against when the user does not exist so that
    /// unknown users and wrong passwords take the same time. Made on first need.
    dummy_hash: Arc<tokio::sync::OnceCell<String>>,
}

fn params(m: u32, t: u32, p: u32) -> Result<Params, DomainError> {
    Params::new(m, t, p, Some(HASH_LEN)).map_err(|e| anyhow::anyhow!("argon2 params: {e}").into())
}

/// Computes the raw hash, reusing `memory` when it has the right size.
fn raw_hash(
    password: &[u8],
    salt: &[u8],
    params: Params,
    memory: &mut Vec<Block>,
) -> Result<[u8; HASH_LEN], DomainError> {
    if memory.len() != params.block_count() {
        *memory = vec![Block::default(); params.block_count()];
    }
    let mut out = [0u8; HASH_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into_with_memory(password, salt, &mut out, memory.as_mut_slice())
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
    Ok(out)
}

fn hash(password: &[u8], memory: &mut Vec<Block>) -> Result<String, DomainError> {
    let salt: [u8; SALT_LEN] = rand::random();
    let out = raw_hash(password, &salt, params(M_KIB, T_COST, P_LANES)?, memory)?;
    Ok(format!(
        "$argon2id$v=19$m={M_KIB},t={T_COST},p={P_LANES}${}${}",
        B64.encode(salt),
        B64.encode(out)
    ))
}

/// Parses `$argon2id$v=19$m=..,t=..,p=..$salt$hash` and compares in constant time.
fn verify(password: &[u8], phc: &str, memory: &mut Vec<Block>) -> Result<bool, DomainError> {
    let bad = || {
        DomainError::Internal(anyhow::anyhow!(
            "stored password hash is not an argon2id PHC string"
        ))
    };
    let parts: Vec<&str> = phc.split('$').collect();
    let ["", "argon2id", "v=19", costs, salt, expected] = parts.as_slice() else {
        return Err(bad());
    };
    let cost = |name: &str| -> Result<u32, DomainError> {
        costs
            .split(',')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .ok_or_else(bad)
    };
    let salt = B64.decode(salt).map_err(|_| bad())?;
    let out = raw_hash(
        password,
        &salt,
        params(cost("m")?, cost("t")?, cost("p")?)?,
        memory,
    )?;
    Ok(constant_time_eq(&B64.encode(out), expected))
}

fn worker(jobs: Arc<std::sync::Mutex<mpsc::Receiver<Job>>>) {
    let mut memory = Vec::new();
    loop {
        let job = match jobs.lock() {
            Ok(mut rx) => rx.blocking_recv(),
            Err(_) => None,
        };
        match job {
            Some(Job::Hash(password, reply)) => {
                let _ = reply.send(hash(&password, &mut memory));
            }
            Some(Job::Verify(password, phc, reply)) => {
                let _ = reply.send(verify(&password, &phc, &mut memory));
            }
            None => return,
        }
    }
}

impl PasswordHasher {
    /// Starts one hashing thread per CPU core (each allocates its buffer on first use).
    pub fn new() -> Result<Self, DomainError> {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let (tx, rx) = mpsc::channel(1024);
        let rx = Arc::new(std::sync::Mutex::new(rx));
        for i in 0..cores {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || worker(rx))
                .map_err(|e| anyhow::anyhow!("cannot start hashing thread: {e}"))?;
        }
        Ok(Self {
            jobs: tx,
            dummy_hash: Arc::default(),
        })
    }

    async fn submit<T>(
        &self,
        job: impl FnOnce(oneshot::Sender<Result<T, DomainError>>) -> Job,
    ) -> Result<T, DomainError> {
        let (reply, rx) = oneshot::channel();
        self.jobs
            .send(job(reply))
            .await
            .map_err(|_| anyhow::anyhow!("hashing threads stopped"))?;
        rx.await
            .map_err(|_| anyhow::anyhow!("hashing thread dropped the job"))?
    }

    /// The PHC string of `password`.
    pub async fn hash(&self, password: &Password) -> Result<String, DomainError> {
        let bytes = password.expose().to_vec();
        self.submit(|r| Job::Hash(bytes, r)).await
    }

    /// Hashes a recovery PIN like a password (Argon2id, PHC string): a 4–8 digit PIN is weak on
    /// its own, so it only ever counts together with an e-mailed reset token, and wrong PINs
    /// are limited per token and per account.
    pub async fn hash_pin(&self, pin: &RecoveryPin) -> Result<String, DomainError> {
        let bytes = pin.expose().as_bytes().to_vec();
        self.submit(|r| Job::Hash(bytes, r)).await
    }

    /// Whether `password` matches `hash`; with `hash = None` verifies against a dummy hash and
    /// returns false, taking the same time.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, DomainError> {
        let known = hash.is_some();
        let phc = match hash {
            Some(hash) => hash.to_owned(),
            None => {
                let random: [u8; 16] = rand::random();
                let dummy = self
                    .dummy_hash
                    .get_or_try_init(|| self.submit(|r| Job::Hash(random.to_vec(), r)))
                    .await?;
                dummy.clone()
            }
        };
        let bytes = password.as_bytes().to_vec();
        let ok = self.submit(|r| Job::Verify(bytes, phc, r)).await?;
        Ok(ok && known)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_match_the_reference_implementation() {
        let mut memory = Vec::new();
        let phc = hash(b"correct horse", &mut memory).expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify(b"correct horse", &phc, &mut memory).expect("verify"));
        assert!(!verify(b"wrong horse", &phc, &mut memory).expect("verify"));
        // The reference PHC implementation (password-hash) accepts our strings.
        use argon2::password_hash::{PasswordVerifier, phc::PasswordHash};
        let parsed = PasswordHash::new(&phc).expect("valid PHC string");
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        assert!(verify(b"x", "$argon2id$garbage", &mut memory).is_err());
    }
}
