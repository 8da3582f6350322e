//! `resetBulk` jobs: queued durably by the call, run after the configured delay by a task, and
//! resumed after a restart from the database.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use slack_sessions_api::Method;
use slack_sessions_api::methods::ResetBulk;
use tokio::task::JoinSet;

use crate::clock::now_ms;
use crate::store::{AuditEntry, Change, Changes, Job, Store, StoreError};

/// Runs queued jobs in the background; its tasks end with the emulator.
#[derive(Debug)]
pub struct Scheduler {
    store: Arc<Store>,
    tasks: Mutex<JoinSet<()>>,
}

impl Scheduler {
    /// A scheduler for `store`'s jobs.
    pub fn new(store: Arc<Store>) -> Self {
        Scheduler {
            store,
            tasks: Mutex::new(JoinSet::new()),
        }
    }

    /// Runs `job` when it is due, in the background.
    pub fn schedule(&self, job: Job) {
        let store = Arc::clone(&self.store);
        let mut tasks = self.tasks.lock();
        while tasks.try_join_next().is_some() {} // forget finished ones
        tasks.spawn(async move {
            let wait = job.due_ms.saturating_sub(now_ms());
            tokio::time::sleep(Duration::from_millis(wait)).await;
            let mut backoff = Duration::from_millis(50);
            // A job stays queued in the database until it has run; keep trying on storage errors.
            while let Err(err) = run(&store, job.id) {
                tracing::warn!(%err, job = job.id, "resetBulk job failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        });
    }

    /// Schedules every job still queued in the store (after a restart).
    pub fn resume(&self) {
        let pending: Vec<Job> = self.store.read(|v| v.jobs().cloned().collect());
        if !pending.is_empty() {
            tracing::info!(count = pending.len(), "resuming queued resetBulk jobs");
        }
        for job in pending {
            self.schedule(job);
        }
    }

    /// Stops every waiting job (they stay queued in the database for the next start), without
    /// waiting for their tasks to be gone.
    pub fn abort(&self) {
        self.tasks.lock().abort_all();
    }

    /// Stops every waiting job and waits until their tasks, and so their handles on the store,
    /// are gone.
    pub async fn stop(&self) {
        let mut tasks = std::mem::take(&mut *self.tasks.lock());
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
}

/// Runs a job now: its users' sessions end and the job is finished, in one transaction.
/// A job that is no longer queued (finished, or dropped by a reset) is left alone.
pub fn run(store: &Store, id: u64) -> Result<(), StoreError> {
    store.write(|view| {
        let Some(job) = view.job(id) else {
            return Ok(Changes::nothing(()));
        };
        let Some(org) = view.org_by_id(&job.org_id) else {
            let mut finish = Changes::nothing(());
            finish.changes.push(Change::FinishJob(id));
            return Ok(finish);
        };
        let ids = org.sessions_to_reset(&job.user_ids, job.mobile_only, job.web_only);
        Ok(Changes {
            value: (),
            changes: vec![
                Change::RemoveSessions {
                    org: org.key(),
                    ids: ids.clone(),
                },
                Change::FinishJob(id),
            ],
            audit: Some(AuditEntry::now(
                org.id(),
                "emulator",
                &format!("{} (job {id})", ResetBulk::NAME),
                job.user_ids.clone(),
                ids,
            )),
            audit_logs: Vec::new(),
        })
    })
}
