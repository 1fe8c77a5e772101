//! The realtime layer's subscription to the event bus: turns each domain event into frames for
//! the connections allowed to see it, and keeps the hub's subscriptions current.
//!
//! One task handles events in bus order; message events pass through a [`Sequencer`] first, so a
//! conversation's messages are fanned out in change order even when several instances publish
//! to it. Handling never awaits: every step is an in-memory hub operation, and a slow
//! connection is dropped (1013) rather than waited for.

use std::{sync::Arc, time::Duration};

use tokio::{task::JoinHandle, time::Instant};
use tokio_tungstenite::tungstenite::Utf8Bytes;

use super::{
    hub::{Hub, members_see_presence},
    protocol::{
        AnnouncementFrame, BlockChangedFrame, ConversationAddedFrame, ConversationDeletedFrame,
        ConversationUpdatedFrame, FriendAddedFrame, FriendRemovedFrame, FriendRequestFrame,
        FriendRequestRemovedFrame, HistoryClearedFrame, MemberJoinedFrame, MemberLeftFrame,
        MemberUpdatedFrame, MessageDeletedFrame, MessageFrame, MessageUpdatedFrame,
        ReadPositionFrame, ReadReceiptFrame, RoomListedFrame, RoomUnlistedFrame, ServerFrame,
        ServerUpdatedFrame, SettingsUpdatedFrame, TypingFrame, UserUpdatedFrame,
    },
    sequencer::{Sequencer, position},
};
use crate::{
    domain::{
        Conversation, ConversationFacts, ConversationId, Friend, FriendRequestDirection,
        FriendRequestEndReason, LeaveReason, PresenceStatus, User, UserId,
    },
    events::{Event, Subscription},
};

/// Most members a conversation may have for a new member to get everyone's presence at once.
const PRESENCE_ON_JOIN_MAX: usize = 100;

/// How often idle conversations are forgotten by the sequencer.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Starts the dispatcher; it ends when the bus is gone.
pub fn spawn(hub: Hub, mut events: Subscription) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(256);
        let mut order = Sequencer::default();
        loop {
            let wake = order
                .next_deadline()
                .unwrap_or_else(|| Instant::now() + SWEEP_EVERY);
            tokio::select! {
                n = events.recv_many(&mut batch, 256) => {
                    if n == 0 {
                        break;
                    }
                    let now = Instant::now();
                    for event in batch.drain(..) {
                        match position(&event) {
                            Some((conversation, change_seq)) => {
                                for ready in order.push(conversation, change_seq, event, now) {
                                    handle(&hub, &ready);
                                }
                            }
                            None => handle(&hub, &event),
                        }
                    }
                }
                () = tokio::time::sleep_until(wake) => {
                    for ready in order.flush_due(Instant::now()) {
                        handle(&hub, &ready);
                    }
                }
            }
        }
        tracing::debug!("realtime dispatcher stopped");
    })
}

/// Publishes the hub's presence announcements on the bus, in order, until the hub is gone.
pub fn spawn_announcer(hub: &Hub, bus: Arc<dyn crate::events::EventBus>) -> JoinHandle<()> {
    let announcements = hub.take_announcements();
    tokio::spawn(async move {
        let Some(mut announcements) = announcements else {
            return;
        };
        while let Some(event) = announcements.recv().await {
            bus.publish(event).await;
        }
    })
}

