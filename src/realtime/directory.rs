//! Live member counts of the public room directory: `room_stats` frames to every connection,
//! coalesced.
//!
//! Every join and leave of any room would otherwise be a frame to every connection: on a big
//! server that is members × connections frames. Instead this task subscribes to the bus, notes
//! the rooms whose membership changed (`MemberJoined` of a public room, every `MemberLeft`) in a
//! dirty set, and once per [`FLUSH_EVERY`] reads the joined counts of the dirty rooms in one
//! query (through the conversation service, which leaves out private rooms, groups, DMs and
//! deleted rooms) and sends one `room_stats` per room. So a room costs at most one frame per
//! connection per second however busy it is, the count is the database's (right whichever
//! path the membership changed by, and on every instance when the bus is shared), and an idle
//! server does no work. The dispatcher (`dispatch.rs`) stays free of awaits; this task is the
//! only one that waits for the database.

use std::{collections::HashSet, time::Duration};

use tokio::{task::JoinHandle, time::MissedTickBehavior};

use super::{
    Hub,
    protocol::{RoomStatsFrame, ServerFrame},
};
use crate::{
    domain::{ConversationId, ConversationKind, Visibility},
    events::{Event, Subscription},
    service::ConversationService,
};

/// How often the dirty rooms' counts are sent (at most one `room_stats` per room per period).
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Most rooms read in one query; more dirty rooms wait for the next period.
const FLUSH_MAX_ROOMS: usize = 500;

/// The room whose joined member count `event` may have changed, if it could be public.
fn touched(event: &Event) -> Option<ConversationId> {
    match event {
        Event::MemberJoined { view, .. }
            if view.kind == ConversationKind::Room && view.visibility == Visibility::Public =>
        {
            Some(view.id)
        }
        // The event does not say whether the room is public: the flush query decides.
        Event::MemberLeft {
            conversation_id, ..
        } => Some(*conversation_id),
        _ => None,
    }
}

/// Starts the task; it ends when the bus is gone.
pub fn spawn(
    hub: Hub,
    conversations: ConversationService,
    mut events: Subscription,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut dirty: HashSet<ConversationId> = HashSet::new();
        let mut batch = Vec::with_capacity(256);
        let mut tick = tokio::time::interval(FLUSH_EVERY);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                n = events.recv_many(&mut batch, 256) => {
                    if n == 0 {
                        break;
                    }
                    dirty.extend(batch.drain(..).filter_map(|e| touched(&e)));
                }
                _ = tick.tick(), if !dirty.is_empty() => {
                    flush(&hub, &conversations, &mut dirty).await;
                }
            }
        }
        tracing::debug!("directory stats task stopped");
    })
}

/// Sends `room_stats` for (up to [`FLUSH_MAX_ROOMS`] of) the dirty rooms that are public.
async fn flush(
    hub: &Hub,
    conversations: &ConversationService,
    dirty: &mut HashSet<ConversationId>,
) {
    let ids: Vec<ConversationId> = dirty.iter().take(FLUSH_MAX_ROOMS).copied().collect();
    match conversations.listed_member_counts(&ids).await {
        Ok(counts) => {
            for id in &ids {
                dirty.remove(id);
            }
            for (room_id, member_count) in counts {
                let frame = ServerFrame::RoomStats(RoomStatsFrame {
                    room_id,
                    member_count,
                })
                .encode();
                hub.send_to_all(&frame);
            }
        }
        // Kept dirty: the next period tries again.
        Err(err) => {
            tracing::warn!(error = %err, rooms = ids.len(), "cannot read room member counts")
        }
    }
}
