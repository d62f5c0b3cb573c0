/** Types of socket.io-rs: the public API of upstream socket.io 4.8, with the same generic event maps. */
/// <reference types="node" />
import { EventEmitter } from "events";
import type { IncomingMessage, Server as HttpServer, ServerResponse } from "http";
import type { Server as HttpsServer } from "https";
import type { Http2SecureServer, Http2Server } from "http2";

// ---------------------------------------------------------------- typed events

/** A map of event names to listener signatures. */
export interface EventsMap {
  [event: string]: any;
}

/** The default map: any event, any arguments. */
export interface DefaultEventsMap {
  [event: string]: (...args: any[]) => void;
}

export type EventNames<Map extends EventsMap> = keyof Map & (string | symbol);

export type EventParams<Map extends EventsMap, Ev extends EventNames<Map>> = Parameters<Map[Ev]>;

/** Events whose last parameter is not an acknowledgement callback. */
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

/** Events whose last parameter is an acknowledgement callback (every event of an untyped map). */
export type EventNamesWithAck<Map extends EventsMap, K extends EventNames<Map> = EventNames<Map>> = IfAny<
  Last<Parameters<Map[K]>> | Map[K],
  K,
  K extends (Parameters<Map[K]> extends never[] ? never : Last<Parameters<Map[K]>> extends (...args: any[]) => any ? K : never)
    ? K
    : never
>;

type IsAny<T> = 0 extends 1 & T ? true : false;
type IfAny<T, TypeIfAny = true, TypeIfNotAny = false> = IsAny<T> extends true ? TypeIfAny : TypeIfNotAny;
/** The last element's type; for an array that is not a tuple (`any[]`), its element type. */
type Last<T extends readonly unknown[]> = T extends readonly [infer L]
  ? L
  : T extends readonly [infer _H, ...infer Tail]
    ? Last<Tail>
    : T extends ReadonlyArray<infer E>
      ? E
      : never;
/** Every element but the last; for an array that is not a tuple, `any[]`. */
type AllButLast<T extends any[]> = T extends [...infer H, infer _L] ? H : any[];
type FirstNonErrorTuple<T extends unknown[]> = T[0] extends Error ? T[1] : T[0];
/** What an acknowledgement resolves with: its first argument that is not the timeout error. */
type FirstNonErrorArg<T> = T extends (...args: infer Params) => any ? FirstNonErrorTuple<Params> : any;

/** With a timeout, an acknowledgement gets an error first. */
export type DecorateAcknowledgements<E extends EventsMap> = {
  [K in keyof E]: E[K] extends (...args: infer Params) => infer Result
    ? Last<Params> extends (...args: infer AckArgs) => any
      ? (...args: [...AllButLast<Params>, (err: Error, ...args: AckArgs) => void]) => Result
      : E[K]
    : E[K];
};

/** Broadcast acknowledgements get the array of every client's answer. */
export type DecorateAcknowledgementsWithMultipleResponses<E extends EventsMap> = {
  [K in keyof E]: E[K] extends (...args: infer Params) => infer Result
    ? Last<Params> extends (...args: infer AckArgs) => any
      ? (...args: [...AllButLast<Params>, (err: Error, responses: AckArgs[0][]) => void]) => Result
      : E[K]
    : E[K];
};

export type DecorateAcknowledgementsWithTimeoutAndMultipleResponses<E extends EventsMap> =
  DecorateAcknowledgementsWithMultipleResponses<E>;

type AckResult<Map extends EventsMap, Ev extends EventNames<Map>> = FirstNonErrorArg<Last<Parameters<Map[Ev]>>>;

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
  adapter: any;
  /** The parser to use (only the default parser is supported). */
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
  query: Record<string, string | string[] | undefined>;
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

