/** Types of socket.io-rs: the public API of upstream socket.io 4.8, with the same generic event maps. */
/// <reference types="node" />
import { EventEmitter } from "events";
import type { IncomingMessage, Server as HttpServer, ServerResponse } from "http";
import type { Server as HttpsServer } from "https";
import type { Http2SecureServer, Http2Server } from "http2";
import type { ParsedUrlQuery } from "querystring";

// ---------------------------------------------------------------- typed events
//
// An event map names each event and types its listener; the last parameter of a listener may be an
// acknowledgement callback. The generic classes below take up to three maps, as upstream's do:
// ListenEvents (from clients), EmitEvents (to clients) and ServerSideEvents (between servers).
// Acknowledgements change shape on the way: with a timeout the callback gets an Error first, and a
// broadcast's callback gets one answer per client (an array). The helpers here derive those shapes,
// so `io.timeout(1000).emit("ev", (err, answers) => ...)` is typed from the map alone.

/** A map of event names to listener signatures. */
export interface EventsMap {
  [event: string]: any;
}

/** The default map: any event, any arguments. */
export interface DefaultEventsMap {
  [event: string]: (...args: any[]) => void;
}

export type EventNames<Map extends EventsMap> = keyof Map & (string | symbol);

/** The parameters of an event's listener, as a tuple. */
export type EventParams<Map extends EventsMap, Ev extends EventNames<Map>> = Parameters<Map[Ev]>;

type IsAny<T> = 0 extends 1 & T ? true : false;
type IfAny<T, TypeIfAny, TypeIfNotAny> = IsAny<T> extends true ? TypeIfAny : TypeIfNotAny;

/** The type of a tuple's last element; for an array that is not a tuple (`any[]`), its element type. */
export type Last<T extends readonly unknown[]> = T extends readonly [infer Only]
  ? Only
  : T extends readonly [unknown, ...infer Tail]
    ? Last<Tail>
    : T extends ReadonlyArray<infer Element>
      ? Element
      : never;

/** Every element of a tuple but the last; for an array that is not a tuple, `any[]`. */
export type AllButLast<T extends any[]> = T extends [...infer Head, unknown] ? Head : any[];

/** The answer in an acknowledgement's parameters: the first, or the second when the first is the timeout's Error. */
export type FirstNonErrorTuple<T extends unknown[]> = T[0] extends Error ? T[1] : T[0];

/** What `emitWithAck` resolves with, given the acknowledgement callback's type. */
export type FirstNonErrorArg<T> = T extends (...args: infer Params) => any ? FirstNonErrorTuple<Params> : any;

/** Events whose last parameter is an acknowledgement callback (every event of an untyped map). */
export type EventNamesWithAck<Map extends EventsMap, K extends EventNames<Map> = EventNames<Map>> = IfAny<
  Last<Parameters<Map[K]>> | Map[K],
  K,
  K extends (
    Parameters<Map[K]> extends never[] ? never : Last<Parameters<Map[K]>> extends (...args: any[]) => any ? K : never
  )
    ? K
    : never
>;

/** Events whose last parameter is not an acknowledgement callback (every event of an untyped map). */
export type EventNamesWithoutAck<Map extends EventsMap, K extends EventNames<Map> = EventNames<Map>> = IfAny<
  Last<Parameters<Map[K]>> | Map[K],
  K,
  K extends (Parameters<Map[K]> extends never[] ? K : never)
    ? K
    : K extends (Last<Parameters<Map[K]>> extends (...args: any[]) => any ? never : K)
      ? K
      : never
>;

/** The map without its events that take an acknowledgement (what a broadcast without timeout may send). */
export type RemoveAcknowledgements<E extends EventsMap> = {
  [K in EventNamesWithoutAck<E>]: E[K];
};

