// Compiled (never run) by __test__/types.test.js: how the generic event maps type listeners,
// emits, broadcasts and acknowledgements, covering what upstream's type tests
// (test/socket.io.test-d.ts, run by compat/run-types.sh) check. `same<A, B>(true)` compiles only
// when A and B are the same type (not merely assignable); each `@ts-expect-error` must meet an
// error, or the compilation fails.
import { Adapter } from "socket.io-adapter";
import { BroadcastOperator, DefaultEventsMap, DisconnectReason, Server, Socket } from "../..";

type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
declare function same<A, B>(proof: Same<A, B>): void;

// ---------------------------------------------------------------- without event maps

function untyped(io: Server): void {
  io.on("connection", (socket) => {
    same<Socket<DefaultEventsMap, DefaultEventsMap>, typeof socket>(true);
    socket.on("disconnect", (reason) => same<DisconnectReason, typeof reason>(true));
    socket.on("disconnecting", (reason) => same<DisconnectReason, typeof reason>(true));
    socket.on("anything", (first, second) => {
      same<any, typeof first>(true);
      same<any, typeof second>(true);
    });
    socket.emit("anything", 1, "2", [3]);
    socket.emit("nothing");
  });
  // a string enum names reserved events as well as literals do
  enum Names {
    Connection = "connection",
  }
  io.on(Names.Connection, (socket) => same<Socket<DefaultEventsMap, DefaultEventsMap>, typeof socket>(true));
  io.emit("anything", 1, "2", [3]);
  io.of("/other").emit("anything");
  io.send(1, "2");
  io.of("/other").send();
}

async function untypedAcks(io: Server): Promise<void> {
  const fromBroadcast = await io.timeout(100).emitWithAck("question", true);
  same<any, typeof fromBroadcast>(true);
  const fromRoom = io.to("room").emitWithAck("question");
  same<Promise<any>, typeof fromRoom>(true);
  io.on("connection", async (socket) => {
    const answer = await socket.emitWithAck("question", 1);
    same<any, typeof answer>(true);
  });
}

// ---------------------------------------------------------------- one map both ways

interface Chat {
  message: (text: string, from: number, tags: string[]) => void;
}

function oneMap(io: Server<Chat>): void {
  same<Server<Chat, Chat>, typeof io>(true);
  io.on("connection", (socket) => {
    same<Socket<Chat, Chat>, typeof socket>(true);
    socket.on("message", (text, from, tags) => {
      same<string, typeof text>(true);
      same<number, typeof from>(true);
      same<string[], typeof tags>(true);
    });
    // @ts-expect-error a listener is required
    socket.on("message");
    // @ts-expect-error a listener with more parameters than the event has
    socket.on("message", (text, from, tags, extra) => {});
    // @ts-expect-error event names are strings
    socket.on(2, 3);
  });
}

function noServerSideEvents(io: Server<Chat, Chat, {}>): void {
  // the server itself listens only to its reserved events and ServerSideEvents (none here)
  // @ts-expect-error "message" is a client event, not a server one
  io.on("message", () => {});
  // @ts-expect-error not an event of this server
  io.on("no such event", () => {});
}

// ---------------------------------------------------------------- separate maps

interface FromClients {
  ping: () => void;
  hello: (name: string) => void;
  order: (item: string, count: number, done: (receipt: string, total: number) => void) => void;
}

interface ToClients {
  ping: () => void;
  news: (title: string, rank: number) => void;
  confirm: (yes: boolean, reason: string, answer: (ok: boolean, note: string) => void) => void;
  choose: (first: boolean, second: string, answer: (choice: string) => void) => void;
  poke: (answer: () => void) => void;
}

/** ToClients as a broadcast sees it: each acknowledgement gets every client's first answer. */
interface ToClientsBroadcast {
  ping: () => void;
  news: (title: string, rank: number) => void;
  confirm: (yes: boolean, reason: string, answer: (oks: boolean[]) => void) => void;
  choose: (first: boolean, second: string, answer: (choices: string[]) => void) => void;
  poke: (answer: () => void) => void;
}

/** ToClientsBroadcast with a timeout: the acknowledgements get the Error first. */
interface ToClientsBroadcastWithTimeout {
  ping: () => void;
  news: (title: string, rank: number) => void;
  confirm: (yes: boolean, reason: string, answer: (err: Error, oks: boolean[]) => void) => void;
  choose: (first: boolean, second: string, answer: (err: Error, choices: string[]) => void) => void;
  poke: (answer: (err: Error) => void) => void;
}

