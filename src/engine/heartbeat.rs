//! The server-driven heartbeat of Engine.IO v4: a ping every `pingInterval`, a pong expected
//! within `pingTimeout`, else the session closes with "ping timeout".
use super::close_reason::CloseReason;
use super::session::Session;
use super::Engine;
use crate::protocol::engine_packet::Packet;
use std::sync::Arc;

pub(super) async fn run(engine: Arc<Engine>, session: Arc<Session>) {
    let interval = engine.config().ping_interval;
    let timeout = engine.config().ping_timeout;
    loop {
        tokio::time::sleep(interval).await;
        // Registered before the ping goes out, so a pong that beats us here still counts.
        let pong = session.pong.notified();
        tokio::pin!(pong);
        pong.as_mut().enable();
        let activity = session.activity.notified();
        tokio::pin!(activity);
        activity.as_mut().enable();
        if !engine.send_packet(&session, Packet::Ping { probe: false }) {
            return;
        }
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut refreshed = false;
        loop {
            tokio::select! {
                () = &mut pong => break,
                // As upstream engine.io 6.6: any packet while a pong is awaited refreshes the
                // timeout, once per ping.
                () = &mut activity, if !refreshed => {
                    refreshed = true;
                    deadline.as_mut().reset(tokio::time::Instant::now() + timeout);
                }
                () = &mut deadline => {
                    engine.close_session(&session, CloseReason::PingTimeout);
                    return;
                }
            }
        }
    }
}