/** Events whose acknowledgement gets an Error first: those `emitWithAck` may send once a timeout is set. */
export type EventNamesWithError<Map extends EventsMap, K extends EventNamesWithAck<Map> = EventNamesWithAck<Map>> = IfAny<
  Last<Parameters<Map[K]>> | Map[K],
  K,
  K extends (ParametersOf<Last<Parameters<Map[K]>>>[0] extends Error ? K : never) ? K : never
>;

/** `Parameters` for a type that may not be a function (then `never`). */
type ParametersOf<T> = T extends (...args: infer P) => any ? P : never;

/** Each element's type made an array of it. */
export type MultiplyArray<T extends unknown[]> = {
  [K in keyof T]: T[K][];
};

/** A one-element tuple of the first element of `T`, with its label (so editors show the callback's own names). */
type FirstKeepingLabel<T extends any[]> = T extends [any, ...infer Rest] ? (T extends [...infer First, ...Rest] ? First : never) : never;

/**
 * Listener parameters as a timeout sees them: every callback among them gets the timeout's Error
 * first, unless its first parameter already is an Error (so a second `timeout()` changes nothing).
 */
type PrependTimeoutError<Params extends any[]> = {
  [K in keyof Params]: Params[K] extends (...args: infer AckArgs) => infer Result
    ? AckArgs[0] extends Error
      ? Params[K]
      : (err: Error, ...args: AckArgs) => Result
    : Params[K];
};

/**
 * Listener parameters as a broadcast sees them: every callback gets the array of the clients'
 * first answers (after the Error, if it takes one) and nothing after it, since each client
 * answers on its own.
 */
type ExpectMultipleResponses<Params extends any[]> = {
  [K in keyof Params]: Params[K] extends (...args: infer AckArgs) => infer Result
    ? AckArgs extends [Error]
      ? (err: Error) => Result
      : AckArgs extends [Error, ...infer Answers]
        ? (err: Error, ...answers: FirstKeepingLabel<MultiplyArray<Answers>>) => Result
        : AckArgs extends []
          ? () => Result
          : (...answers: FirstKeepingLabel<MultiplyArray<AckArgs>>) => Result
    : Params[K];
};

/** The map as `timeout()` sees it: acknowledgements get an Error first. */
export type DecorateAcknowledgements<E> = {
  [K in keyof E]: E[K] extends (...args: infer Params) => infer Result ? (...args: PrependTimeoutError<Params>) => Result : E[K];
};

/** The map as a broadcast sees it: acknowledgements get every client's answer. */
export type DecorateAcknowledgementsWithMultipleResponses<E> = {
  [K in keyof E]: E[K] extends (...args: infer Params) => infer Result
    ? (...args: ExpectMultipleResponses<Params>) => Result
    : E[K];
};

/** The map as `serverSideEmit` sees it: acknowledgements get an Error first, then every other server's answer. */
export type DecorateAcknowledgementsWithTimeoutAndMultipleResponses<E> = {
  [K in keyof E]: E[K] extends (...args: infer Params) => infer Result
    ? (...args: ExpectMultipleResponses<PrependTimeoutError<Params>>) => Result
    : E[K];
};

/** Names a typed emitter listens to: its reserved events and the user's. */
export type ReservedOrUserEventNames<ReservedEventsMap extends EventsMap, UserEvents extends EventsMap> =
  | EventNames<ReservedEventsMap>
  | EventNames<UserEvents>;

/**
 * The listener of `Ev`: the reserved event's if `Ev` is reserved, else the user's; an untyped
 * listener when neither map types it (socket.io#3833, TypeScript#41778).
 */
export type ReservedOrUserListener<
  ReservedEvents extends EventsMap,
  UserEvents extends EventsMap,
  Ev extends ReservedOrUserEventNames<ReservedEvents, UserEvents>,
> = UntypedIfNever<
  Ev extends EventNames<ReservedEvents> ? ReservedEvents[Ev] : Ev extends EventNames<UserEvents> ? UserEvents[Ev] : never
>;

