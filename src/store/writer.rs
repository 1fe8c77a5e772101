//! The group-commit message writer: one task per database that owns every message insert.
//!
//! Senders queue a [`NewMessage`] and wait for its outcome. The task takes every request that
//! is waiting (up to [`MAX_BATCH`]) and writes them in ONE transaction: for each message it bumps
//! `conversations.last_seq` (`UPDATE … SET last_seq = last_seq + 1 … RETURNING last_seq`), inserts
//! the row with that seq and moves the sender's read position. So a conversation's seq is
//! gap-free and assigned inside the insert's transaction. There is no artificial delay: while
//! one commit (and its fsync) runs, new requests queue up and form the next batch, so batches
//! grow with load and a lone message is written at once.
//!
//! Only after `COMMIT` succeeds are the senders answered and the commit hook (fan-out) called,
//! in seq order. If a batch fails, its messages are retried one per transaction so that one bad
//! message cannot fail the others. On shutdown the queue is closed (new sends get
//! [`DomainError::ShuttingDown`]) and everything already queued is still written and answered.

use std::{collections::HashMap, sync::Arc};

use chrono::Utc;
use entity::{conversations, messages};
use sea_orm::{
    ActiveValue::Set,
    ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, TransactionTrait,
    sea_query::{Expr, ExprTrait, Query},
};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{MessageRow, members};
use crate::domain::DomainError;

/// Largest number of messages committed in one transaction.
pub const MAX_BATCH: usize = 256;
/// Queue length in front of the writer; senders wait (backpressure) when it is full.
const QUEUE: usize = 4096;

/// A message to store.
#[derive(Clone, Debug)]
pub struct NewMessage {
    /// Target conversation (the caller has checked membership).
    pub conversation_id: Uuid,
    /// Author.
    pub sender_id: Uuid,
    /// Author's username, handed to the commit hook.
    pub sender_username: String,
    /// Validated body.
    pub body: String,
    /// Idempotency key: a resend with the same key returns the original message.
    pub client_id: Option<String>,
}

/// Outcome of a write.
#[derive(Clone, Debug)]
pub enum Written {
    /// Stored now.
    Created(MessageRow),
    /// The sender already stored a message with this client_id: the original.
    Duplicate(MessageRow),
}

/// Called after each commit for every created message, in seq order, with the sender's username.
pub type CommitHook = Arc<dyn Fn(&MessageRow, &str) + Send + Sync>;

struct Job {
    message: NewMessage,
    reply: oneshot::Sender<Result<Written, DomainError>>,
}

/// Handle to the writer task. Cheap to clone.
#[derive(Clone)]
pub struct MessageWriter {
    tx: mpsc::Sender<Job>,
}

impl MessageWriter {
    /// Starts the writer task on `db` (SQLite: the single writer connection).
    pub fn spawn(
        db: DatabaseConnection,
        hook: CommitHook,
        shutdown: CancellationToken,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = tokio::spawn(run(db, rx, hook, shutdown));
        (Self { tx }, task)
    }

    /// Queues `message`; the returned handle resolves once it is committed. Messages queued one
    /// after another are committed in that order. Errors: `ShuttingDown` once shutdown began.
    pub async fn enqueue(&self, message: NewMessage) -> Result<Pending, DomainError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job { message, reply })
            .await
            .map_err(|_| DomainError::ShuttingDown)?;
        Ok(Pending(rx))
    }
}

/// A queued message's outcome.
pub struct Pending(oneshot::Receiver<Result<Written, DomainError>>);

impl Pending {
    /// The stored message. Errors: `NotFound` if the conversation vanished, `Conflict`
    /// (`client_id_reused`) when the idempotency key belongs to a different message, `Internal`
    /// on database failure.
    pub async fn outcome(self) -> Result<Written, DomainError> {
        self.0.await.map_err(|_| DomainError::ShuttingDown)?
    }
}

async fn run(
    db: DatabaseConnection,
    mut rx: mpsc::Receiver<Job>,
    hook: CommitHook,
    shutdown: CancellationToken,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut closed = false;
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled(), if !closed => {
                rx.close();
                closed = true;
                continue;
            }
            n = rx.recv_many(&mut batch, MAX_BATCH) => {
                if n == 0 {
                    break;
                }
            }
        }
        let jobs = std::mem::take(&mut batch);
        commit_jobs(&db, jobs, &hook).await;
    }
    tracing::debug!("message writer stopped");
}