/// Delivers one event.
pub fn handle(hub: &Hub, event: &Event) {
    match event {
        Event::MessageCreated { message } => {
            let frame = ServerFrame::Message(MessageFrame {
                message: message.clone(),
            })
            .encode();
            if message.shadowed == Some(true) {
                // A shadowbanned sender sees their message; nobody else learns it exists
                // (their clients skip the sequence number with one resume).
                hub.send_to_user(message.sender_id, &frame);
            } else {
                hub.publish(message.conversation_id, &frame, None);
            }
        }
        Event::MemberJoined { user, role, view } => {
            let facts = ConversationFacts::plain(view.kind, view.visibility);
            hub.subscribe(user.id, view.id, facts);
            let joined = |status| {
                ServerFrame::MemberJoined(MemberJoinedFrame {
                    conversation_id: view.id,
                    user: user.clone(),
                    role: *role,
                    status,
                })
                .encode()
            };
            hub.publish_joined(
                view.id,
                user.id,
                &joined(hub.shown(user.id)),
                &joined(PresenceStatus::Offline),
            );
            hub.send_to_user(user.id, &conversation_added(view));
            if members_see_presence(facts) {
                hub.exchange_presence(user.id, view.id, PRESENCE_ON_JOIN_MAX);
            }
        }
        Event::MemberInvited { user_id, view } => {
            hub.send_to_user(*user_id, &conversation_added(view));
        }
        Event::MemberLeft {
            conversation_id,
            user_id,
            reason,
            ..
        } => {
            // A kicked member is told like a leaver, then unsubscribed like one.
            hub.publish(
                *conversation_id,
                &member_left(*conversation_id, *user_id, *reason),
                None,
            );
            hub.unsubscribe(*user_id, *conversation_id);
        }
        Event::MemberUpdated {
            conversation_id,
            user_id,
            role,
            muted_until,
            ..
        } => {
            let frame = ServerFrame::MemberUpdated(MemberUpdatedFrame {
                conversation_id: *conversation_id,
                user_id: *user_id,
                role: *role,
                muted_until: *muted_until,
            })
            .encode();
            hub.publish(*conversation_id, &frame, None);
        }
        Event::InvitationDeclined {
            conversation_id,
            user_id,
        } => {
            // The invitee's other connections drop the invitation; the room is not told.
            hub.send_to_user(
                *user_id,
                &member_left(*conversation_id, *user_id, LeaveReason::Left),
            );
        }
        Event::ConversationUpdated {
            conversation_id,
            name,
            topic,
            category,
            locked,
            read_only,
            slowmode_secs,
        } => {
            let frame = ServerFrame::ConversationUpdated(ConversationUpdatedFrame {
                conversation_id: *conversation_id,
                name: name.clone(),
                topic: topic.clone(),
                category: category.clone(),
                locked: *locked,
                read_only: *read_only,
                slowmode_secs: *slowmode_secs,
            })
            .encode();
            hub.publish(*conversation_id, &frame, None);
        }
        Event::HistoryCleared {
            conversation_id,
            cleared_seq,
        } => {
            let frame = ServerFrame::HistoryCleared(HistoryClearedFrame {
                conversation_id: *conversation_id,
                cleared_seq: *cleared_seq,
            })
            .encode();
            hub.publish(*conversation_id, &frame, None);
        }
        Event::ConversationDeleted {
            conversation_id,
            members,
        } => {
            let frame = ServerFrame::ConversationDeleted(ConversationDeletedFrame {
                conversation_id: *conversation_id,
            })
            .encode();
            // Invitees are told too (their invitation is gone); then nobody here is subscribed.
            hub.publish(*conversation_id, &frame, None);
            for user in members {
                if !hub.is_subscribed(*user, *conversation_id) {
                    hub.send_to_user(*user, &frame);
                }
            }
            hub.drop_conversation(*conversation_id, members);
        }
        Event::MessageDeleted {
            conversation_id,
            seq,
            change_seq,
            shadowed_sender,
            ..
        } => {
            let frame = ServerFrame::MessageDeleted(MessageDeletedFrame {
                conversation_id: *conversation_id,
                seq: *seq,
                change_seq: *change_seq,
            })
            .encode();
            match shadowed_sender {
                Some(sender) => hub.send_to_user(*sender, &frame),
                None => hub.publish(*conversation_id, &frame, None),
            }
        }
        Event::MessageUpdated { message } => {
            let frame = ServerFrame::MessageUpdated(MessageUpdatedFrame {
                message: message.clone(),
            })
            .encode();
            if message.shadowed == Some(true) {
                hub.send_to_user(message.sender_id, &frame);
            } else {
                hub.publish(message.conversation_id, &frame, None);
            }
        }
        Event::ReadMoved {
            conversation_id,
            user_id,
            seq,
            unread_count,
            share,
        } => {
            let mine = ServerFrame::ReadPosition(ReadPositionFrame {
                conversation_id: *conversation_id,
                seq: *seq,
                unread_count: *unread_count,
            })
            .encode();
            hub.send_to_user(*user_id, &mine);
            // The service decided from the stored settings; an invisible user is never shown.
            if *share && !hub.is_hidden(*user_id) {
                let receipt = ServerFrame::ReadReceipt(ReadReceiptFrame {
                    conversation_id: *conversation_id,
                    user_id: *user_id,
                    seq: *seq,
                })
                .encode();
                hub.publish(*conversation_id, &receipt, Some(*user_id));
            }
        }
        Event::SessionEnded {
            session_id, reason, ..
        } => hub.close_session(*session_id, *reason),
        Event::PresenceChanged {
            user_id,
            username,
            status,
            home,
        } => match home {
            Some(home) if !hub.is_this_instance(&home.instance) => {
                hub.apply_home(*user_id, username, *status, home);
            }
            _ if *status == PresenceStatus::Offline => {
                hub.go_offline(*user_id);
            }
            _ => {
                hub.refresh_presence(*user_id);
            }
        },
        Event::Typing {
            conversation_id,
            user_id,
            username,
        } => {
            let frame = ServerFrame::Typing(TypingFrame {
                conversation_id: *conversation_id,
                user_id: *user_id,
                username: username.clone(),
            })
            .encode();
            hub.publish_from(*conversation_id, &frame, *user_id);
        }
        Event::PresenceSyncRequested { .. } => {
            hub.announce_all();
        }
        Event::InstanceGone { instance } => {
            hub.drop_instance(instance);
        }
        Event::BusInterrupted { reason } => {
            let replicas = hub.forget_other_instances();
            let closed = hub.close_all_for_resync();
            tracing::warn!(%reason, replicas, closed, "events may have been missed: WebSockets closed with 1012 so that clients resume");
        }
        Event::PresenceChosen {
            user_id,
            choice,
            status_text,
        } => {
            hub.set_choice(*user_id, *choice, status_text.clone());
        }
        Event::UserUpdated { user, permissions } => {
            let frame = ServerFrame::UserUpdated(UserUpdatedFrame {
                user: user.clone(),
                permissions: permissions.map(|p| p.to_vec()),
            })
            .encode();
            hub.send_to_user(user.id, &frame);
        }
        Event::RolesChanged => {}
        Event::Announcement {
            text,
            by_username,
            at,
        } => {
            let frame = ServerFrame::Announcement(AnnouncementFrame {
                text: text.clone(),
                by_username: by_username.clone(),
                at: *at,
            })
            .encode();
            hub.send_to_all(&frame);
        }
        Event::SettingsChanged { server, .. } => {
            let frame = ServerFrame::ServerUpdated(ServerUpdatedFrame {
                server: server.clone(),
            })
            .encode();
            hub.send_to_all(&frame);
        }
        Event::AccountSettingsChanged { user, settings } => {
            let frame = ServerFrame::SettingsUpdated(SettingsUpdatedFrame {
                settings: settings.clone(),
            })
            .encode();
            hub.send_to_user(*user, &frame);
        }
        // The public directory (every connection; services publish these for public rooms
        // only). Member counts are coalesced by `realtime::directory`, not sent from here.
        Event::RoomListed { room } => {
            let frame = ServerFrame::RoomListed(RoomListedFrame { room: room.clone() }).encode();
            hub.send_to_all(&frame);
        }
        Event::RoomUnlisted { conversation_id } => {
            let frame = ServerFrame::RoomUnlisted(RoomUnlistedFrame {
                room_id: *conversation_id,
            })
            .encode();
            hub.send_to_all(&frame);
        }
        Event::ConversationCreated { .. } | Event::MemberBanChanged { .. } => {}
        Event::FriendRequested { .. }
        | Event::FriendAccepted { .. }
        | Event::FriendRequestEnded { .. }
        | Event::FriendRemoved { .. }
        | Event::BlockChanged { .. } => social(hub, event),
    }
}