type UntypedIfNever<T> = [T] extends [never] ? (...args: any[]) => void | Promise<void> : T;

/** Something with a typed `emit` that is not an EventEmitter (a broadcast, a remote socket). */
export interface TypedEventBroadcaster<EmitEvents extends EventsMap> {
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean;
}

/**
 * The typed EventEmitter methods of Server, Namespace and Socket: `on`/`once`/`listeners` take
 * ListenEvents and the reserved events, `emit` takes EmitEvents. It exists only in these types
 * (the classes extend EventEmitter directly), so it is not exported.
 */
declare abstract class StrictEventEmitter<
    ListenEvents extends EventsMap,
    EmitEvents extends EventsMap,
    ReservedEvents extends EventsMap = {},
  >
  extends EventEmitter
  implements TypedEventBroadcaster<EmitEvents>
{
  on<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this;
  once<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this;
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean;
  listeners<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    event: Ev,
  ): ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>[];
}

/** Reserved event names of a socket. */
export interface SocketReservedEventsMap {
  disconnect: (reason: DisconnectReason, description?: any) => void;
  disconnecting: (reason: DisconnectReason, description?: any) => void;
  error: (err: Error) => void;
}

/** Reserved event names of a namespace. */
export interface NamespaceReservedEventsMap<
  ListenEvents extends EventsMap,
  EmitEvents extends EventsMap,
  ServerSideEvents extends EventsMap,
  SocketData,
> {
  connect: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void;
  connection: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void;
}

export interface ServerReservedEventsMap<
  ListenEvents extends EventsMap,
  EmitEvents extends EventsMap,
  ServerSideEvents extends EventsMap,
  SocketData,
> extends NamespaceReservedEventsMap<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
  new_namespace: (namespace: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void;
}

// ---------------------------------------------------------------- options

/** Options of the `cors` package, as upstream accepts them. */
export interface CorsOptions {
  origin?:
    | boolean
    | string
    | RegExp
    | Array<boolean | string | RegExp>
    | ((requestOrigin: string | undefined, callback: (err: Error | null, origin?: any) => void) => void);
  methods?: string | string[];
  allowedHeaders?: string | string[];
  exposedHeaders?: string | string[];
  credentials?: boolean;
  maxAge?: number;
  preflightContinue?: boolean;
  optionsSuccessStatus?: number;
}

export type CorsOptionsDelegate = (
  req: IncomingMessage,
  callback: (err: Error | null, options?: CorsOptions) => void,
) => void;

export interface CookieSerializeOptions {
  name?: string;
  domain?: string;
  encode?(value: string): string;
  expires?: Date;
  httpOnly?: boolean;
  maxAge?: number;
  partitioned?: boolean;
  path?: string;
  priority?: "low" | "medium" | "high";
  sameSite?: true | false | "lax" | "strict" | "none";
  secure?: boolean;
}

/** Engine.IO options (upstream engine.io's ServerOptions and AttachOptions). */
export interface EngineOptions {
  /** How many ms without a pong packet to consider the connection closed. @default 20000 */
  pingTimeout?: number;
  /** How many ms before sending a new ping packet. @default 25000 */
  pingInterval?: number;
  /** How many ms before an uncompleted transport upgrade is cancelled. @default 10000 */
  upgradeTimeout?: number;
  /** How many bytes or characters a message can be, before closing the session. @default 1e6 */
  maxHttpBufferSize?: number;
  /** A function that receives a handshake or upgrade request and decides whether to continue. */
  allowRequest?: (req: IncomingMessage, fn: (err: string | null | undefined, success: boolean) => void) => void;
  /** The low-level transports that are enabled. @default ["polling", "websocket"] */
  transports?: Array<"polling" | "websocket">;
  /** Whether to allow transport upgrades. @default true */
  allowUpgrades?: boolean;
  /** The WebSocket permessage-deflate extension: `true` or `{ threshold }`. @default false */
  perMessageDeflate?: boolean | { threshold?: number };
  /** Parameters of the http compression for the polling transports. @default { threshold: 1024 } */
  httpCompression?: boolean | object;
  /** An optional packet which will be concatenated to the handshake packet. */
  initialPacket?: any;
  /** Configuration of the cookie that contains the client sid. @default false */
  cookie?: CookieSerializeOptions | boolean;
  /** The options that will be forwarded to the cors module. */
  cors?: CorsOptions | CorsOptionsDelegate;
  /** Whether to enable compatibility with Socket.IO v2 clients. @default false */
  allowEIO3?: boolean;
  /** The name of the path to capture. @default "/engine.io" */
  path?: string;
  /** Whether we should add a trailing slash to the request path. @default true */
  addTrailingSlash?: boolean;
  /** Destroy unhandled upgrade requests. @default true */
  destroyUpgrade?: boolean;
  /** Milliseconds after which unhandled requests are ended. @default 1000 */
  destroyUpgradeTimeout?: number;
}

