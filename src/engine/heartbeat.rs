//! The heartbeat: in Engine.IO v4 the server pings every `pingInterval` and expects a pong within
//! `pingTimeout`; in v3 the client pings. A missed beat closes the session with "ping timeout".
use super::close_reason::CloseReason;
use super::session::Session;
use super::Engine;
use crate::protocol::engine_packet::Packet;
use crate::protocol::Revision;
use std::sync::Arc;
use tracing::debug;

pub(super) async fn run(engine: Arc<Engine>, session: Arc<Session>) {
    // Boxed, as is each wait for a pong below: this future lives in every connection's task, and
    // sized for them it would carry their room (~200 bytes) through every idle interval.
    if session.revision == Revision::V3 {
        return Box::pin(run_v3(engine, session)).await;
    }
    loop {
        tokio::time::sleep(engine.config().ping_interval).await;
        if !Box::pin(ping(&engine, &session)).await {
            return;
        }
    }
}

/// Sends a ping and waits for its pong: false once the session is closed (for a missed pong too).
async fn ping(engine: &Engine, session: &Arc<Session>) -> bool {
    let timeout = engine.config().ping_timeout;
    // Registered before the ping goes out, so a pong that beats us here still counts.
    let pong = session.pong.notified();
    tokio::pin!(pong);
    pong.as_mut().enable();
    let activity = session.activity.notified();
    tokio::pin!(activity);
    activity.as_mut().enable();
    debug!(
        target: "engine:socket",
        sid = %session.sid,
        "writing ping packet - expecting pong within {}ms",
        timeout.as_millis(),
    );
    if !engine.send_packet(session, Packet::Ping { probe: false }) {
        return false;
    }
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut refreshed = false;
    loop {
        tokio::select! {
            () = &mut pong => return true,
            // As upstream engine.io 6.6: any packet while a pong is awaited refreshes the
            // timeout, once per ping.
            () = &mut activity, if !refreshed => {
                refreshed = true;
                deadline.as_mut().reset(tokio::time::Instant::now() + timeout);
            }
            () = &mut deadline => {
                engine.close_session(session, CloseReason::PingTimeout);
                return false;
            }
        }
    }
}

/// Engine.IO v3: the client pings; each ping (answered by `Engine::on_packet`) must come within
/// `pingInterval + pingTimeout` of the previous one.
async fn run_v3(engine: Arc<Engine>, session: Arc<Session>) {
    let allowed = engine.config().ping_interval + engine.config().ping_timeout;
    loop {
        let ping = session.pong.notified();
        if tokio::time::timeout(allowed, ping).await.is_err() {
            engine.close_session(&session, CloseReason::PingTimeout);
            return;
        }
    }
}
