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

use chrono::{DateTime, Utc};
use entity::{conversation_members, conversations, messages};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    TransactionTrait,
    sea_query::{Expr, ExprTrait, Query},
};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::{members, messages::MessageRecord};
use crate::domain::{
    ConversationId, DomainError, ErrorCode, MAX_EMOJIS_PER_MESSAGE, MembershipState, MessageId,
    NewAuditEntry, UserId,
};

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
    /// The message this one replies to (checked at commit: a message of the same conversation
    /// after its cleared history, else 422 `invalid_reply`).
    pub reply_to_seq: Option<i64>,
    /// Resolved mentions (user, username).
    pub mentions: Vec<(UserId, String)>,
}

/// A change to a stored message, applied in the same ordered path as sends.
#[derive(Clone, Debug)]
pub struct MessageChange {
    /// Where.
    pub conversation_id: ConversationId,
    /// Which message.
    pub seq: i64,
    /// Who changes it.
    pub actor: UserId,
    /// Whether `actor` must be a joined member at commit time (false for a moderator acting
    /// without membership, e.g. a holder of `rooms.moderate`).
    pub member_required: bool,
    /// What changes.
    pub kind: ChangeKind,
}

/// What a [`MessageChange`] does. Every kind bumps the conversation's change sequence and stamps
/// the message with it, unless nothing changes (a repeated reaction, unpinning an unpinned
/// message, deleting a deleted one): then the message is returned as it is.
#[derive(Clone, Debug)]
pub enum ChangeKind {
    /// Replace the text (author only, not deleted, within `window_secs` of sending; 0 = no limit).
    Edit {
        /// The new, validated text.
        body: String,
        /// Its resolved mentions.
        mentions: Vec<(UserId, String)>,
        /// The edit window in seconds (0 = none).
        window_secs: u64,
    },
    /// Delete: the text, mentions, reactions and pin are erased. `by_moderator` allows others'
    /// messages; `audit` is written in the same transaction, with the old text added to its
    /// details as `body`, when the message was someone else's (a moderator deletion).
    Delete {
        /// The actor may delete others' messages here.
        by_moderator: bool,
        /// The audit entry to write (the writer adds `body`).
        audit: Option<NewAuditEntry>,
    },
    /// Add (`add`) or remove a reaction of the actor.
    React {
        /// The validated emoji.
        emoji: String,
        /// Add (true) or remove.
        add: bool,
    },
    /// Pin (`pin`) or unpin (authorized by the caller).
    Pin {
        /// Pin (true) or unpin.
        pin: bool,
    },
}

/// A message request for the writer.
#[derive(Clone, Debug)]
pub enum Request {
    /// Store a new message.
    Send(NewMessage),
    /// Change a stored message.
    Change(MessageChange),
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
    /// A change was applied (or changed nothing): the message now.
    Changed(MessageRecord),
}

/// What the writer hands on after each commit, in commit order (so in seq and change_seq order
/// per conversation).
#[derive(Clone, Debug)]
pub enum Committed {
    /// A new message, with its author's username at send time.
    Created {
        /// The stored message.
        record: MessageRecord,
        /// The author's username.
        sender_username: String,
    },
    /// A message was edited, reacted to, pinned or unpinned.
    Updated {
        /// The message now.
        record: MessageRecord,
    },
    /// A message was deleted.
    Deleted {
        /// The message now (empty body).
        record: MessageRecord,
        /// Who deleted it.
        by: UserId,
    },
}

/// Batches of committed messages, in commit (and so seq) order.
pub type CommittedStream = mpsc::Receiver<Vec<Committed>>;

