//! The socket.io layer's side of many sessions at once (`io::client::Clients`): messages of
//! several sessions interleaved, with closes among them, as the engine reports them.
#![no_main]
use bytes::Bytes;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use socket_io_rs::engine::close_reason::CloseReason;
use socket_io_rs::engine::handler::EngineHandler;
use socket_io_rs::io::client::Clients;
use socket_io_rs::io::event::IoEvent;
use socket_io_rs::io::parser::Parser;
use socket_io_rs::protocol::engine_packet::{Message, TextMessage};

#[derive(Arbitrary, Debug)]
enum Happening {
    Text(u8, String),
    Binary(u8, Vec<u8>),
    Close(u8),
}

fuzz_target!(|happenings: Vec<Happening>| {
    let clients = Clients::new(Box::new(|| {}), Parser::Default);
    for happening in happenings {
        let session = match &happening {
            Happening::Text(session, _)
            | Happening::Binary(session, _)
            | Happening::Close(session) => u64::from(session % 4),
        };
        match happening {
            Happening::Text(_, text) => {
                clients.on_message(session, Message::Text(TextMessage::new(&text)))
            }
            Happening::Binary(_, data) => {
                clients.on_message(session, Message::Binary(Bytes::from(data)))
            }
            Happening::Close(_) => clients.on_close(session, CloseReason::TransportClose),
        }
        for event in clients.drain() {
            match event {
                IoEvent::SocketIoPacket {
                    session: from,
                    packet,
                } => {
                    assert_eq!(
                        from, session,
                        "a packet is reported for the session that sent it"
                    );
                    assert_eq!(packet.kind.is_binary(), !packet.attachments.is_empty());
                }
                IoEvent::ParseError { session: from, .. }
                | IoEvent::Close { session: from, .. } => {
                    assert_eq!(from, session)
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
});
