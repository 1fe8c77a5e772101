//! The WebSocket: ready, send/ack/fan-out, typing, presence, resume, auth and bad frames.

use std::time::Duration;

use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, http::HeaderValue};

use crate::{
    both_backends, db_test,
    helpers::{Backend, PASSWORD, call, spawn_ready_app_with},
};

db_test!(
    async fn send_is_acked_after_commit_and_fanned_out_to_members_only(app) {
        let a = app.user("ada").await;
        let b = app.user("bob").await;
        let c = app.user("cyd").await;
        let room = app.room(&a, "Realtime", "public").await;
        app.join(&b, &room).await;
        let (mut wa, ready) = app.ws(&a).await;
        assert_eq!(ready["user"]["username"], "ada");
        assert!(ready["conversations"].as_array().unwrap().iter().any(|c| c["id"] == room.as_str()));
        let (mut wb, _) = app.ws(&b).await;
        let (mut wc, _) = app.ws(&c).await;

        wa.send_json(json!({"type": "send", "conversation_id": room, "client_id": "x1", "body": "hello realtime"})).await;
        let ack = wa.expect("ack").await;
        assert_eq!(ack["client_id"], "x1");
        assert_eq!(ack["message"]["seq"], 1);
        assert_eq!(ack["message"]["body"], "hello realtime");
        let got = wb.expect("message").await;
        assert_eq!(got["message"]["id"], ack["message"]["id"]);
        assert_eq!(got["message"]["sender_username"], "ada");
        // The ack means committed: history has it.
        let history = app.get_json(&format!("/api/v1/conversations/{room}/messages"), &b.token).await;
        assert_eq!(history["messages"][0]["id"], ack["message"]["id"]);
        wc.expect_none("message", Duration::from_millis(300)).await;

        // Resend with the same client_id: ack with the original, no second message.
        wa.send_json(json!({"type": "send", "conversation_id": room, "client_id": "x1", "body": "hello realtime"})).await;
        let again = wa.expect("ack").await;
        assert_eq!(again["message"]["id"], ack["message"]["id"]);
        wb.expect_none("message", Duration::from_millis(300)).await;

        // A non-member cannot post over the WebSocket either.
        wc.send_json(json!({"type": "send", "conversation_id": room, "client_id": "y1", "body": "let me in"})).await;
        let err = wc.expect("error").await;
        assert_eq!(err["code"], "not_a_member");
        assert_eq!(err["client_id"], "y1");
        wc.send_json(json!({"type": "resume", "conversation_id": room, "after_seq": 0})).await;
        assert_eq!(wc.expect("error").await["code"], "not_a_member");
        let long = "a".repeat(4001);
        wa.send_json(json!({"type": "send", "conversation_id": room, "client_id": "x2", "body": long})).await;
        assert_eq!(wa.expect("error").await["code"], "invalid_message");
    }
);

db_test!(
    async fn typing_reaches_members_and_presence_reaches_member_list_watchers(app) {
        let a = app.user("tina").await;
        let b = app.user("tom").await;
        let lobby = app.lobby(&a).await;
        let (mut wb, _) = app.ws(&b).await;
        wb.send_json(json!({"type": "watch", "conversation_id": lobby})).await;
        assert_eq!(wb.expect("watching").await["conversation_id"], lobby.as_str());
        let (mut wa, ready) = app.ws(&a).await;
        assert_eq!(ready["online"], json!([]), "a public room shares no presence: {ready}");
        assert_eq!(ready["permissions"], json!(["rooms.create"]));
        let online = wb.expect("presence").await;
        assert_eq!(online["user_id"], a.id.as_str());
        assert_eq!(online["status"], "online");
        let members = app.get_json(&format!("/api/v1/conversations/{lobby}/members"), &b.token).await;
        let tina = members["members"].as_array().unwrap().iter().find(|m| m["username"] == "tina").unwrap();
        assert_eq!(tina["status"], "online");

        wa.send_json(json!({"type": "typing", "conversation_id": lobby})).await;
        let typing = wb.expect("typing").await;
        assert_eq!(typing["conversation_id"], lobby.as_str());
        assert_eq!(typing["user_id"], a.id.as_str());
        assert_eq!(typing["username"], "tina");
        wa.expect_none("typing", Duration::from_millis(200)).await;

        wa.stream.close(None).await.unwrap();
        let offline = wb.expect("presence").await;
        assert_eq!(offline["user_id"], a.id.as_str());
        assert_eq!(offline["status"], "offline");
    }
);