/** ToClients with a timeout on one socket: the Error first, then the answer as sent. */
interface ToClientsWithTimeout {
  ping: () => void;
  news: (title: string, rank: number) => void;
  confirm: (yes: boolean, reason: string, answer: (err: Error, ok: boolean, note: string) => void) => void;
  choose: (first: boolean, second: string, answer: (err: Error, choice: string) => void) => void;
  poke: (answer: (err: Error) => void) => void;
}

function listening(io: Server<FromClients, ToClients>): void {
  io.on("connection", (socket) => {
    same<Socket<FromClients, ToClients>, typeof socket>(true);
    socket.on("ping", (...args) => same<[], typeof args>(true));
    socket.on("hello", (name) => same<string, typeof name>(true));
    socket.on("order", (item, count, done) => {
      same<string, typeof item>(true);
      same<number, typeof count>(true);
      same<(receipt: string, total: number) => void, typeof done>(true);
      done("r-1", 3);
    });
    // @ts-expect-error "ping" from clients has no parameters
    socket.on("ping", (unexpected: string) => {});
    // @ts-expect-error "news" goes to clients; it is not heard from them
    socket.on("news", (title: string) => {});
  });
}

function emitting(io: Server<FromClients, ToClients>): void {
  const nsp = io.of("/orders");
  // a broadcast without timeout cannot wait for answers: events with callbacks are refused
  io.emit("news", "title", 1);
  nsp.emit("ping");
  // @ts-expect-error "confirm" takes an acknowledgement
  io.emit("confirm", true, "why", () => {});
  // @ts-expect-error "poke" takes an acknowledgement
  nsp.emit("poke", () => {});
  // @ts-expect-error arguments of the wrong types
  io.emit("news", 1, "title");
  io.on("connection", (socket) => {
    // one socket can: its callback gets that client's answer
    socket.emit("confirm", true, "why", (ok, note) => {
      same<boolean, typeof ok>(true);
      same<string, typeof note>(true);
    });
    socket.emit("poke", () => {});
    // @ts-expect-error not an event of ToClients
    socket.emit("hello", "name");
  });
}

function sending(plain: Server<FromClients, ToClients>, withMessage: Server<{}, { message: (n: number, s: string) => void }>): void {
  // @ts-expect-error send() emits "message", which ToClients does not have
  plain.send(1);
  // @ts-expect-error not even without arguments
  plain.of("/x").send();
  withMessage.send(1, "two");
  withMessage.of("/x").send(1, "two");
  // @ts-expect-error "message" needs its arguments
  withMessage.send();
  // @ts-expect-error and of the right types
  withMessage.of("/x").send(1, 2);
}

function broadcasting(io: Server<FromClients, ToClients>): void {
  for (const emitter of [io, io.of("/")]) {
    same<BroadcastOperator<ToClientsBroadcast, any>, ReturnType<typeof emitter.to>>(true);
    same<BroadcastOperator<ToClientsBroadcast, any>, ReturnType<typeof emitter.in>>(true);
    same<BroadcastOperator<ToClientsBroadcast, any>, ReturnType<typeof emitter.except>>(true);
    same<BroadcastOperator<ToClientsBroadcast, any>, ReturnType<typeof emitter.compress>>(true);
    same<BroadcastOperator<ToClientsBroadcast, any>, typeof emitter.volatile>(true);
    same<BroadcastOperator<ToClientsBroadcast, any>, typeof emitter.local>(true);
    same<BroadcastOperator<ToClientsBroadcastWithTimeout, any>, ReturnType<typeof emitter.timeout>>(true);
    // a second timeout changes nothing more
    const twice = emitter.timeout(1).timeout(2);
    same<BroadcastOperator<ToClientsBroadcastWithTimeout, any>, typeof twice>(true);
  }
  io.timeout(1000).emit("confirm", true, "why", (err, oks) => {
    same<Error, typeof err>(true);
    same<boolean[], typeof oks>(true);
  });
  io.on("connection", (socket) => {
    const withTimeout = socket.timeout(10);
    same<Socket<FromClients, ToClientsWithTimeout, DefaultEventsMap, any>, typeof withTimeout>(true);
    same<BroadcastOperator<ToClientsBroadcastWithTimeout, any>, typeof withTimeout.broadcast>(true);
    same<BroadcastOperator<ToClientsBroadcast, any>, typeof socket.broadcast>(true);
    same<BroadcastOperator<ToClientsBroadcast, any>, ReturnType<typeof socket.to>>(true);
    same<BroadcastOperator<ToClientsBroadcast, any>, ReturnType<typeof socket.in>>(true);
    same<BroadcastOperator<ToClientsBroadcast, any>, ReturnType<typeof socket.except>>(true);
    const later = socket.broadcast.timeout(5);
    same<BroadcastOperator<ToClientsBroadcastWithTimeout, any>, typeof later>(true);
    same<BroadcastOperator<ToClientsBroadcastWithTimeout, any>, ReturnType<typeof later.timeout>>(true);
  });
}