export interface ConnectionStateRecoveryOptions {
  /** The backup duration of the sessions and the packets. @default 120000 (2 minutes) */
  maxDisconnectionDuration?: number;
  /** Whether to skip middlewares upon successful connection state recovery. @default true */
  skipMiddlewares?: boolean;
  /**
   * socket.io-rs only: the bytes of packets kept per namespace for recovery; the oldest go first.
   * @default 67108864 (64 MiB)
   */
  maxBufferedBytes?: number;
}

export interface ServerOptions extends EngineOptions {
  /** Name of the path to capture. @default "/socket.io" */
  path: string;
  /** Whether to serve the client files. @default true */
  serveClient: boolean;
  /** The adapter to use. @default the in-memory adapter */
  adapter: AdapterConstructor;
  /**
   * The parser to use: an object with `Encoder` and `Decoder` classes, as socket.io-parser's
   * (the default) or socket.io-msgpack-parser's. @default socket.io-parser
   */
  parser: any;
  /** How many ms before a client without namespace is closed. @default 45000 */
  connectTimeout: number;
  /** Whether to enable the recovery of connection state when a client temporarily disconnects. */
  connectionStateRecovery: ConnectionStateRecoveryOptions;
  /** Whether to remove child namespaces that have no sockets connected to them. @default false */
  cleanupEmptyChildNamespaces: boolean;
}

// ---------------------------------------------------------------- engine

/** An Engine.IO connection (`io.engine`'s sockets, `socket.conn`). */
export interface EngineSocket extends EventEmitter {
  readonly id: string;
  readonly protocol: number;
  readonly request: IncomingMessage;
  readonly remoteAddress: string;
  readonly readyState: "opening" | "open" | "closing" | "closed";
  readonly upgraded: boolean;
  readonly upgrading: boolean;
  transport: { name: "polling" | "websocket"; sid: string; writable: boolean; readyState: string } & EventEmitter;
  send(data: string | Buffer | ArrayBuffer | ArrayBufferView, options?: { compress?: boolean }, callback?: () => void): this;
  write(data: string | Buffer | ArrayBuffer | ArrayBufferView, options?: { compress?: boolean }, callback?: () => void): this;
  close(discard?: boolean): void;
}

/** `io.engine`: the Engine.IO server. */
export interface Engine extends EventEmitter {
  readonly clientsCount: number;
  readonly clients: Record<string, EngineSocket>;
  opts: EngineOptions;
  generateId(req: IncomingMessage): string | PromiseLike<string>;
  use(middleware: (req: IncomingMessage, res: ServerResponse, next: (err?: any) => void) => void): void;
  close(): this;
}

// ---------------------------------------------------------------- socket.io

export type DisconnectReason =
  | "transport error"
  | "transport close"
  | "forced close"
  | "ping timeout"
  | "parse error"
  | "server shutting down"
  | "forced server close"
  | "client namespace disconnect"
  | "server namespace disconnect";