async fn commit_jobs(db: &DatabaseConnection, jobs: Vec<Job>, hook: &CommitHook) {
    let messages: Vec<NewMessage> = jobs.iter().map(|j| j.message.clone()).collect();
    match write_batch(db, &messages).await {
        Ok(results) => answer(jobs, results, hook),
        // Failed before COMMIT: nothing of the batch is stored; retry one per transaction so
        // one bad message cannot fail the others.
        Err(BatchError::BeforeCommit(err)) if jobs.len() > 1 => {
            tracing::warn!(error = %err, size = jobs.len(), "batch failed; retrying messages one by one");
            for job in jobs {
                match write_batch(db, std::slice::from_ref(&job.message)).await {
                    Ok(results) => answer(vec![job], results, hook),
                    Err(err) => {
                        let _ = job.reply.send(Err(err.into()));
                    }
                }
            }
        }
        // A failed COMMIT may still have been applied by the server (connection lost while
        // committing): never write again blindly. Senders get an error and resend with their
        // client_id, which resolves to the stored original if it did commit.
        Err(err) => {
            let err = err.to_string();
            for job in jobs {
                let _ = job
                    .reply
                    .send(Err(DomainError::Internal(anyhow::anyhow!("{err}"))));
            }
        }
    }
}

/// Where a batch failed.
#[derive(Debug, thiserror::Error)]
enum BatchError {
    /// Before `COMMIT`: rolled back, nothing stored.
    #[error("{0}")]
    BeforeCommit(DbErr),
    /// During `COMMIT`: the outcome is unknown.
    #[error("commit failed: {0}")]
    Commit(DbErr),
}

impl From<DbErr> for BatchError {
    fn from(err: DbErr) -> Self {
        Self::BeforeCommit(err)
    }
}

impl From<BatchError> for DomainError {
    fn from(err: BatchError) -> Self {
        DomainError::Internal(anyhow::anyhow!("{err}"))
    }
}

fn answer(jobs: Vec<Job>, results: Vec<Result<Written, DomainError>>, hook: &CommitHook) {
    for (job, result) in jobs.into_iter().zip(results) {
        if let Ok(Written::Created(row)) = &result {
            hook(row, &job.message.sender_username);
        }
        let _ = job.reply.send(result);
    }
}

/// Writes `messages` in one transaction. The outer error aborts the whole batch; the inner
/// per-message error (conversation gone) does not.
async fn write_batch(
    db: &DatabaseConnection,
    messages: &[NewMessage],
) -> Result<Vec<Result<Written, DomainError>>, BatchError> {
    let txn = db.begin().await?;
    let now = Utc::now();
    let mut out = Vec::with_capacity(messages.len());
    let mut in_batch: HashMap<(Uuid, &str), MessageRow> = HashMap::new();
    for m in messages {
        if let Some(cid) = m.client_id.as_deref() {
            let original = match in_batch.get(&(m.sender_id, cid)) {
                Some(row) => Some(row.clone()),
                None => super::messages::by_client_id(&txn, m.sender_id, cid).await?,
            };
            if let Some(original) = original {
                out.push(
                    if original.conversation_id == m.conversation_id && original.body == m.body {
                        Ok(Written::Duplicate(original))
                    } else {
                        Err(DomainError::conflict(
                            "client_id_reused",
                            "this client_id was already used for another message",
                        ))
                    },
                );
                continue;
            }
        }
        let Some(seq) = next_seq(&txn, m.conversation_id).await? else {
            out.push(Err(DomainError::NotFound("conversation")));
            continue;
        };
        let row = MessageRow {
            id: Uuid::now_v7(),
            conversation_id: m.conversation_id,
            seq,
            sender_id: m.sender_id,
            body: m.body.clone(),
            client_id: m.client_id.clone(),
            created_at: now,
            edited_at: None,
            deleted_at: None,
        };
        messages::Entity::insert(active(&row)).exec(&txn).await?;
        members::mark_read(&txn, m.conversation_id, m.sender_id, seq)
            .await
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        if let Some(cid) = m.client_id.as_deref() {
            in_batch.insert((m.sender_id, cid), row.clone());
        }
        out.push(Ok(Written::Created(row)));
    }
    txn.commit().await.map_err(BatchError::Commit)?;
    Ok(out)
}

/// Bumps and returns the conversation's sequence number; `None` if it does not exist.
async fn next_seq(db: &impl ConnectionTrait, conversation: Uuid) -> Result<Option<i64>, DbErr> {
    let stmt = Query::update()
        .table(conversations::Entity)
        .value(
            conversations::Column::LastSeq,
            Expr::col(conversations::Column::LastSeq).add(1),
        )
        .and_where(Expr::col(conversations::Column::Id).eq(conversation))
        .returning_col(conversations::Column::LastSeq)
        .to_owned();
    match db.query_one(&stmt).await? {
        Some(row) => Ok(Some(row.try_get_by_index::<i64>(0)?)),
        None => Ok(None),
    }
}

fn active(row: &MessageRow) -> messages::ActiveModel {
    messages::ActiveModel {
        id: Set(row.id),
        conversation_id: Set(row.conversation_id),
        seq: Set(row.seq),
        sender_id: Set(row.sender_id),
        body: Set(row.body.clone()),
        client_id: Set(row.client_id.clone()),
        created_at: Set(row.created_at),
        edited_at: Set(None),
        deleted_at: Set(None),
    }
}