db_test!(
    async fn presence_reaches_dm_peers_but_not_a_shared_public_room(app) {
        let a = app.user("pia").await;
        let b = app.user("pat").await;
        let c = app.user("pol").await;
        let lobby = app.lobby(&a).await;
        app.post_auth("/api/v1/dms", &a.token, &json!({"username": "pat"})).await;
        let (mut wb, _) = app.ws(&b).await;
        let (mut wc, _) = app.ws(&c).await;
        let (mut wa, ready) = app.ws(&a).await;
        let online: Vec<&str> = ready["online"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(online, vec![b.id.as_str()], "the DM peer, not the Lobby: {ready}");
        assert_eq!(wb.expect("presence").await["user_id"], a.id.as_str());
        // Marker: a message in the Lobby reaches c; no presence frame came before it.
        wa.send_json(json!({"type": "send", "conversation_id": lobby, "client_id": "m1", "body": "marker"})).await;
        loop {
            let frame = wc.next_json().await;
            assert_ne!(frame["type"], "presence", "a Lobby member got presence: {frame}");
            if frame["type"] == "message" {
                break;
            }
        }
    }
);

db_test!(
    async fn resume_returns_exactly_the_missing_messages_in_order(app) {
        let a = app.user("rita").await;
        let b = app.user("rick").await;
        let lobby = app.lobby(&a).await;
        for i in 1..=3 {
            app.send(&a, &lobby, &format!("early {i}")).await;
        }
        let (mut wb, _) = app.ws(&b).await;
        wb.stream.close(None).await.unwrap();
        for i in 4..=8 {
            app.send(&a, &lobby, &format!("missed {i}")).await;
        }
        let (mut wb, ready) = app.ws(&b).await;
        let entry = ready["conversations"].as_array().unwrap().iter().find(|c| c["id"] == lobby.as_str()).unwrap();
        assert_eq!(entry["last_seq"], 8);
        wb.send_json(json!({"type": "resume", "conversation_id": lobby, "after_seq": 3})).await;
        let mut seqs = Vec::new();
        for _ in 0..5 {
            let m = wb.expect("message").await;
            seqs.push(m["message"]["seq"].as_i64().unwrap());
        }
        assert_eq!(seqs, vec![4, 5, 6, 7, 8]);
        wb.send_json(json!({"type": "ping"})).await;
        let next = wb.next_json().await;
        assert_eq!(next["type"], "pong", "nothing beyond the gap was sent: {next}");
    }
);

async fn resync(backend: Backend) {
    let app = spawn_ready_app_with(backend, |c| c.realtime.resume_max_messages = 3).await;
    let a = app.user("sam").await;
    let lobby = app.lobby(&a).await;
    for i in 0..5 {
        app.send(&a, &lobby, &format!("m{i}")).await;
    }
    let (mut ws, _) = app.ws(&a).await;
    ws.send_json(json!({"type": "resume", "conversation_id": lobby, "after_seq": 0}))
        .await;
    let frame = ws.next_json().await;
    assert_eq!(frame["type"], "resync_required");
    assert_eq!(frame["conversation_id"], lobby.as_str());
    ws.send_json(json!({"type": "resume", "conversation_id": lobby, "after_seq": 2}))
        .await;
    for seq in 3..=5 {
        assert_eq!(ws.expect("message").await["message"]["seq"], seq);
    }
}

both_backends!(a_gap_larger_than_the_limit_gets_resync_required => super::resync);

db_test!(
    async fn membership_changes_are_pushed(app) {
        let a = app.user("mona").await;
        let b = app.user("ned").await;
        let room = app.room(&a, "Pushy", "public").await;
        let (mut wa, _) = app.ws(&a).await;
        let (mut wb, _) = app.ws(&b).await;
        // In a public room a newcomer's status goes to those watching the member list only.
        wa.send_json(json!({"type": "watch", "conversation_id": room})).await;
        wa.expect("watching").await;
        app.join(&b, &room).await;
        let joined = wa.expect("member_joined").await;
        assert_eq!(joined["conversation_id"], room.as_str());
        assert_eq!(joined["user"]["username"], "ned");
        assert_eq!(joined["role"], "member");
        assert_eq!(joined["status"], "online", "ned is connected");
        let added = wb.expect("conversation_added").await;
        assert_eq!(added["conversation"]["id"], room.as_str());
        // New membership takes effect for live delivery at once.
        wa.send_json(json!({"type": "send", "conversation_id": room, "client_id": "p1", "body": "welcome"})).await;
        assert_eq!(wb.expect("message").await["message"]["body"], "welcome");

        let dm: Value = app.post_auth("/api/v1/dms", &a.token, &json!({"username": "ned"})).await.json().await.unwrap();
        let added = wb.expect("conversation_added").await;
        assert_eq!(added["conversation"]["id"], dm["id"]);
        assert_eq!(added["conversation"]["name"], "mona");

        app.post_auth(&format!("/api/v1/rooms/{room}/leave"), &b.token, &json!({})).await;
        let left = wa.expect("member_left").await;
        assert_eq!(left["user_id"], b.id.as_str());
        wa.send_json(json!({"type": "send", "conversation_id": room, "client_id": "p2", "body": "bye"})).await;
        wa.expect("ack").await;
        wb.expect_none("message", Duration::from_millis(300)).await;
    }
);

db_test!(
    async fn the_upgrade_needs_credentials_and_our_own_origin_for_cookies(app) {
        app.user("otto").await;
        let otto = app.login("otto").await;
        let none = app.ws_with(|_| {}).await;
        assert!(matches!(none, Err(tokio_tungstenite::tungstenite::Error::Http(ref r)) if r.status() == 401), "{none:?}");
        let bad = app.ws_with(|r| r.headers_mut().insert("authorization", HeaderValue::from_static("Bearer garbage")).map(|_| ()).unwrap_or(())).await;
        assert!(matches!(bad, Err(tokio_tungstenite::tungstenite::Error::Http(ref r)) if r.status() == 401));
        let cookie = HeaderValue::from_str(&format!("echochat_access={}", otto.token)).unwrap();
        let foreign = app
            .ws_with(|r| {
                r.headers_mut().insert("cookie", cookie.clone());
                r.headers_mut().insert("origin", HeaderValue::from_static("http://evil.example"));
            })
            .await;
        assert!(matches!(foreign, Err(tokio_tungstenite::tungstenite::Error::Http(ref r)) if r.status() == 403), "{foreign:?}");
        let no_origin = app.ws_with(|r| { r.headers_mut().insert("cookie", cookie.clone()); }).await;
        assert!(matches!(no_origin, Err(tokio_tungstenite::tungstenite::Error::Http(ref r)) if r.status() == 403));
        let origin = HeaderValue::from_str(&app.base).unwrap();
        let mut ok = app
            .ws_with(|r| {
                r.headers_mut().insert("cookie", cookie.clone());
                r.headers_mut().insert("origin", origin.clone());
            })
            .await
            .expect("same-origin cookie upgrade");
        assert_eq!(ok.next_json().await["type"], "ready");
    }
);

db_test!(
    async fn bad_frames_get_error_frames_and_the_socket_keeps_working(app) {
        let a = app.user("bea").await;
        let (mut ws, _) = app.ws(&a).await;
        ws.stream.send(Message::Text("not json".into())).await.unwrap();
        assert_eq!(ws.expect("error").await["code"], "invalid_frame");
        ws.send_json(json!({"type": "dance"})).await;
        assert_eq!(ws.expect("error").await["code"], "unknown_type");
        ws.send_json(json!({"type": "send", "conversation_id": 42})).await;
        assert_eq!(ws.expect("error").await["code"], "invalid_frame");
        ws.send_json(json!({"no_type": true})).await;
        assert_eq!(ws.expect("error").await["code"], "invalid_frame");
        ws.stream.send(Message::Binary(vec![1, 2, 3].into())).await.unwrap();
        assert_eq!(ws.expect("error").await["code"], "invalid_frame");
        ws.send_json(json!({"type": "ping"})).await;
        assert_eq!(ws.expect("pong").await["type"], "pong");
        let health = call(app.http.get(app.url("/api/v1/health"))).await;
        assert_eq!(health.status(), 200);
    }
);

db_test!(
    async fn a_frame_over_64_kib_closes_with_1009(app) {
        let a = app.user("max").await;
        let (mut ws, _) = app.ws(&a).await;
        let big = json!({"type": "ping", "pad": "x".repeat(70 * 1024)}).to_string();
        let _ = ws.stream.send(Message::Text(big.into())).await;
        assert_eq!(ws.close_code().await, Some(1009));
        // The server keeps serving.
        let (mut again, _) = app.ws(&a).await;
        again.send_json(json!({"type": "ping"})).await;
        assert_eq!(again.expect("pong").await["type"], "pong");
    }
);

async fn slow_consumer(backend: Backend) {
    let app = spawn_ready_app_with(backend, |c| c.realtime.outgoing_queue_frames = 64).await;
    let a = app.user("fast").await;
    let b = app.user("slow").await;
    let lobby = app.lobby(&a).await;
    // A client that never reads, with a tiny receive buffer.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(app.addr).await.unwrap();
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        format!("ws://{}/api/v1/ws", app.addr),
    )
    .unwrap();
    req.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {}", b.token)).unwrap(),
    );
    let (slow, _) =
        tokio_tungstenite::client_async(req, tokio_tungstenite::MaybeTlsStream::Plain(stream))
            .await
            .unwrap();
    let mut slow = crate::helpers::WsClient { stream: slow };

    let (mut wa, _) = app.ws(&a).await;
    let body = "z".repeat(4000);
    let mut closed = false;
    for round in 0..150 {
        for i in 0..20 {
            wa.send_json(json!({"type": "send", "conversation_id": lobby, "client_id": format!("s{round}-{i}"), "body": body})).await;
        }
        for _ in 0..20 {
            wa.expect("ack").await;
        }
        if app
            .all_pages(
                &format!("/api/v1/conversations/{lobby}/members"),
                "members",
                &a.token,
            )
            .await
            .iter()
            .any(|m| m["username"] == "slow" && m["status"] == "offline")
        {
            closed = true;
            break;
        }
    }
    assert!(closed, "the slow consumer was never dropped");
    assert_eq!(slow.close_code().await, Some(1013));
    let _ = PASSWORD;
}

