// Compiled (never run) by __test__/types.test.js: the public types accept upstream-style code
// and refuse what upstream's types refuse.
import { createServer } from "http";
import { Server, Socket } from "../..";

interface ClientToServerEvents {
  hello: (name: string, ack: (greeting: string) => void) => void;
}
interface ServerToClientEvents {
  news: (text: string, count: number) => void;
  ping: (ack: (pong: string) => void) => void;
}
interface InterServerEvents {
  sync: (n: number) => void;
}
interface SocketData {
  user: string;
}

const io = new Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>(createServer(), {
  connectionStateRecovery: { maxDisconnectionDuration: 60_000, maxBufferedBytes: 1 << 20 },
  cors: { origin: "https://example.com", credentials: true },
});

io.use((socket, next) => (socket.handshake.auth.token ? next() : next(new Error("unauthorized"))));

io.on("connection", (socket: Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>) => {
  socket.data.user = "alice";
  socket.on("hello", (name, ack) => ack(`hi ${name}`));
  socket.emit("news", "hello", 1);
  socket.join("room1");
  io.to("room1").except("room2").emit("news", "room", 2);
  socket.timeout(1000).emit("ping", (err, pong) => {
    if (!err) pong.toUpperCase();
  });
  void socket.recovered;
  void socket.conn.transport.name;
  // @ts-expect-error an event that is not in the map
  socket.emit("unknown", 1);
  // @ts-expect-error arguments of the wrong type
  socket.emit("news", 1, "hello");
});

async function acks(): Promise<void> {
  const pongs: string[] = await io.timeout(1000).emitWithAck("ping");
  void pongs;
  const sockets = await io.in("room1").fetchSockets();
  sockets.forEach((s) => s.data.user.toUpperCase());
  io.serverSideEmit("sync", 1);
}
void acks;
io.of(/^\/dynamic-\d+$/).on("connection", (socket) => socket.disconnect(true));
io.engine.on("connection_error", (err: { code: number; message: string }) => void err.code);
void io.close();

// Untyped event maps (the default) accept acknowledgements everywhere, as upstream's types do.
const untyped = new Server();
untyped.timeout(500).emit("test", (err: Error, responses: any[]) => {
  if (err) responses.length;
});
untyped.on("connection", async (socket) => {
  const answer: any = await socket.emitWithAck("test");
  const [remote] = await untyped.fetchSockets();
  await remote.timeout(500).emitWithAck("test", answer);
});
// The adapter is socket.io-adapter's Adapter, which cluster adapters' users call.
void untyped.of("/").adapter.close();
void untyped.of("/").adapter.init();
void untyped.of("/").adapter.serverCount();