export type Room = string;
export type SocketId = string;
export type Event = [string, ...any[]];

export interface Handshake {
  headers: IncomingMessage["headers"];
  time: string;
  address: string;
  xdomain: boolean;
  secure: boolean;
  issued: number;
  url: string;
  query: ParsedUrlQuery;
  auth: { [key: string]: any };
}

export interface BroadcastFlags {
  volatile?: boolean;
  compress?: boolean;
  local?: boolean;
  broadcast?: boolean;
  binary?: boolean;
  timeout?: number;
}

export interface BroadcastOptions {
  rooms: Set<Room>;
  except?: Set<Room>;
  flags?: BroadcastFlags;
}

/** A session kept for connection state recovery (socket.io-adapter's). */
export interface Session {
  sid: SocketId;
  pid: string;
  rooms: Room[];
  data: unknown;
  missedPackets: unknown[][];
}

/**
 * A namespace's adapter: its rooms, broadcasts, cluster operations and recovery sessions, as
 * socket.io-adapter's `Adapter` defines them (the `adapter` option takes any such class).
 */
export interface Adapter extends EventEmitter {
  readonly nsp: Namespace<any, any, any, any>;
  rooms: Map<Room, Set<SocketId>>;
  sids: Map<SocketId, Set<Room>>;
  init(): Promise<void> | void;
  close(): Promise<void> | void;
  serverCount(): Promise<number>;
  addAll(id: SocketId, rooms: Set<Room>): Promise<void> | void;
  del(id: SocketId, room: Room): Promise<void> | void;
  delAll(id: SocketId): void;
  broadcast(packet: any, opts: BroadcastOptions): void;
  broadcastWithAck(
    packet: any,
    opts: BroadcastOptions,
    clientCountCallback: (clientCount: number) => void,
    ack: (...args: any[]) => void,
  ): void;
  sockets(rooms: Set<Room>): Promise<Set<SocketId>>;
  socketRooms(id: SocketId): Set<Room> | undefined;
  fetchSockets(opts: BroadcastOptions): Promise<any[]>;
  addSockets(opts: BroadcastOptions, rooms: Room[]): void;
  delSockets(opts: BroadcastOptions, rooms: Room[]): void;
  disconnectSockets(opts: BroadcastOptions, close: boolean): void;
  serverSideEmit(packet: any[]): void;
  persistSession(session: Omit<Session, "missedPackets">): void | Promise<void>;
  restoreSession(pid: string, offset: string): Promise<Session | null> | Session | null;
}

/**
 * What the `adapter` option and `io.adapter(v)` take: an Adapter class, or a function that makes
 * one for a namespace. Either is called with `new`, as upstream does, so the function must be a
 * `function`, not an arrow function.
 */
export type AdapterConstructor = (new (nsp: Namespace) => Adapter) | ((nsp: Namespace) => Adapter);

