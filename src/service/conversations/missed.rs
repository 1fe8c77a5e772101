//! Missed direct messages: the DMs where the peer wrote after my read position (what the
//! client shows at login as the missed-PM list; `read` up to the DM's last seq clears it).

use std::collections::HashMap;

use super::ConversationService;
use crate::{
    domain::{Actor, ConversationId, ConversationKind, DomainError, MembershipState, MissedDm},
    store::{conversations, members, messages},
};

/// Largest count reported per DM (more shows as this number).
pub const MISSED_COUNT_CAP: i64 = 999;

/// Most DMs listed.
pub const MISSED_MAX: usize = 100;

impl ConversationService {
    /// The DMs where messages from the peer arrived after my read position, newest first, at
    /// most 100; each count is capped at 999.
    pub async fn missed_dms(&self, actor: &Actor) -> Result<Vec<MissedDm>, DomainError> {
        self.access.active_user(actor.user).await?;
        let db = &self.db.read;
        let mine: HashMap<ConversationId, i64> = members::for_user(db, actor.user, None, None)
            .await?
            .into_iter()
            .filter(|m| m.state == MembershipState::Joined)
            .map(|m| (m.conversation_id, m.last_read_seq))
            .collect();
        let ids: Vec<ConversationId> = mine.keys().copied().collect();
        let rows = conversations::by_ids(db, &ids).await?;
        let positions: Vec<(ConversationId, i64)> = rows
            .iter()
            .filter(|r| r.kind == ConversationKind::Dm)
            .filter_map(|r| {
                let read = *mine.get(&r.id)?;
                (r.last_seq > read).then_some((r.id, read))
            })
            .collect();
        if positions.is_empty() {
            return Ok(Vec::new());
        }
        let mut unread = messages::unread_from_others(db, actor.user, &positions).await?;
        unread.sort_by_key(|u| std::cmp::Reverse(u.3));
        unread.truncate(MISSED_MAX);
        let dms: Vec<ConversationId> = unread.iter().map(|u| u.0).collect();
        let peers = members::dm_peers(db, &dms, actor.user).await?;
        Ok(unread
            .into_iter()
            .filter_map(|(conversation_id, count, last_seq, _)| {
                peers.get(&conversation_id).map(|peer| MissedDm {
                    conversation_id,
                    peer: peer.view(),
                    count: count.min(MISSED_COUNT_CAP),
                    last_seq,
                })
            })
            .collect())
    }
}