both_backends!(a_consumer_that_falls_behind_is_closed_with_1013 => super::slow_consumer);

async fn grace(backend: Backend) {
    let app = spawn_ready_app_with(backend, |c| c.realtime.presence_grace_ms = 1500).await;
    let a = app.user("gina").await;
    let b = app.user("gus").await;
    let dm: Value = app
        .post_auth("/api/v1/dms", &a.token, &json!({"username": "gus"}))
        .await
        .json()
        .await
        .unwrap();
    let dm = dm["id"].as_str().unwrap().to_owned();
    let (mut wb, _) = app.ws(&b).await;
    let (wa, _) = app.ws(&a).await;
    assert_eq!(wb.expect("presence").await["status"], "online");
    // A reconnect within the grace period (e.g. to renew the token) is no presence change.
    drop(wa);
    let (mut wa, _) = app.ws(&a).await;
    wa.send_json(
        json!({"type": "send", "conversation_id": dm, "client_id": "g1", "body": "still here"}),
    )
    .await;
    loop {
        let frame = wb.next_json().await;
        assert_ne!(frame["type"], "presence", "presence flapped: {frame}");
        if frame["type"] == "message" {
            break;
        }
    }
    // A real departure is reported once the grace period is over.
    wa.stream.close(None).await.unwrap();
    let offline = wb.expect("presence").await;
    assert_eq!(offline["user_id"], a.id.as_str());
    assert_eq!(offline["status"], "offline");
}

