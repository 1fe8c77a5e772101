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
//! The seq bump is also the authoritative membership check: the `UPDATE` only matches while the
//! sender is a joined, unmuted member (`AND EXISTS (… conversation_members … state = 'joined'
//! AND (muted_until IS NULL OR muted_until <= now))`), inside
//! the insert's transaction. Callers may therefore authorize from a cache: a membership that
//! ended a moment ago cannot slip a message in.
//!
//! Only after `COMMIT` succeeds are the senders answered and the committed messages handed, in
//! seq order, to the [`Committed`] stream (the message service publishes them as domain events).
//! If a batch fails, its messages are retried one per transaction so that one bad message cannot
//! fail the others. On shutdown the queue is closed (new sends get [`DomainError::ShuttingDown`])
//! and everything already queued is still written and answered.

use std::collections::HashMap;

use chrono::Utc;
use entity::{conversation_members, conversations, messages};
use sea_orm::{
    ActiveValue::Set,
    ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, TransactionTrait,
    sea_query::{Expr, ExprTrait, Query},
};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::{members, messages::MessageRecord};
use crate::domain::{ConversationId, DomainError, ErrorCode, MembershipState, MessageId, UserId};

/// Largest number of messages committed in one transaction.
pub const MAX_BATCH: usize = 256;
/// Queue length in front of the writer; senders wait (backpressure) when it is full.
const QUEUE: usize = 4096;
/// Committed batches waiting for their publisher; the writer waits when it is full.
const COMMITTED_QUEUE: usize = 1024;

/// A message to store.
#[derive(Clone, Debug)]
pub struct NewMessage {
    /// Target conversation.
    pub conversation_id: ConversationId,
    /// Author (must be a joined member at commit time).
    pub sender_id: UserId,
    /// Author's username, handed on with the committed message.
    pub sender_username: String,
    /// Validated body.
    pub body: String,
    /// Idempotency key: a resend with the same key returns the original message.
    pub client_id: Option<String>,
    /// The sender is shadowbanned: stored, shown to the sender (and moderators) only.
    pub shadowed: bool,
}

/// Outcome of a write.
#[derive(Clone, Debug)]
pub enum Written {
    /// Stored now.
    Created(MessageRecord),
    /// The sender already stored a message with this client_id: the original.
    Duplicate(MessageRecord),
    /// Not stored: at commit time the sender was not a joined member, or the conversation was gone.
    NotMember,
}

/// A message that was committed, with its author's username: what the writer hands on, in seq
/// order, after each commit.
#[derive(Clone, Debug)]
pub struct Committed {
    /// The stored message.
    pub record: MessageRecord,
    /// The author's username at send time.
    pub sender_username: String,
}

/// Batches of committed messages, in commit (and so seq) order.
pub type CommittedStream = mpsc::Receiver<Vec<Committed>>;

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
    /// Starts the writer task on `db` (SQLite: the single writer connection). Returns the
    /// handle, the stream of committed messages (read it, or the writer stalls once it is full),
    /// and the task.
    pub fn spawn(
        db: DatabaseConnection,
        shutdown: CancellationToken,
    ) -> (Self, CommittedStream, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let (committed_tx, committed_rx) = mpsc::channel(COMMITTED_QUEUE);
        let task = tokio::spawn(run(db, rx, committed_tx, shutdown));
        (Self { tx }, committed_rx, task)
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
    committed: mpsc::Sender<Vec<Committed>>,
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
        if batch.len() < MAX_BATCH {
            // Let the sessions that are about to queue a message (their frames already read)
            // run first: one scheduler turn, no timer, so a lone message still goes at once.
            tokio::task::yield_now().await;
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
        }
        let jobs = std::mem::take(&mut batch);
        commit_jobs(&db, jobs, &committed).await;
    }
    tracing::debug!("message writer stopped");
}

