/**
 * The Rust core of one engine (`BindingServer`, src/binding/server.rs): the only holder of the
 * addon's handle. Every call into Rust passes here, so that what the calls have in common is
 * done once: a send schedules the turn's flush, and the long-poll answers it released go back to
 * the engine at once.
 */
"use strict";

const { wireFormatOf } = require("../parser");
const { BindingServer, EventKind, QUEUED_TEXT_SEPARATOR } = require("../native");
const { shareDebugSettings } = require("../logs");

/**
 * Reads a batch of events as Rust packs it (src/binding/events.rs): numbers, the texts they
 * measure, and binary buffers, each consumed in order.
 */
class BatchReader {
  constructor([numbers, texts, buffers]) {
    this.numbers = numbers;
    this.texts = texts;
    this.buffers = buffers;
    this.n = 0;
    this.t = 0;
    this.b = 0;
  }

  get done() {
    return this.n >= this.numbers.length;
  }

  number() {
    return this.numbers[this.n++];
  }

  /** A text, or null for none. */
  text() {
    const length = this.numbers[this.n++];
    if (length < 0) return null;
    const text = this.texts.slice(this.t, this.t + length);
    this.t += length;
    return text;
  }

  /** A message: `[text, null]` or `[null, binary]`. */
  textOrBinary() {
    if (this.numbers[this.n] === BINARY) {
      this.n++;
      return [null, this.buffers[this.b++]];
    }
    return [this.text(), null];
  }

  /** Attachments: an array of buffers, or undefined for none. */
  attachments() {
    const count = this.numbers[this.n++];
    if (count === 0) return undefined;
    const attachments = this.buffers.slice(this.b, this.b + count);
    this.b += count;
    return attachments;
  }
}

/**
 * Broadcasts that `broadcast` holds back together at most: a loop of emits to many sockets still
 * reaches Rust, whose writers then start on it (`EARLY_FLUSH_MESSAGES` in src/engine/mod.rs),
 * while it runs.
 */
const MAX_HELD_BROADCASTS = 16;

