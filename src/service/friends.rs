//! Friends: requests by username, accepting, declining, cancelling and removing, and the social
//! graph the presence audiences are built from ([`FriendService::graph`]).
//!
//! A pair of users has at most one row (`friendships`, see `store::friends`): `pending` while the
//! requester waits, `accepted` once they are friends. A request to someone who blocked me
//! answers exactly like a stored request and stores nothing, so a block is never revealed.

use std::collections::HashSet;

use super::{
    access::Access,
    limits::{Limit, RateLimits},
    uow::UnitOfWork,
};
use crate::{
    domain::{
        Actor, BlockSide, DomainError, ErrorCode, Friend, FriendList, FriendRequest,
        FriendRequestEndReason, FriendRequestOutcome, FriendshipState, Timestamp, User, UserId,
        Username,
    },
    events::Event,
    store::{
        Db, blocks,
        friends::{self, FriendshipRecord},
        users::{self, UserRecord},
    },
};

/// Friend use-cases.
#[derive(Clone)]
pub struct FriendService {
    db: Db,
    uow: UnitOfWork,
    access: Access,
    /// Friend request rate and the cap on pending outgoing requests
    /// (`limits.max_pending_friend_requests`, live).
    limits: RateLimits,
}

impl FriendService {
    /// Builds the service.
    pub fn new(db: Db, uow: UnitOfWork, access: Access, limits: RateLimits) -> Self {
        Self {
            db,
            uow,
            access,
            limits,
        }
    }

    /// My friends (by username) and pending requests both ways (newest first). Incoming
    /// requests from users I blocked and rows of deleted accounts are left out.
    pub async fn list(&self, actor: &Actor) -> Result<FriendList, DomainError> {
        self.access.active_user(actor.user).await?;
        let me = actor.user;
        let rows = friends::of_user(&self.db.read, me).await?;
        let blocked: HashSet<UserId> = blocks::by_blocker(&self.db.read, me)
            .await?
            .into_iter()
            .map(|b| b.blocked)
            .collect();
        let ids: Vec<UserId> = rows.iter().map(|r| r.other(me)).collect();
        let accounts = users::by_ids(&self.db.read, &ids).await?;
        let mut list = FriendList {
            friends: Vec::new(),
            incoming: Vec::new(),
            outgoing: Vec::new(),
        };
        for row in rows.iter().rev() {
            let other = row.other(me);
            let Some(user) = accounts.get(&other).filter(|u| u.is_active()) else {
                continue;
            };
            match row.state {
                FriendshipState::Accepted => list.friends.push(Friend {
                    user: user.view(),
                    since: Timestamp(row.updated_at),
                }),
                FriendshipState::Pending if row.requested_by == me => {
                    list.outgoing.push(request_of(user, row));
                }
                FriendshipState::Pending if !blocked.contains(&other) => {
                    list.incoming.push(request_of(user, row));
                }
                FriendshipState::Pending => {}
            }
        }
        list.friends
            .sort_by(|x, y| x.user.username.cmp(&y.user.username));
        Ok(list)
    }

    /// Asks `username` to be friends. Returns `pending` when a request was stored — and also
    /// when they blocked me (then nothing is stored and nobody is told) — or `accepted` when
    /// they had already asked me (we are friends now). Errors: 429 `rate_limited`
    /// (`friend_requests_per_minute`, every attempt counts); 404 `not_found` (unknown or
    /// deleted user); 422 `cannot_befriend_self`; 403 `blocked` (I blocked them: unblock
    /// first); 409 `already_friends`, `request_pending` (I already asked them),
    /// `too_many_pending_requests` (`max_pending_friend_requests`).
    pub async fn request(
        &self,
        actor: &Actor,
        username: &str,
    ) -> Result<(FriendRequestOutcome, User), DomainError> {
        self.access.active_user(actor.user).await?;
        self.limits
            .check(Limit::FriendRequest, &actor.user.to_string())
            .await?;
        let name = Username::parse(username).map_err(|_| DomainError::NotFound("user"))?;
        let target = users::by_username(&self.db.read, name.as_str())
            .await?
            .filter(UserRecord::is_active)
            .ok_or(DomainError::NotFound("user"))?;
        if target.id == actor.user {
            return Err(DomainError::invalid(
                ErrorCode::CannotBefriendSelf,
                "you cannot send a friend request to yourself",
            ));
        }
        match self.access.block_side(actor.user, target.id).await? {
            Some(BlockSide::Mine) => {
                return Err(DomainError::forbidden(
                    ErrorCode::Blocked,
                    "you blocked this user: unblock them first",
                ));
            }
            // Answered like a stored request: the block is not revealed.
            Some(BlockSide::Theirs) => return Ok((FriendRequestOutcome::Pending, target.view())),
            None => {}
        }
        let max = u64::from(self.limits.caps().max_pending_friend_requests);
        self.uow
            .run(async |work| {
                let me = super::active_account(work.db(), actor.user).await?;
                // Again inside the transaction: a block made since the cached check wins.
                match blocks::between(work.db(), me.id, target.id).await? {
                    (true, _) => {
                        return Err(DomainError::forbidden(
                            ErrorCode::Blocked,
                            "you blocked this user: unblock them first",
                        ));
                    }
                    (false, true) => return Ok((FriendRequestOutcome::Pending, target.view())),
                    (false, false) => {}
                }
                match friends::get(work.db(), me.id, target.id).await? {
                    Some(row) if row.state == FriendshipState::Accepted => Err(
                        DomainError::conflict(ErrorCode::AlreadyFriends, "you are friends already"),
                    ),
                    Some(row) if row.requested_by == me.id => Err(DomainError::conflict(
                        ErrorCode::RequestPending,
                        "you already sent this user a friend request",
                    )),
                    Some(_) => {
                        // They asked me first: crossing requests make a friendship.
                        friends::accept(work.db(), target.id, me.id, work.now()).await?;
                        work.publish(Event::FriendAccepted {
                            a: target.view(),
                            b: me.view(),
                            since: Timestamp(work.now()),
                        });
                        Ok((FriendRequestOutcome::Accepted, target.view()))
                    }
                    None => {
                        if max > 0 && friends::pending_outgoing(work.db(), me.id).await? >= max {
                            return Err(DomainError::conflict(
                                ErrorCode::TooManyPendingRequests,
                                format!(
                                    "you have {max} pending friend requests: wait for answers \
                                     or cancel some"
                                ),
                            ));
                        }
                        friends::insert_request(work.db(), me.id, target.id, work.now()).await?;
                        work.publish(Event::FriendRequested {
                            from: me.view(),
                            to: target.view(),
                        });
                        Ok((FriendRequestOutcome::Pending, target.view()))
                    }
                }
            })
            .await
    }