/** A broadcast: the sockets it targets (rooms, exceptions) and its flags, chained until `emit`. */
export class BroadcastOperator<EmitEvents extends EventsMap, SocketData> implements TypedEventBroadcaster<EmitEvents> {
  to(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData>;
  in(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData>;
  except(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData>;
  compress(compress: boolean): BroadcastOperator<EmitEvents, SocketData>;
  get volatile(): BroadcastOperator<EmitEvents, SocketData>;
  get local(): BroadcastOperator<EmitEvents, SocketData>;
  timeout(timeout: number): BroadcastOperator<DecorateAcknowledgements<EmitEvents>, SocketData>;
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean;
  /** Only after `timeout()`: without one, a client that never answers would leave the Promise pending. */
  emitWithAck<Ev extends EventNamesWithError<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>>;
  allSockets(): Promise<Set<SocketId>>;
  fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]>;
  socketsJoin(room: Room | Room[]): void;
  socketsLeave(room: Room | Room[]): void;
  disconnectSockets(close?: boolean): void;
}

/** A socket as `fetchSockets()` returns it, possibly on another server of the cluster. */
export class RemoteSocket<EmitEvents extends EventsMap, SocketData> implements TypedEventBroadcaster<EmitEvents> {
  readonly id: SocketId;
  readonly handshake: Handshake;
  readonly rooms: Set<Room>;
  readonly data: SocketData;
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean;
  timeout(timeout: number): BroadcastOperator<DecorateAcknowledgements<EmitEvents>, SocketData>;
  join(room: Room | Room[]): void;
  leave(room: Room): void;
  disconnect(close?: boolean): this;
}

export class Socket<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = any,
> extends StrictEventEmitter<ListenEvents, EmitEvents, SocketReservedEventsMap> {
  readonly nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  readonly id: SocketId;
  /** Whether the connection state was recovered after a temporary disconnection. */
  readonly recovered: boolean;
  readonly handshake: Handshake;
  data: SocketData;
  connected: boolean;
  readonly client: { readonly conn: EngineSocket; readonly request: IncomingMessage };
  get conn(): EngineSocket;
  get request(): IncomingMessage;
  get rooms(): Set<Room>;
  get disconnected(): boolean;
  get volatile(): this;
  get broadcast(): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData>;
  get local(): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData>;

  emitWithAck<Ev extends EventNamesWithAck<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>>;
  to(room: Room | Room[]): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData>;
  in(room: Room | Room[]): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData>;
  except(room: Room | Room[]): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData>;
  send(...args: EventParams<EmitEvents, "message">): this;
  write(...args: EventParams<EmitEvents, "message">): this;
  join(rooms: Room | Array<Room>): Promise<void> | void;
  leave(room: string): Promise<void> | void;
  disconnect(close?: boolean): this;
  compress(compress: boolean): this;
  timeout(timeout: number): Socket<ListenEvents, DecorateAcknowledgements<EmitEvents>, ServerSideEvents, SocketData>;
  use(fn: (event: Event, next: (err?: Error) => void) => void): this;
  onAny(listener: (...args: any[]) => void): this;
  prependAny(listener: (...args: any[]) => void): this;
  offAny(listener?: (...args: any[]) => void): this;
  listenersAny(): Array<(...args: any[]) => void>;
  onAnyOutgoing(listener: (...args: any[]) => void): this;
  prependAnyOutgoing(listener: (...args: any[]) => void): this;
  offAnyOutgoing(listener?: (...args: any[]) => void): this;
  listenersAnyOutgoing(): Array<(...args: any[]) => void>;
}

export interface ExtendedError extends Error {
  data?: any;
}

/**
 * A namespace listens to its reserved events and to ServerSideEvents (`serverSideEmit` from the
 * other servers); its `emit` broadcasts EmitEvents without acknowledgement (use `timeout()` for one).
 */
export class Namespace<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = any,
> extends StrictEventEmitter<
  ServerSideEvents,
  RemoveAcknowledgements<EmitEvents>,
  NamespaceReservedEventsMap<ListenEvents, EmitEvents, ServerSideEvents, SocketData>
> {
  readonly name: string;
  readonly sockets: Map<SocketId, Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>;
  adapter: Adapter;
  readonly server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;

  use(
    fn: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>, next: (err?: ExtendedError) => void) => void,
  ): this;
  to(room: Room | Room[]): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData>;
  in(room: Room | Room[]): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData>;
  except(room: Room | Room[]): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData>;
  emit<Ev extends EventNamesWithoutAck<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean;
  send(...args: EventParams<EmitEvents, "message">): this;
  write(...args: EventParams<EmitEvents, "message">): this;
  serverSideEmit<Ev extends EventNames<ServerSideEvents>>(
    ev: Ev,
    ...args: EventParams<DecorateAcknowledgementsWithTimeoutAndMultipleResponses<ServerSideEvents>, Ev>
  ): boolean;
  serverSideEmitWithAck<Ev extends EventNamesWithAck<ServerSideEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<ServerSideEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<ServerSideEvents, Ev>>>[]>;
  allSockets(): Promise<Set<SocketId>>;
  compress(compress: boolean): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData>;
  get volatile(): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData>;
  get local(): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData>;
  timeout(
    timeout: number,
  ): BroadcastOperator<DecorateAcknowledgements<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>>, SocketData>;
  fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]>;
  socketsJoin(room: Room | Room[]): void;
  socketsLeave(room: Room | Room[]): void;
  disconnectSockets(close?: boolean): void;
}