export class BroadcastOperator<EmitEvents extends EventsMap, SocketData> {
  to(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData>;
  in(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData>;
  except(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData>;
  compress(compress: boolean): BroadcastOperator<EmitEvents, SocketData>;
  get volatile(): BroadcastOperator<EmitEvents, SocketData>;
  get local(): BroadcastOperator<EmitEvents, SocketData>;
  timeout(timeout: number): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData>;
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean;
  emitWithAck<Ev extends EventNamesWithAck<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<AckResult<EmitEvents, Ev>>;
  allSockets(): Promise<Set<SocketId>>;
  fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]>;
  socketsJoin(room: Room | Room[]): void;
  socketsLeave(room: Room | Room[]): void;
  disconnectSockets(close?: boolean): void;
}

export class RemoteSocket<EmitEvents extends EventsMap, SocketData> {
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
> extends EventEmitter {
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

  on<Ev extends EventNames<ListenEvents & SocketReservedEventsMap>>(
    ev: Ev,
    listener: (ListenEvents & SocketReservedEventsMap)[Ev],
  ): this;
  once<Ev extends EventNames<ListenEvents & SocketReservedEventsMap>>(
    ev: Ev,
    listener: (ListenEvents & SocketReservedEventsMap)[Ev],
  ): this;
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean;
  emitWithAck<Ev extends EventNamesWithAck<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<AckResult<EmitEvents, Ev>>;
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

export class Namespace<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = any,
> extends EventEmitter {
  readonly name: string;
  readonly sockets: Map<SocketId, Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>;
  adapter: Adapter;
  readonly server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;

  on<Ev extends EventNames<NamespaceReservedEventsMap<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>>(
    ev: Ev,
    listener: NamespaceReservedEventsMap<ListenEvents, EmitEvents, ServerSideEvents, SocketData>[Ev],
  ): this;
  on(ev: string | symbol, listener: (...args: any[]) => void): this;
  use(
    fn: (
      socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
      next: (err?: ExtendedError) => void,
    ) => void,
  ): this;
  to(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData>;
  in(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData>;
  except(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData>;
  emit<Ev extends EventNamesWithoutAck<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean;
  send(...args: EventParams<EmitEvents, "message">): this;
  write(...args: EventParams<EmitEvents, "message">): this;
  serverSideEmit<Ev extends EventNames<ServerSideEvents>>(ev: Ev, ...args: EventParams<ServerSideEvents, Ev>): boolean;
  serverSideEmitWithAck<Ev extends EventNamesWithAck<ServerSideEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<ServerSideEvents, Ev>>
  ): Promise<AckResult<ServerSideEvents, Ev>[]>;
  allSockets(): Promise<Set<SocketId>>;
  compress(compress: boolean): BroadcastOperator<EmitEvents, SocketData>;
  get volatile(): BroadcastOperator<EmitEvents, SocketData>;
  get local(): BroadcastOperator<EmitEvents, SocketData>;
  timeout(timeout: number): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData>;
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

export class Server<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = any,
> extends EventEmitter {
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
  adapter(): any;
  adapter(v: any): this;
  listen(srv: AttachableServer | number, opts?: Partial<ServerOptions>): this;
  attach(srv: AttachableServer | number, opts?: Partial<ServerOptions>): this;
  bind(engine: Engine): this;
  of(
    name: string | RegExp | ParentNspNameMatchFn,
    fn?: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void,
  ): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  close(fn?: (err?: Error) => void): Promise<void>;

  on<Ev extends EventNames<ServerReservedEventsMap<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>>(
    ev: Ev,
    listener: ServerReservedEventsMap<ListenEvents, EmitEvents, ServerSideEvents, SocketData>[Ev],
  ): this;
  on(ev: string | symbol, listener: (...args: any[]) => void): this;
  use(
    fn: (
      socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
      next: (err?: ExtendedError) => void,
    ) => void,
  ): this;
  to(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData>;
  in(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData>;
  except(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData>;
  emit<Ev extends EventNamesWithoutAck<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean;
  send(...args: EventParams<EmitEvents, "message">): this;
  write(...args: EventParams<EmitEvents, "message">): this;
  serverSideEmit<Ev extends EventNames<ServerSideEvents>>(ev: Ev, ...args: EventParams<ServerSideEvents, Ev>): boolean;
  serverSideEmitWithAck<Ev extends EventNamesWithAck<ServerSideEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<ServerSideEvents, Ev>>
  ): Promise<AckResult<ServerSideEvents, Ev>[]>;
  allSockets(): Promise<Set<SocketId>>;
  compress(compress: boolean): BroadcastOperator<EmitEvents, SocketData>;
  get volatile(): BroadcastOperator<EmitEvents, SocketData>;
  get local(): BroadcastOperator<EmitEvents, SocketData>;
  timeout(timeout: number): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData>;
  fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]>;
  socketsJoin(room: Room | Room[]): void;
  socketsLeave(room: Room | Room[]): void;
  disconnectSockets(close?: boolean): void;
}

/** The version of the native addon. */
export function nativeVersion(): string;