    /// Accepts the pending request `requester` sent me. Errors: 404 `not_found` when there is
    /// none.
    pub async fn accept(&self, actor: &Actor, requester: UserId) -> Result<Friend, DomainError> {
        self.access.active_user(actor.user).await?;
        self.uow
            .run(async |work| {
                let me = super::active_account(work.db(), actor.user).await?;
                if requester == me.id
                    || !friends::accept(work.db(), requester, me.id, work.now()).await?
                {
                    return Err(DomainError::NotFound("friend request"));
                }
                let other = users::by_id(work.db(), requester)
                    .await?
                    .ok_or(DomainError::NotFound("friend request"))?;
                let since = Timestamp(work.now());
                work.publish(Event::FriendAccepted {
                    a: other.view(),
                    b: me.view(),
                    since,
                });
                Ok(Friend {
                    user: other.view(),
                    since,
                })
            })
            .await
    }

    /// Declines the pending request `requester` sent me (they are told `declined`). Errors:
    /// 404 `not_found` when there is none.
    pub async fn decline(&self, actor: &Actor, requester: UserId) -> Result<(), DomainError> {
        self.end_request(
            actor,
            requester,
            actor.user,
            FriendRequestEndReason::Declined,
        )
        .await
    }

    /// Withdraws my pending request to `addressee`. Errors: 404 `not_found` when there is none.
    pub async fn cancel(&self, actor: &Actor, addressee: UserId) -> Result<(), DomainError> {
        self.end_request(
            actor,
            actor.user,
            addressee,
            FriendRequestEndReason::Cancelled,
        )
        .await
    }

    async fn end_request(
        &self,
        actor: &Actor,
        from: UserId,
        to: UserId,
        reason: FriendRequestEndReason,
    ) -> Result<(), DomainError> {
        self.access.active_user(actor.user).await?;
        self.uow
            .run(async |work| {
                if from == to
                    || !friends::delete(work.db(), from, to, FriendshipState::Pending, Some(from))
                        .await?
                {
                    return Err(DomainError::NotFound("friend request"));
                }
                work.publish(Event::FriendRequestEnded {
                    from,
                    to,
                    reason,
                    by: actor.user,
                });
                Ok(())
            })
            .await
    }

    /// Ends my friendship with `friend` (both are told `friend_removed`). Errors: 404
    /// `not_found` when we are not friends.
    pub async fn remove(&self, actor: &Actor, friend: UserId) -> Result<(), DomainError> {
        self.access.active_user(actor.user).await?;
        self.uow
            .run(async |work| {
                if friend == actor.user
                    || !friends::delete(
                        work.db(),
                        actor.user,
                        friend,
                        FriendshipState::Accepted,
                        None,
                    )
                    .await?
                {
                    return Err(DomainError::NotFound("friend"));
                }
                work.publish(Event::FriendRemoved {
                    a: actor.user,
                    b: friend,
                });
                Ok(())
            })
            .await
    }

    /// The social graph of `user` for presence audiences: `(friends, users in a block with
    /// them in either direction)`.
    pub async fn graph(&self, user: UserId) -> Result<(Vec<UserId>, Vec<UserId>), DomainError> {
        let (rows, blocked) = tokio::try_join!(
            friends::of_user(&self.db.read, user),
            blocks::related(&self.db.read, user),
        )?;
        let friends = rows
            .iter()
            .filter(|r| r.state == FriendshipState::Accepted)
            .map(|r| r.other(user))
            .collect();
        Ok((friends, blocked))
    }
}

fn request_of(user: &UserRecord, row: &FriendshipRecord) -> FriendRequest {
    FriendRequest {
        user: user.view(),
        created_at: Timestamp(row.created_at),
    }
}