async fn commit_jobs(
    db: &DatabaseConnection,
    jobs: Vec<Job>,
    committed: &mpsc::Sender<Vec<Committed>>,
) {
    let messages: Vec<&NewMessage> = jobs.iter().map(|j| &j.message).collect();
    match write_batch(db, &messages).await {
        Ok(results) => answer(jobs, results, committed).await,
        // Failed before COMMIT: nothing of the batch is stored; retry one per transaction so
        // one bad message cannot fail the others.
        Err(BatchError::BeforeCommit(err)) if jobs.len() > 1 => {
            tracing::warn!(error = %err, size = jobs.len(), "batch failed; retrying messages one by one");
            for job in jobs {
                match write_batch(db, &[&job.message]).await {
                    Ok(results) => answer(vec![job], results, committed).await,
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

/// Answers each sender and hands the created messages on, in seq order.
async fn answer(
    jobs: Vec<Job>,
    results: Vec<Result<Written, DomainError>>,
    committed: &mpsc::Sender<Vec<Committed>>,
) {
    let mut created = Vec::with_capacity(jobs.len());
    for (job, result) in jobs.into_iter().zip(results) {
        if let Ok(Written::Created(record)) = &result {
            created.push(Committed {
                record: record.clone(),
                sender_username: job.message.sender_username.clone(),
            });
        }
        let _ = job.reply.send(result);
    }
    if !created.is_empty() && committed.send(created).await.is_err() {
        tracing::warn!("nobody publishes committed messages");
    }
}

/// Writes `messages` in one transaction. The outer error aborts the whole batch; the inner
/// per-message error (conversation gone) does not.
///
/// Statements per batch of N: one lookup of every idempotency key in the batch, then per message
/// the seq bump (with the membership check) and the insert, then one read-position update per
/// (sender, conversation): 2N + 2 or so, instead of 4N.
async fn write_batch(
    db: &DatabaseConnection,
    messages: &[&NewMessage],
) -> Result<Vec<Result<Written, DomainError>>, BatchError> {
    let txn = db.begin().await?;
    let now = Utc::now();
    let mut out = Vec::with_capacity(messages.len());
    let keys: Vec<(UserId, &str)> = messages
        .iter()
        .filter_map(|m| m.client_id.as_deref().map(|cid| (m.sender_id, cid)))
        .collect();
    let mut known: HashMap<(UserId, String), MessageRecord> =
        super::messages::by_client_ids(&txn, &keys)
            .await?
            .into_iter()
            .filter_map(|r| r.client_id.clone().map(|cid| ((r.sender_id, cid), r)))
            .collect();
    let mut read_up_to: HashMap<(ConversationId, UserId), i64> = HashMap::new();
    for m in messages {
        if let Some(cid) = m.client_id.as_deref()
            && let Some(original) = known.get(&(m.sender_id, cid.to_owned()))
        {
            out.push(
                if original.conversation_id == m.conversation_id && original.body == m.body {
                    Ok(Written::Duplicate(original.clone()))
                } else {
                    Err(DomainError::conflict(
                        ErrorCode::ClientIdReused,
                        "this client_id was already used for another message",
                    ))
                },
            );
            continue;
        }
        let Some(seq) = next_seq(&txn, m.conversation_id, m.sender_id, now).await? else {
            out.push(Ok(Written::NotMember));
            continue;
        };
        let row = MessageRecord {
            id: MessageId::new(),
            conversation_id: m.conversation_id,
            seq,
            sender_id: m.sender_id,
            body: m.body.clone(),
            client_id: m.client_id.clone(),
            created_at: now,
            edited_at: None,
            shadowed: m.shadowed,
            deleted_at: None,
        };
        messages::Entity::insert(active(&row)).exec(&txn).await?;
        read_up_to.insert((m.conversation_id, m.sender_id), seq);
        if let Some(cid) = m.client_id.as_deref() {
            known.insert((m.sender_id, cid.to_owned()), row.clone());
        }
        out.push(Ok(Written::Created(row)));
    }
    // A sender has read what they sent: one update per (sender, conversation), to the last seq.
    for ((conversation, sender), seq) in read_up_to {
        members::mark_read(&txn, conversation, sender, seq)
            .await
            .map_err(|e| DbErr::Custom(e.to_string()))?;
    }
    txn.commit().await.map_err(BatchError::Commit)?;
    Ok(out)
}

/// Bumps and returns the conversation's sequence number, if `sender` is a joined member of it
/// who is not muted at `now`; `None` when the conversation does not exist or the sender is not
/// (or no longer) a member, or was muted meanwhile.
async fn next_seq(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    sender: UserId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<i64>, DbErr> {
    use conversation_members::Column as M;
    let membership = Query::select()
        .expr(Expr::val(1))
        .from(conversation_members::Entity)
        .and_where(Expr::col(M::ConversationId).eq(conversation.0))
        .and_where(Expr::col(M::UserId).eq(sender.0))
        .and_where(Expr::col(M::State).eq(MembershipState::Joined.as_str()))
        .and_where(
            Expr::col(M::MutedUntil)
                .is_null()
                .or(Expr::col(M::MutedUntil).lte(now)),
        )
        .to_owned();
    let stmt = Query::update()
        .table(conversations::Entity)
        .value(
            conversations::Column::LastSeq,
            Expr::col(conversations::Column::LastSeq).add(1),
        )
        .and_where(Expr::col(conversations::Column::Id).eq(conversation.0))
        .and_where(Expr::exists(membership))
        .returning_col(conversations::Column::LastSeq)
        .to_owned();
    match db.query_one(&stmt).await? {
        Some(row) => Ok(Some(row.try_get_by_index::<i64>(0)?)),
        None => Ok(None),
    }
}

fn active(row: &MessageRecord) -> messages::ActiveModel {
    messages::ActiveModel {
        id: Set(row.id.0),
        conversation_id: Set(row.conversation_id.0),
        seq: Set(row.seq),
        sender_id: Set(row.sender_id.0),
        body: Set(row.body.clone()),
        client_id: Set(row.client_id.clone()),
        created_at: Set(row.created_at),
        edited_at: Set(None),
        deleted_at: Set(None),
        shadowed: Set(row.shadowed),
    }
}