/** Whether two lists of room names are the same, in the same order. */
function sameNames(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The length that stands for a binary in a batch's numbers. */
const BINARY = -2;

/** Each event as an object tagged by `kind` (the name of its `EventKind`). */
const decoders = {
  [EventKind.SocketIoPacket]: (r, session) => {
    const nsp = r.text();
    const packetType = r.number();
    const ackId = r.number();
    return {
      kind: "SocketIoPacket",
      session,
      nsp,
      packetType,
      ackId: ackId < 0 ? undefined : ackId,
      data: r.text(),
      attachments: r.attachments(),
    };
  },
  [EventKind.ParseError]: (r, session) => ({ kind: "ParseError", session, message: r.text() }),
  [EventKind.Undecoded]: (r, session) => {
    const [text, binary] = r.textOrBinary();
    return { kind: "Undecoded", session, text, binary };
  },
  [EventKind.Message]: (r, session) => {
    const [text, binary] = r.textOrBinary();
    return { kind: "Message", session, text, binary };
  },
  [EventKind.Packet]: (r, session) => {
    const incoming = r.number() === 1;
    const packetType = r.text();
    const [data, binary] = r.textOrBinary();
    return { kind: "Packet", session, incoming, packetType, data, binary };
  },
  [EventKind.Upgrading]: (r, session) => ({ kind: "Upgrading", session }),
  [EventKind.Upgrade]: (r, session) => ({ kind: "Upgrade", session }),
  [EventKind.Close]: (r, session) => {
    const reason = r.text();
    return { kind: "Close", session, reason, description: r.text() };
  },
  [EventKind.PollAnswer]: (r, session) => ({ kind: "PollAnswer", session, body: r.text() }),
  [EventKind.ConnectionClosed]: (r, connection) => ({ kind: "ConnectionClosed", connection }),
  [EventKind.ConnectionHandedBack]: (r, connection) => {
    const fd = r.number();
    const [, read] = r.textOrBinary();
    return { kind: "ConnectionHandedBack", connection, fd, read };
  },
};

/** A batch of events from its packed form. */
function decodeEvents(batch) {
  const reader = new BatchReader(batch);
  const events = [];
  while (!reader.done) {
    const kind = reader.number();
    events.push(decoders[kind](reader, reader.number()));
  }
  return events;
}

class NativeServer {
  #binding;
  #onPollAnswers;
  #flushScheduled = false;
  /** Whether `queuePacket` may hold packets back: Rust frames them with the default parser. */
  #queueing;
  /** Set for the rest of a turn in which `sendNowThisTurn` was called. */
  #sendingNow = false;
  /** `[handle, packet type, ack id or -1]` per packet held back by `queuePacket`. */
  #queuedRecords = [];
  /** The namespace and JSON text of each of those packets. */
  #queuedTexts = [];
  /** Broadcasts held back by `broadcast`, all to the last broadcast's audience. */
  #heldPackets = [];
  /** A text message held back by `sendMessage`, and the sessions it goes to: `{ data, handles }`. */
  #heldMessage = null;
  /** The namespace, rooms and exceptions of the last broadcast. */
  #lastNsp = null;
  #lastRooms = [];
  #lastExcept = [];

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
    /**
     * Long-poll GETs that JS holds unanswered (lib/engine/transports/polling.js). While there
     * are any, broadcasts are not held back: one may answer such a GET, which upstream does
     * within the send, where a failing answer throws to the sender.
     */
    this.parkedGets = 0;
    this.#queueing = wireFormatOf(opts.parser) === "default";
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
    this.sendQueued();
    this.#sent(this.#binding.sendPacket(handles, packet));
  }

  /**
   * Holds back a Socket.IO packet without attachments to the WebSocket session `handle` until
   * the turn's flush, or until any other call here, so that the packets of a turn (a burst of
   * acks) cross to Rust in one call, in the order they were sent. Only for WebSocket sessions: a
   * send to a polling one may answer its waiting GET, which upstream does within the send.
   * Returns false, holding nothing, when the packet must be sent with `sendPacket` instead.
   */
  queuePacket(handle, nsp, type, ackId, json) {
    if (!this.#queueing || this.#sendingNow || nsp.includes(QUEUED_TEXT_SEPARATOR)) return false;
    this.#sendHeldBroadcasts();
    this.#sendHeldMessage();
    this.#queuedRecords.push(handle, type, ackId ?? -1);
    this.#queuedTexts.push(nsp, json);
    this.#scheduleFlush();
    return true;
  }

  /**
   * Hands Rust what this turn held back, and holds nothing back for the rest of the turn: for a
   * send that Rust completes later on its own (a cluster broadcast, delivered locally once Redis
   * has it), which must find everything sent before it already queued, and after it nothing
   * that upstream would have written at once.
   */
  sendNowThisTurn() {
    this.sendQueued();
    this.#sendingNow = true;
    this.#scheduleFlush();
  }

  /**
   * Hands Rust what `queuePacket`, `broadcast` and `sendMessage` held back (one of them at most:
   * each hands the others' over before holding). Every call into Rust but the reads of events
   * does this first, so that Rust sees sends, room changes and session changes in the order JS
   * made them.
   */
  sendQueued() {
    this.#sendHeldBroadcasts();
    this.#sendHeldMessage();
    if (this.#queuedRecords.length === 0) return;
    const records = new Float64Array(this.#queuedRecords);
    const texts = this.#queuedTexts.join(QUEUED_TEXT_SEPARATOR);
    this.#queuedRecords = [];
    this.#queuedTexts = [];
    this.#sent(this.#binding.sendQueued(records, texts));
  }

  /** Queues a packet of namespace `nsp` that the server's parser encoded in JS as `messages`. */
  sendEncoded(handles, nsp, messages, stored) {
    this.sendQueued();
    this.#sent(this.#binding.sendEncoded(handles, nsp, messages, stored));
  }

  /**
   * Queues a Socket.IO packet to the connected sockets of its namespace in any of `rooms` (all
   * when empty) and in none of `except`, as Rust's room index finds them.
   *
   * A broadcast to the same namespace and rooms as the one before it is held back until the
   * turn's flush or any other call here, and those that follow it to that audience join it: Rust
   * then takes each recipient's queue once for all of them (a loop of emits to one audience),
   * where each broadcast alone takes it once per recipient. (One to another audience than the
   * last crosses at once: held alone, it would only cost the holding.) Not held: packets with
   * attachments, whose buffers Rust copies only when it takes them and the sender may reuse;
   * any with another parser than the default, whose framing can fail; and any while a long-poll
   * GET waits in JS (see `parkedGets`).
   */
  broadcast(rooms, except, packet) {
    this.broadcastTurn = this.turn;
    const holdable = this.#queueing && !this.#sendingNow && this.parkedGets === 0 && packet[4] == null;
    const sameAudience =
      packet[0] === this.#lastNsp && sameNames(this.#lastRooms, rooms) && sameNames(this.#lastExcept, except);
    const held = this.#heldPackets;
    if (holdable && sameAudience && held.length > 0 && held.length < MAX_HELD_BROADCASTS) {
      held.push(packet);
      return;
    }
    this.sendQueued();
    this.#lastNsp = packet[0];
    this.#lastRooms = rooms;
    this.#lastExcept = except;
    if (holdable && sameAudience) {
      this.#heldPackets = [packet];
      this.#scheduleFlush();
      return;
    }
    this.#sent(this.#binding.broadcast(rooms, except, packet));
  }

  /** Hands Rust the broadcasts held back, all to the last broadcast's audience. */
  #sendHeldBroadcasts() {
    if (this.#heldPackets.length === 0) return;
    const packets = this.#heldPackets;
    this.#heldPackets = [];
    this.#sent(this.#binding.broadcastAll(this.#lastRooms, this.#lastExcept, packets));
  }

  /**
   * Queues a raw engine message to session `handle`. A text message is held back until the
   * turn's flush or any other call here, and the same text sent next to other sessions joins it:
   * an adapter of socket.io-adapter's (the npm cluster adapters) broadcasts a packet by encoding
   * it once and writing it to each socket in turn (`Client#writeToEngine`), and those writes then
   * cross to Rust in one call, the text framed once. Not held: binary messages (Rust copies a
   * Buffer only when it crosses, and the sender may reuse it), and any message while a long-poll
   * GET waits in JS (upstream answers it within the send).
   */
  sendMessage(handle, data) {
    const held = this.#heldMessage;
    if (held !== null && held.data === data) {
      held.handles.push(handle);
      return;
    }
    this.sendQueued();
    if (typeof data === "string" && !this.#sendingNow && this.parkedGets === 0) {
      this.#heldMessage = { data, handles: [handle] };
      this.#scheduleFlush();
      return;
    }
    this.#sent(this.#binding.send(new Float64Array([handle]), data));
  }

  /** Hands Rust the text message held back, to every session it was sent to. */
  #sendHeldMessage() {
    const held = this.#heldMessage;
    if (held === null) return;
    this.#heldMessage = null;
    this.#sent(this.#binding.send(new Float64Array(held.handles), held.data));
  }

  /**
   * Queues to a session what it missed since `offset` (connection-state recovery); returns the
   * offset of the last packet queued (`offset` when none), or null when that cannot be done.
   */
  replay(handle, nsp, offset, rooms) {
    this.sendQueued();
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
      this.#sendingNow = false;
      this.sendQueued();
      this.turn++;
      this.#binding.flush();
    });
  }

  // Rooms of namespace `nsp`, mirrored from the adapter so that broadcasts find their recipients
  // in Rust.

  join(nsp, id, rooms) {
    this.sendQueued();
    this.#binding.join(nsp, id, rooms);
  }

  leave(nsp, id, rooms) {
    this.sendQueued();
    this.#binding.leave(nsp, id, rooms);
  }

  connectSocket(nsp, id, handle) {
    this.sendQueued();
    this.#binding.connectSocket(nsp, id, handle);
  }

  disconnectSocket(nsp, id) {
    this.sendQueued();
    this.#binding.disconnectSocket(nsp, id);
  }

  lastStoredOffset(nsp, id) {
    this.sendQueued();
    return this.#binding.lastStoredOffset(nsp, id);
  }

  /** The stream id of the last cluster broadcast Rust delivered to socket `id`, or null. */
  lastStreamOffset(nsp, id) {
    this.sendQueued();
    return this.#binding.lastStreamOffset(nsp, id);
  }

  recoverable(nsp, offset) {
    this.sendQueued();
    return this.#binding.recoverable(nsp, offset);
  }

  // Sessions. Polling calls throw an Error whose message is a code of errors.js's
  // `nativeErrorCodes`.

  openPolling(sid, protocol) {
    this.sendQueued();
    return this.#binding.openPolling(sid, protocol);
  }

  /** A long-poll GET: the body if data is ready, else null (it comes later as an event). */
  poll(sid) {
    this.sendQueued();
    return this.#binding.poll(sid);
  }

  /**
   * A POST body. Returns what it caused, for the engine to dispatch at once (upstream handles the
   * packets of a POST within its request): the poll answers it released as `PollAnswer` events,
   * then every event queued so far. None of it woke the engine.
   */
  post(sid, body) {
    this.sendQueued();
    return decodeEvents(this.#binding.post(sid, body));
  }

  requestAborted(sid, description) {
    this.sendQueued();
    this.#binding.requestAborted(sid, description);
  }

  close(sid, discard) {
    this.sendQueued();
    this.#binding.close(sid, discard);
  }

  /** Returns `[session handle, bridge descriptor or -1]`. */
  openWebsocket(handoff, sid, protocol) {
    this.sendQueued();
    return this.#binding.openWebsocket(handoff, sid, protocol);
  }

  /** Returns the bridge descriptor, or -1. */
  upgradeWebsocket(handoff, sid) {
    this.sendQueued();
    return this.#binding.upgradeWebsocket(handoff, sid);
  }

  /**
   * Rust serves the polling requests of a kept-alive connection from now on
   * (src/engine/polling_connection.rs); `handoff` names its descriptor and the terms of the
   * answer just given on it.
   */
  takePollingConnection(handoff) {
    this.sendQueued();
    this.#binding.takePollingConnection(handoff);
  }

  /** Every polling request goes through JS from now on: Rust hands its connections back. */
  servePollingInJs() {
    this.sendQueued();
    this.#binding.servePollingInJs();
  }

  /** The HTTP server closes its idle connections: Rust closes the idle ones it serves. */
  closeIdlePollingConnections() {
    this.sendQueued();
    this.#binding.closeIdlePollingConnections();
  }

  /**
   * The sockets of this server get the broadcasts of namespace `nsp` that the Redis Streams node
   * `node` (lib/cluster/redis-streams.js) reads.
   */
  serveCluster(node, nsp, recovery) {
    this.sendQueued();
    node.serve(this.#binding, nsp, recovery);
  }

  /** Engine packets are forwarded as events from now on (someone listens to them). */
  forwardPackets() {
    this.sendQueued();
    this.#binding.setPacketsListened(true);
  }

  /** Raw engine messages are forwarded as events from now on. */
  forwardMessages() {
    this.sendQueued();
    this.#binding.setMessagesListened(true);
  }
}

module.exports = { NativeServer };