async function awaitingAcks(io: Server<FromClients, ToClients>): Promise<void> {
  // a broadcast waits for answers only with a timeout
  // @ts-expect-error no event qualifies before timeout()
  io.to("room").emitWithAck("confirm", true, "why");
  const oks = await io.timeout(100).emitWithAck("confirm", true, "why");
  same<boolean[], typeof oks>(true);
  const choices = await io.timeout(100).emitWithAck("choose", false, "b");
  same<string[], typeof choices>(true);
  const pokes = await io.timeout(100).emitWithAck("poke");
  same<undefined, typeof pokes>(true);
  // @ts-expect-error "ping" has no acknowledgement to wait for
  io.timeout(100).emitWithAck("ping");
  // @ts-expect-error neither has "news"
  io.timeout(100).emitWithAck("news", "title", 1);

  io.on("connection", async (socket) => {
    const ok = await socket.emitWithAck("confirm", true, "why");
    same<boolean, typeof ok>(true);
    const choice = await socket.timeout(100).emitWithAck("choose", true, "b");
    same<string, typeof choice>(true);
    const poked = await socket.timeout(100).emitWithAck("poke");
    same<undefined, typeof poked>(true);
    // @ts-expect-error "ping" has no acknowledgement
    socket.emitWithAck("ping");
    // @ts-expect-error neither has "news"
    socket.emitWithAck("news", "title", 1);
  });
}

// ---------------------------------------------------------------- between servers

interface BetweenServers {
  ping: () => void;
  sync: (key: string, version: number) => void;
  count: (room: string, reply: (sockets: number) => void) => void;
}

async function serverSide(io: Server<{}, {}, BetweenServers>): Promise<void> {
  io.serverSideEmit("ping");
  io.serverSideEmit("sync", "key", 2);
  io.of("/other").serverSideEmit("sync", "key", 2);
  // @ts-expect-error arguments of the wrong types
  io.serverSideEmit("sync", 2, "key");
  // the callback gets the timeout's Error, then every other server's answer
  io.serverSideEmit("count", "room", (err, counts) => {
    same<Error, typeof err>(true);
    same<number[], typeof counts>(true);
  });
  const counts = await io.serverSideEmitWithAck("count", "room");
  same<number[], typeof counts>(true);
  // @ts-expect-error "sync" has no acknowledgement
  io.serverSideEmitWithAck("sync", "key");
  // @ts-expect-error nor has "ping"
  io.of("/other").serverSideEmitWithAck("ping");

  // what the other servers sent is heard on the server and its namespaces
  io.on("ping", (...args) => same<[], typeof args>(true));
  io.on("sync", (key, version) => {
    same<string, typeof key>(true);
    same<number, typeof version>(true);
  });
  io.of("/other").on("count", (room, reply) => {
    same<string, typeof room>(true);
    same<(sockets: number) => void, typeof reply>(true);
  });
}

// ---------------------------------------------------------------- adapters

function adapters(): void {
  // an Adapter class, or a function called with `new` that returns one
  const io = new Server({
    adapter: function (nsp) {
      return new Adapter(nsp);
    },
  });
  io.adapter(Adapter);
  class TaggedAdapter extends Adapter {
    constructor(
      nsp: any,
      readonly tag: string,
    ) {
      super(nsp);
    }
  }
  io.adapter(function (nsp) {
    return new TaggedAdapter(nsp, "a");
  });
  // @ts-expect-error a factory must make an adapter
  io.adapter(() => "not an adapter");
}

void [untyped, untypedAcks, oneMap, noServerSideEvents, listening, emitting, sending, broadcasting, awaitingAcks, serverSide, adapters];