both_backends!(a_reconnect_within_the_grace_period_does_not_flap_presence => super::grace);

db_test!(
    async fn watching_needs_membership_and_is_bounded(app) {
        let a = app.user("walt").await;
        let owner = app.user("wendy").await;
        let private = app.room(&owner, "Hidden", "private").await;
        let public = app.room(&owner, "Open", "public").await;
        let (mut ws, _) = app.ws(&a).await;
        ws.send_json(json!({"type": "watch", "conversation_id": private})).await;
        let refused = ws.expect("error").await;
        assert_eq!(refused["code"], "not_found");
        assert_eq!(refused["conversation_id"], private.as_str(), "the error names its conversation");
        ws.send_json(json!({"type": "watch", "conversation_id": public})).await;
        assert_eq!(ws.expect("error").await["code"], "not_a_member");
        let lobby = app.lobby(&a).await;
        ws.send_json(json!({"type": "watch", "conversation_id": lobby})).await;
        ws.expect("watching").await;
        ws.send_json(json!({"type": "unwatch", "conversation_id": lobby})).await;
        ws.send_json(json!({"type": "ping"})).await;
        assert_eq!(ws.next_json().await["type"], "pong", "unwatch has no answer");
    }
);

/// A raw frame from a client: FIN set, masked with a zero key (RFC 6455 §5.3), given length.
fn raw_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x80 | opcode];
    if payload.len() < 126 {
        out.push(0x80 | payload.len() as u8);
    } else {
        out.push(0x80 | 126);
        out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    }
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(payload);
    out
}

