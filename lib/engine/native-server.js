/**
 * The Rust core of one engine (`BindingServer`, src/binding/server.rs): the only holder of the
 * addon's handle. Every call into Rust passes here, so that what the calls have in common is
 * done once: a send schedules the turn's flush, and the long-poll answers it released go back to
 * the engine at once.
 */
"use strict";

const { wireFormatOf } = require("../parser");
const { BindingServer, EventKind, EVENT_SLOTS } = require("../native");
const { shareDebugSettings } = require("../logs");

/**
 * Each event of a batch as an object tagged by `kind` (the name of its `EventKind`), from its
 * slots (`EVENT_SLOTS` values: kind, session, then the kind's fields; src/binding/events.rs).
 */
const decoders = {
  [EventKind.SocketIoPacket]: (e, i) => ({
    kind: "SocketIoPacket",
    session: e[i + 1],
    nsp: e[i + 2],
    packetType: e[i + 3],
    ackId: e[i + 4] ?? undefined,
    data: e[i + 5],
    attachments: e[i + 6] ?? undefined,
  }),
  [EventKind.ParseError]: (e, i) => ({ kind: "ParseError", session: e[i + 1], message: e[i + 2] }),
  [EventKind.Undecoded]: (e, i) => ({ kind: "Undecoded", session: e[i + 1], text: e[i + 2], binary: e[i + 3] }),
  [EventKind.Message]: (e, i) => ({ kind: "Message", session: e[i + 1], text: e[i + 2], binary: e[i + 3] }),
  [EventKind.Packet]: (e, i) => ({
    kind: "Packet",
    session: e[i + 1],
    incoming: e[i + 2],
    packetType: e[i + 3],
    data: e[i + 4],
    binary: e[i + 5],
  }),
  [EventKind.Upgrading]: (e, i) => ({ kind: "Upgrading", session: e[i + 1] }),
  [EventKind.Upgrade]: (e, i) => ({ kind: "Upgrade", session: e[i + 1] }),
  [EventKind.Close]: (e, i) => ({ kind: "Close", session: e[i + 1], reason: e[i + 2], description: e[i + 3] }),
  [EventKind.PollAnswer]: (e, i) => ({ kind: "PollAnswer", session: e[i + 1], body: e[i + 2] }),
  [EventKind.ConnectionClosed]: (e, i) => ({ kind: "ConnectionClosed", connection: e[i + 1] }),
};

/** A batch of events from its slots. */
function decodeEvents(slots) {
  const events = new Array(slots.length / EVENT_SLOTS);
  for (let i = 0, n = 0; i < slots.length; i += EVENT_SLOTS, n++) events[n] = decoders[slots[i]](slots, i);
  return events;
}

class NativeServer {
  #binding;
  #onPollAnswers;
  #flushScheduled = false;