/// Friend and block events: frames to the users concerned only.
fn social(hub: &Hub, event: &Event) {
    use FriendRequestDirection::{Incoming, Outgoing};
    match event {
        Event::FriendRequested { from, to } => {
            let request = |user: &User, direction| {
                ServerFrame::FriendRequest(FriendRequestFrame {
                    user: user.clone(),
                    direction,
                })
                .encode()
            };
            hub.send_to_user(to.id, &request(from, Incoming));
            hub.send_to_user(from.id, &request(to, Outgoing));
        }
        Event::FriendAccepted { a, b, since } => {
            let added = |user: &User| {
                ServerFrame::FriendAdded(FriendAddedFrame {
                    friend: Friend {
                        user: user.clone(),
                        since: *since,
                    },
                })
                .encode()
            };
            hub.send_to_user(a.id, &added(b));
            hub.send_to_user(b.id, &added(a));
            // Friends see each other's presence from now on.
            hub.set_friends(a.id, b.id, true);
        }
        Event::FriendRequestEnded {
            from,
            to,
            reason,
            by,
        } => {
            // A block looks like a decline to the side that was blocked.
            let told = |side: UserId| match reason {
                FriendRequestEndReason::Blocked if side != *by => FriendRequestEndReason::Declined,
                other => *other,
            };
            let removed = |user_id, direction, reason| {
                ServerFrame::FriendRequestRemoved(FriendRequestRemovedFrame {
                    user_id,
                    direction,
                    reason,
                })
                .encode()
            };
            hub.send_to_user(*from, &removed(*to, Outgoing, told(*from)));
            hub.send_to_user(*to, &removed(*from, Incoming, told(*to)));
        }
        Event::FriendRemoved { a, b } => {
            let removed =
                |user_id| ServerFrame::FriendRemoved(FriendRemovedFrame { user_id }).encode();
            hub.send_to_user(*a, &removed(*b));
            hub.send_to_user(*b, &removed(*a));
            hub.unfriended(*a, *b);
        }
        Event::BlockChanged {
            blocker,
            blocked,
            user,
            blocking,
            remains,
        } => {
            // Presence: hidden both ways while any block stands between the two.
            if *blocking || !*remains {
                hub.set_blocked(*blocker, *blocked, *remains);
            }
            let frame = ServerFrame::BlockChanged(BlockChangedFrame {
                user: user.clone(),
                blocked: *blocking,
            })
            .encode();
            hub.send_to_user(*blocker, &frame);
        }
        _ => {}
    }
}

/// A `conversation_added` frame.
fn conversation_added(view: &Conversation) -> Utf8Bytes {
    ServerFrame::ConversationAdded(ConversationAddedFrame {
        conversation: view.clone(),
    })
    .encode()
}

/// A `member_left` frame.
fn member_left(conversation_id: ConversationId, user_id: UserId, reason: LeaveReason) -> Utf8Bytes {
    ServerFrame::MemberLeft(MemberLeftFrame {
        conversation_id,
        user_id,
        reason,
    })
    .encode()
}