db_test!(
    async fn invalid_utf8_closes_with_1007_and_a_big_control_frame_with_1002(app) {
        use tokio::io::AsyncWriteExt;
        let a = app.user("rfc").await;
        for (frame, code) in [
            (raw_frame(0x1, &[0x68, 0xFF, 0xFE]), 1007),
            (raw_frame(0x9, &[b'p'; 126]), 1002),
        ] {
            let (mut ws, _) = app.ws(&a).await;
            let tcp = match ws.stream.get_mut() {
                tokio_tungstenite::MaybeTlsStream::Plain(tcp) => tcp,
                _ => unreachable!("plain test connection"),
            };
            tcp.write_all(&frame).await.unwrap();
            tcp.flush().await.unwrap();
            assert_eq!(ws.close_code().await, Some(code));
        }
    }
);

async fn liveness(backend: Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_ready_app_with(backend, |c| c.realtime.ping_interval_ms = 200).await;
    let a = app.user("mute").await;
    // A client that completes the handshake and then neither reads nor answers pings.
    let mut tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let request = format!(
        "GET /api/v1/ws HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Authorization: Bearer {}\r\n\r\n",
        app.addr, a.token
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    // The server gives up on it (close frame 1001, then EOF) after two silent intervals.
    let mut received = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let mut buf = [0u8; 4096];
        match tokio::time::timeout_at(deadline, tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the silent client was not dropped"),
        }
    }
    let close = received
        .windows(4)
        .any(|w| w[0] == 0x88 && w[2..4] == 1001u16.to_be_bytes());
    assert!(close, "a 1001 close frame before EOF");
}

both_backends!(a_client_that_never_answers_pings_is_dropped => super::liveness);
