//! Password hashing with argon2id (the crate's defaults: 19 MiB, t=2, p=1). CPU- and
//! memory-heavy: [`Hashing`] runs hashes on blocking threads, at most N at once (the rest
//! queue), so a burst of logins cannot take the process's memory with it.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::Semaphore;

pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The bound on password hashes computed at once (`PASSWORD_HASH_CONCURRENCY`, default the
/// number of cores). Clones share the bound.
#[derive(Clone)]
pub struct Hashing {
    permits: Arc<Semaphore>,
    bound: usize,
    in_flight: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl fmt::Debug for Hashing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hashing")
            .field("bound", &self.bound)
            .finish()
    }
}

impl Hashing {
    pub fn new(bound: usize) -> Self {
        let bound = bound.max(1);
        Self {
            permits: Arc::new(Semaphore::new(bound)),
            bound,
            in_flight: Arc::default(),
            peak: Arc::default(),
        }
    }

    /// One hash at a time per core.
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, usize::from))
    }

    pub fn bound(&self) -> usize {
        self.bound
    }

    /// The most hashes that have ever run at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    pub async fn hash(&self, password: String) -> Option<String> {
        self.run(move || hash_password(&password).ok())
            .await
            .flatten()
    }

    pub async fn verify(&self, password: String, phc: String) -> bool {
        self.run(move || verify_password(&password, &phc))
            .await
            .unwrap_or(false)
    }

    /// Runs `work` on a blocking thread once a permit is free. The permit moves into the
    /// thread, so a caller that goes away does not free its slot before the work ends.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let permit = self.permits.clone().acquire_owned().await.ok()?;
        let (in_flight, peak) = (self.in_flight.clone(), self.peak.clone());
        tokio::task::spawn_blocking(move || {
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            let out = work();
            in_flight.fetch_sub(1, Ordering::SeqCst);
            drop(permit);
            out
        })
        .await
        .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_argon2id_hash_only() {
        let phc = hash_password("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &phc));
        assert!(!verify_password("wrong horse", &phc));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_hashes_run_at_once_than_the_bound() {
        let hashing = Hashing::new(2);
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let h = hashing.clone();
                tokio::spawn(async move {
                    h.run(|| std::thread::sleep(std::time::Duration::from_millis(10)))
                        .await
                })
            })
            .collect();
        for t in tasks {
            assert!(t.await.unwrap().is_some());
        }
        assert_eq!(hashing.peak(), 2);
    }
}