struct Job {
    request: Request,
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
        self.submit(Request::Send(message)).await
    }

    /// Queues a change of a stored message, in order with sends. Errors: `ShuttingDown`.
    pub async fn change(&self, change: MessageChange) -> Result<Pending, DomainError> {
        self.submit(Request::Change(change)).await
    }

    async fn submit(&self, request: Request) -> Result<Pending, DomainError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job { request, reply })
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
    let requests: Vec<&Request> = jobs.iter().map(|j| &j.request).collect();
    match write_batch(db, &requests).await {
        Ok(results) => answer(jobs, results, committed).await,
        // Failed before COMMIT: nothing of the batch is stored; retry one per transaction so
        // one bad message cannot fail the others.
        Err(BatchError::BeforeCommit(err)) if jobs.len() > 1 => {
            tracing::warn!(error = %err, size = jobs.len(), "batch failed; retrying messages one by one");
            for job in jobs {
                match write_batch(db, &[&job.request]).await {
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
async fn answer(jobs: Vec<Job>, results: Vec<Outcome>, committed: &mpsc::Sender<Vec<Committed>>) {
    let mut created = Vec::with_capacity(jobs.len());
    for (job, (result, changed)) in jobs.into_iter().zip(results) {
        match (&result, &job.request) {
            (Ok(Written::Created(record)), Request::Send(m)) => created.push(Committed::Created {
                record: record.clone(),
                sender_username: m.sender_username.clone(),
            }),
            (Ok(Written::Changed(record)), Request::Change(c)) if changed => {
                created.push(if matches!(c.kind, ChangeKind::Delete { .. }) {
                    Committed::Deleted {
                        record: record.clone(),
                        by: c.actor,
                    }
                } else {
                    Committed::Updated {
                        record: record.clone(),
                    }
                })
            }
            _ => {}
        }
        let _ = job.reply.send(result);
    }
    if !created.is_empty() && committed.send(created).await.is_err() {
        tracing::warn!("nobody publishes committed messages");
    }
}

/// One request's result, and whether it changed a stored message (to publish).
type Outcome = (Result<Written, DomainError>, bool);

/// Writes `requests` in one transaction. The outer error aborts the whole batch; the inner
/// per-request error (conversation gone, a refused change) does not: requests are validated
/// before they write anything.
///
/// Statements per batch of N sends: one lookup of every idempotency key in the batch, then per
/// message the seq bump (with the membership check) and the insert, then one read-position
/// update per (sender, conversation): 2N + 2 or so, instead of 4N. A change costs a few reads
/// (the message, the conversation's cleared floor, the membership) and two writes.
async fn write_batch(
    db: &DatabaseConnection,
    requests: &[&Request],
) -> Result<Vec<Outcome>, BatchError> {
    let txn = db.begin().await?;
    let now = Utc::now();
    let mut out = Vec::with_capacity(requests.len());
    let keys: Vec<(UserId, &str)> = requests
        .iter()
        .filter_map(|r| match r {
            Request::Send(m) => m.client_id.as_deref().map(|cid| (m.sender_id, cid)),
            Request::Change(_) => None,
        })
        .collect();
    let mut known: HashMap<(UserId, String), MessageRecord> =
        super::messages::by_client_ids(&txn, &keys)
            .await?
            .into_iter()
            .filter_map(|r| r.client_id.clone().map(|cid| ((r.sender_id, cid), r)))
            .collect();
    let mut read_up_to: HashMap<(ConversationId, UserId), i64> = HashMap::new();
    for request in requests {
        let m = match request {
            Request::Send(m) => m,
            Request::Change(c) => {
                out.push(match apply_change(&txn, c, now).await? {
                    Ok((record, changed)) => (Ok(Written::Changed(record)), changed),
                    Err(err) => (Err(err), false),
                });
                continue;
            }
        };
        if let Some(cid) = m.client_id.as_deref()
            && let Some(original) = known.get(&(m.sender_id, cid.to_owned()))
        {
            out.push((
                if original.conversation_id == m.conversation_id && original.body == m.body {
                    Ok(Written::Duplicate(original.clone()))
                } else {
                    Err(DomainError::conflict(
                        ErrorCode::ClientIdReused,
                        "this client_id was already used for another message",
                    ))
                },
                false,
            ));
            continue;
        }
        if let Some(quoted) = m.reply_to_seq
            && !quotable(&txn, m.conversation_id, quoted, m.sender_id).await?
        {
            out.push((
                Err(DomainError::invalid(
                    ErrorCode::InvalidReply,
                    "reply_to_seq names no message of this conversation",
                )),
                false,
            ));
            continue;
        }
        let Some((seq, change_seq)) = next_seq(&txn, m.conversation_id, m.sender_id, now).await?
        else {
            out.push((Ok(Written::NotMember), false));
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
            change_seq,
            reply_to_seq: m.reply_to_seq,
            mentions: m.mentions.clone(),
            pinned: None,
        };
        messages::Entity::insert(active(&row)).exec(&txn).await?;
        read_up_to.insert((m.conversation_id, m.sender_id), seq);
        if let Some(cid) = m.client_id.as_deref() {
            known.insert((m.sender_id, cid.to_owned()), row.clone());
        }
        out.push((Ok(Written::Created(row)), true));
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

/// Whether message `seq` of `conversation` may be replied to by `sender`: it exists after the
/// cleared history and is not someone else's shadowed message.
async fn quotable(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    seq: i64,
    sender: UserId,
) -> Result<bool, DbErr> {
    let floor = cleared_seq(db, conversation).await?.unwrap_or(i64::MAX);
    let row = messages::Entity::find()
        .filter(messages::Column::ConversationId.eq(conversation.0))
        .filter(messages::Column::Seq.eq(seq))
        .one(db)
        .await?;
    Ok(row.is_some_and(|r| r.seq > floor && (!r.shadowed || r.sender_id == sender.0)))
}

async fn cleared_seq(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
) -> Result<Option<i64>, DbErr> {
    Ok(conversations::Entity::find_by_id(conversation.0)
        .one(db)
        .await?
        .map(|c| c.cleared_seq))
}

/// Validates and applies one change. The outer error is a database failure (the batch fails);
/// the inner one refuses this change only, before anything was written. `Ok((record, changed))`.
async fn apply_change(
    db: &impl ConnectionTrait,
    c: &MessageChange,
    now: DateTime<Utc>,
) -> Result<Result<(MessageRecord, bool), DomainError>, DbErr> {
    let not_found = || Err(DomainError::NotFound("message"));
    let Some(floor) = cleared_seq(db, c.conversation_id).await? else {
        return Ok(Err(DomainError::NotFound("conversation")));
    };
    let Some(row) = messages::Entity::find()
        .filter(messages::Column::ConversationId.eq(c.conversation_id.0))
        .filter(messages::Column::Seq.eq(c.seq))
        .one(db)
        .await?
    else {
        return Ok(not_found());
    };
    let mut record = MessageRecord::from(row);
    let own = record.sender_id == c.actor;
    // Others' shadowed messages do not exist for anyone but a moderator deleting them.
    let moderator = matches!(
        c.kind,
        ChangeKind::Delete {
            by_moderator: true,
            ..
        }
    );
    if record.seq <= floor || (record.shadowed && !own && !moderator) {
        return Ok(not_found());
    }
    if c.member_required && !is_joined(db, c.conversation_id, c.actor).await? {
        return Ok(Err(DomainError::forbidden(
            ErrorCode::NotAMember,
            "you are not a member of this conversation",
        )));
    }
    let deleted = record.deleted_at.is_some();
    let refuse_deleted = || {
        Err(DomainError::conflict(
            ErrorCode::MessageDeleted,
            "this message was deleted",
        ))
    };
    let mut update = messages::Entity::update_many()
        .filter(messages::Column::Id.eq(record.id.0))
        .to_owned();
    match &c.kind {
        ChangeKind::Edit {
            body,
            mentions,
            window_secs,
        } => {
            if !own {
                return Ok(Err(DomainError::forbidden(
                    ErrorCode::NotYourMessage,
                    "only its author may edit a message",
                )));
            }
            if deleted {
                return Ok(refuse_deleted());
            }
            if *window_secs > 0
                && now.signed_duration_since(record.created_at).num_seconds() > *window_secs as i64
            {
                return Ok(Err(DomainError::forbidden(
                    ErrorCode::EditWindowClosed,
                    format!("messages can be edited for {window_secs} seconds after sending"),
                )));
            }
            if record.body == *body {
                return Ok(Ok((record, false)));
            }
            update = update
                .col_expr(messages::Column::Body, Expr::value(body.clone()))
                .col_expr(
                    messages::Column::Mentions,
                    Expr::value(super::messages::encode_mentions(mentions)),
                )
                .col_expr(messages::Column::EditedAt, Expr::value(Some(now)))
                .to_owned();
            record.body = body.clone();
            record.mentions = mentions.clone();
            record.edited_at = Some(now);
        }
        ChangeKind::Delete {
            by_moderator,
            audit,
        } => {
            if !own && !by_moderator {
                return Ok(Err(DomainError::forbidden(
                    ErrorCode::PermissionDenied,
                    "you can only delete your own messages here",
                )));
            }
            if deleted {
                return Ok(Ok((record, false)));
            }
            if let Some(entry) = audit.as_ref().filter(|_| !own) {
                let mut entry = entry.clone();
                if let Some(details) = entry.details.as_object_mut() {
                    details.insert("body".into(), record.body.clone().into());
                    details.insert("sender_id".into(), record.sender_id.to_string().into());
                    details.insert("message_id".into(), record.id.to_string().into());
                }
                super::audit::insert(db, &entry, now)
                    .await
                    .map_err(|e| DbErr::Custom(e.to_string()))?;
            }
            super::reactions::clear(db, record.id).await?;
            update = update
                .col_expr(messages::Column::Body, Expr::value(""))
                .col_expr(
                    messages::Column::Mentions,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(messages::Column::DeletedAt, Expr::value(Some(now)))
                .col_expr(
                    messages::Column::PinnedAt,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .col_expr(
                    messages::Column::PinnedBy,
                    Expr::value(Option::<uuid::Uuid>::None),
                )
                .to_owned();
            record.body.clear();
            record.mentions.clear();
            record.deleted_at = Some(now);
            record.pinned = None;
        }
        ChangeKind::React { emoji, add } => {
            if deleted {
                return Ok(refuse_deleted());
            }
            let changed = if *add {
                let present = super::reactions::emojis_of(db, record.id).await?;
                if !present.contains(emoji) && present.len() >= MAX_EMOJIS_PER_MESSAGE {
                    return Ok(Err(DomainError::conflict(
                        ErrorCode::TooManyReactions,
                        format!(
                            "a message carries at most {MAX_EMOJIS_PER_MESSAGE} different emojis"
                        ),
                    )));
                }
                super::reactions::add(db, record.id, emoji, c.actor, now).await?
            } else {
                super::reactions::remove(db, record.id, emoji, c.actor).await?
            };
            if !changed {
                return Ok(Ok((record, false)));
            }
        }
        ChangeKind::Pin { pin } => {
            if deleted {
                return Ok(refuse_deleted());
            }
            if record.pinned.is_some() == *pin {
                return Ok(Ok((record, false)));
            }
            let value = pin.then_some((now, c.actor));
            update = update
                .col_expr(messages::Column::PinnedAt, Expr::value(value.map(|v| v.0)))
                .col_expr(
                    messages::Column::PinnedBy,
                    Expr::value(value.map(|v| v.1.0)),
                )
                .to_owned();
            record.pinned = value;
        }
    }
    let change_seq = next_change(db, c.conversation_id).await?;
    update
        .col_expr(messages::Column::ChangeSeq, Expr::value(change_seq))
        .exec(db)
        .await?;
    record.change_seq = change_seq;
    Ok(Ok((record, true)))
}

async fn is_joined(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    user: UserId,
) -> Result<bool, DbErr> {
    use conversation_members::Column as M;
    Ok(conversation_members::Entity::find()
        .filter(M::ConversationId.eq(conversation.0))
        .filter(M::UserId.eq(user.0))
        .filter(M::State.eq(MembershipState::Joined.as_str()))
        .one(db)
        .await?
        .is_some())
}

/// Bumps and returns the conversation's change sequence.
async fn next_change(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
) -> Result<i64, DbErr> {
    let stmt = Query::update()
        .table(conversations::Entity)
        .value(
            conversations::Column::LastChange,
            Expr::col(conversations::Column::LastChange).add(1),
        )
        .and_where(Expr::col(conversations::Column::Id).eq(conversation.0))
        .returning_col(conversations::Column::LastChange)
        .to_owned();
    match db.query_one(&stmt).await? {
        Some(row) => row.try_get_by_index::<i64>(0),
        None => Err(DbErr::RecordNotFound("conversation".into())),
    }
}

/// Bumps and returns the conversation's sequence number and change sequence, if `sender` is a
/// joined member of it who is not muted at `now`; `None` when the conversation does not exist or the sender is not
/// (or no longer) a member, or was muted meanwhile.
async fn next_seq(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    sender: UserId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<(i64, i64)>, DbErr> {
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
        .value(
            conversations::Column::LastChange,
            Expr::col(conversations::Column::LastChange).add(1),
        )
        .and_where(Expr::col(conversations::Column::Id).eq(conversation.0))
        .and_where(Expr::exists(membership))
        .returning(Query::returning().columns([
            conversations::Column::LastSeq,
            conversations::Column::LastChange,
        ]))
        .to_owned();
    match db.query_one(&stmt).await? {
        Some(row) => Ok(Some((
            row.try_get_by_index::<i64>(0)?,
            row.try_get_by_index::<i64>(1)?,
        ))),
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
        change_seq: Set(row.change_seq),
        reply_to_seq: Set(row.reply_to_seq),
        mentions: Set(super::messages::encode_mentions(&row.mentions)),
        pinned_at: Set(None),
        pinned_by: Set(None),
    }
}