export class ParentNamespace<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = any,
> extends Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {}

type ParentNspNameMatchFn = (
  name: string,
  auth: { [key: string]: any },
  fn: (err: Error | null, success: boolean) => void,
) => void;

type AttachableServer = HttpServer | HttpsServer | Http2SecureServer | Http2Server;

/**
 * The server: its EventEmitter methods are those of the main namespace ("/"), so it listens to
 * the reserved events and ServerSideEvents, and `emit` broadcasts EmitEvents without acknowledgement.
 */
export class Server<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = any,
> extends StrictEventEmitter<
  ServerSideEvents,
  RemoveAcknowledgements<EmitEvents>,
  ServerReservedEventsMap<ListenEvents, EmitEvents, ServerSideEvents, SocketData>
> {
  readonly sockets: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  /** The Engine.IO server. */
  engine: Engine;
  /** The underlying HTTP server, once attached. */
  httpServer: AttachableServer;
  readonly _nsps: Map<string, Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>;

  constructor(opts?: Partial<ServerOptions>);
  constructor(srv?: AttachableServer | number, opts?: Partial<ServerOptions>);
  constructor(srv: undefined | Partial<ServerOptions> | AttachableServer | number, opts?: Partial<ServerOptions>);

  serveClient(v: boolean): this;
  serveClient(): boolean;
  path(v: string): this;
  path(): string;
  connectTimeout(v: number): this;
  connectTimeout(): number;
  adapter(): AdapterConstructor | undefined;
  adapter(v: AdapterConstructor): this;
  listen(srv: AttachableServer | number, opts?: Partial<ServerOptions>): this;
  attach(srv: AttachableServer | number, opts?: Partial<ServerOptions>): this;
  bind(engine: Engine): this;
  of(
    name: string | RegExp | ParentNspNameMatchFn,
    fn?: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void,
  ): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  close(fn?: (err?: Error) => void): Promise<void>;

  use(
    fn: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>, next: (err?: ExtendedError) => void) => void,
  ): this;
  to(room: Room | Room[]): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData>;
  in(room: Room | Room[]): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData>;
  except(room: Room | Room[]): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData>;
  send(...args: EventParams<EmitEvents, "message">): this;
  write(...args: EventParams<EmitEvents, "message">): this;
  serverSideEmit<Ev extends EventNames<ServerSideEvents>>(
    ev: Ev,
    ...args: EventParams<DecorateAcknowledgementsWithTimeoutAndMultipleResponses<ServerSideEvents>, Ev>
  ): boolean;
  serverSideEmitWithAck<Ev extends EventNamesWithAck<ServerSideEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<ServerSideEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<ServerSideEvents, Ev>>>[]>;
  allSockets(): Promise<Set<SocketId>>;
  compress(compress: boolean): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData>;
  get volatile(): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData>;
  get local(): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData>;
  timeout(
    timeout: number,
  ): BroadcastOperator<DecorateAcknowledgements<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>>, SocketData>;
  fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]>;
  socketsJoin(room: Room | Room[]): void;
  socketsLeave(room: Room | Room[]): void;
  disconnectSockets(close?: boolean): void;
}

/** The version of the native addon. */
export function nativeVersion(): string;

// Only what is marked `export` above is public (StrictEventEmitter and the helper types are not).
export {};
