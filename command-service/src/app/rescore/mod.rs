//! Rescoring whole accounts in the background: `rescore_jobs` rows, each split when it starts
//! into parts (ranges of lead ids, `rescore_parts`) worked through in batches. A batch scores
//! its leads with the account's current rules, appends a `LeadScored` event for each changed
//! score and moves its part's cursor and the job's counts — one transaction, so a crash resumes
//! at the last committed batch and never scores twice. Parts are locked per batch (`SKIP
//! LOCKED`): the workers of one process and of every replica share one job, never a batch.

mod batch;
mod worker;

pub use batch::{rescore_batch, BatchOutcome};
pub use worker::{run, step, wake_workers, RescorePlan};