  /**
   * @param {object} opts the engine's options (upstream's names)
   * @param {object} hooks
   * @param {() => void} hooks.onEvents called when events wait in `drainEvents`
   * @param {() => void} hooks.onPollAnswers called when a send released answers, which wait in
   *   `takePollAnswers`; it may throw, to the sender
   */
  constructor(opts, { onEvents, onPollAnswers }) {
    this.#onPollAnswers = onPollAnswers;
    /** Counts flushes: a connection sent to in the current turn is busy (volatile packets wait). */
    this.turn = 0;
    /** The last turn with a broadcast, whose recipients JS does not know: all are busy. */
    this.broadcastTurn = -1;
    shareDebugSettings();
    this.#binding = new BindingServer(
      {
        pingInterval: opts.pingInterval,
        pingTimeout: opts.pingTimeout,
        upgradeTimeout: opts.upgradeTimeout,
        maxHttpBufferSize: opts.maxHttpBufferSize,
        allowUpgrades: opts.allowUpgrades,
        websocket: opts.transports.includes("websocket"),
        recovery: opts.connectionStateRecovery
          ? {
              maxDisconnectionDuration: opts.connectionStateRecovery.maxDisconnectionDuration,
              maxBufferedBytes: opts.connectionStateRecovery.maxBufferedBytes,
            }
          : undefined,
        parser: wireFormatOf(opts.parser),
      },
      onEvents,
    );
  }

  /** What Rust queued: event objects tagged by `kind` (see `decoders`). */
  drainEvents() {
    return decodeEvents(this.#binding.drainEvents());
  }

  /** Poll answers released by sends: `[session handle, body]` each. */
  takePollAnswers() {
    return this.#binding.takePollAnswers();
  }

  /**
   * Queues a Socket.IO packet, `[nsp, type, ackId, json, attachments, stored]` (BindingPacket in
   * src/binding/convert.rs), to sessions named by their handles (a Float64Array: numbers cross to
   * Rust without a conversion per recipient).
   */
  sendPacket(handles, packet) {
    this.#sent(this.#binding.sendPacket(handles, packet));
  }

  /** Queues a packet of namespace `nsp` that the server's parser encoded in JS as `messages`. */
  sendEncoded(handles, nsp, messages, stored) {
    this.#sent(this.#binding.sendEncoded(handles, nsp, messages, stored));
  }

  /**
   * Queues a Socket.IO packet to the connected sockets of its namespace in any of `rooms` (all
   * when empty) and in none of `except`, as Rust's room index finds them.
   */
  broadcast(rooms, except, packet) {
    this.broadcastTurn = this.turn;
    this.#sent(this.#binding.broadcast(rooms, except, packet));
  }

  /** Queues a raw engine message to one session. */
  sendMessage(handle, data) {
    this.#sent(this.#binding.send(handle, data));
  }

  /**
   * Queues to a session what it missed since `offset` (connection-state recovery); returns the
   * offset of the last packet queued (`offset` when none), or null when that cannot be done.
   */
  replay(handle, nsp, offset, rooms) {
    const lastReplayed = this.#binding.replay(handle, nsp, offset, rooms);
    this.#scheduleFlush();
    this.#onPollAnswers();
    return lastReplayed;
  }

  /** Marks `conn` (an engine Socket) written to in this turn: busy until the turn's flush. */
  markBusy(conn) {
    conn._sentInTurn = this.turn;
  }

  #sent(answersWaiting) {
    this.#scheduleFlush();
    if (answersWaiting > 0) this.#onPollAnswers();
  }

  /**
   * Rust queues what JS sends without waking the connections' writers; they are woken once, after
   * this event-loop turn, so that a turn's packets leave each connection in one write. (A turn
   * that queues much, such as a loop of broadcasts, has Rust wake them during the turn as well:
   * `EARLY_FLUSH_MESSAGES` in src/engine/mod.rs. A connection stays busy for volatile packets
   * until this flush all the same.)
   */
  #scheduleFlush() {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.turn++;
      this.#binding.flush();
    });
  }

  // Rooms of namespace `nsp`, mirrored from the adapter so that broadcasts find their recipients
  // in Rust.

  join(nsp, id, rooms) {
    this.#binding.join(nsp, id, rooms);
  }

  leave(nsp, id, rooms) {
    this.#binding.leave(nsp, id, rooms);
  }

  connectSocket(nsp, id, handle) {
    this.#binding.connectSocket(nsp, id, handle);
  }

  disconnectSocket(nsp, id) {
    this.#binding.disconnectSocket(nsp, id);
  }

  lastStoredOffset(nsp, id) {
    return this.#binding.lastStoredOffset(nsp, id);
  }

  /** The stream id of the last cluster broadcast Rust delivered to socket `id`, or null. */
  lastStreamOffset(nsp, id) {
    return this.#binding.lastStreamOffset(nsp, id);
  }

  recoverable(nsp, offset) {
    return this.#binding.recoverable(nsp, offset);
  }

  // Sessions. Polling calls throw an Error whose message is a code of errors.js's
  // `nativeErrorCodes`.

  openPolling(sid, protocol) {
    return this.#binding.openPolling(sid, protocol);
  }

  /** A long-poll GET: the body if data is ready, else null (it comes later as an event). */
  poll(sid) {
    return this.#binding.poll(sid);
  }

  /**
   * A POST body. Returns what it caused, for the engine to dispatch at once (upstream handles the
   * packets of a POST within its request): the poll answers it released as `PollAnswer` events,
   * then every event queued so far. None of it woke the engine.
   */
  post(sid, body) {
    return decodeEvents(this.#binding.post(sid, body));
  }

  requestAborted(sid, description) {
    this.#binding.requestAborted(sid, description);
  }

  close(sid, discard) {
    this.#binding.close(sid, discard);
  }

  /** Returns `[session handle, bridge descriptor or -1]`. */
  openWebsocket(handoff, sid, protocol) {
    return this.#binding.openWebsocket(handoff, sid, protocol);
  }

  /** Returns the bridge descriptor, or -1. */
  upgradeWebsocket(handoff, sid) {
    return this.#binding.upgradeWebsocket(handoff, sid);
  }

  /**
   * The sockets of this server get the broadcasts of namespace `nsp` that the Redis Streams node
   * `node` (lib/cluster/redis-streams.js) reads.
   */
  serveCluster(node, nsp, recovery) {
    node.serve(this.#binding, nsp, recovery);
  }

  /** Engine packets are forwarded as events from now on (someone listens to them). */
  forwardPackets() {
    this.#binding.setPacketsListened(true);
  }

  /** Raw engine messages are forwarded as events from now on. */
  forwardMessages() {
    this.#binding.setMessagesListened(true);
  }
}

module.exports = { NativeServer };
