// The storage seam: what the chat view, the commands and the scripts ask of a
// database, whichever backend holds it. SQLite's methods answer at once,
// PostgreSQL's over the network: callers await either.
import { ChatError } from "./errors.ts";
import type { Found, Message, MessageKind, Presence, Room, Unread, User } from "./model.ts";
import { SqliteBackend } from "./sqlite_backend.ts";

/** A value now, or later. */
export type Awaitable<T> = T | Promise<T>;

/** Rooms and messages, read and written as one account (or, for `rooms` and `export`, none). */
export interface Store {
  /** What to show the user for this database: a file's path, or a URL without its password. */
  readonly path: string;
  /** Finds a room by name, ignoring case. */
  findRoom(name: string): Awaitable<Room | undefined>;
  /** Creates a room; the name must be free and not look like a taken one. */
  createRoom(name: string, createdBy: number): Awaitable<Room>;
  /** Finds a room by name, creating it when there is none. */
  findOrCreateRoom(name: string, createdBy: number): Awaitable<Room>;
  /**
   * The most recently active rooms, or those whose name holds `search`; with
   * `userId`, that account's direct conversations among them.
   */
  listRooms(options?: { limit?: number; search?: string; userId?: number }): Awaitable<Room[]>;
  /** How many rooms there are, or have a name that holds `search` (with `userId`'s conversations). */
  countRooms(search?: string, userId?: number): Awaitable<number>;
  /** Up to `limit` user or room names starting with `prefix`, ignoring case: Tab's choices. */
  namesStartingWith(kind: "user" | "room", prefix: string, limit?: number): Awaitable<string[]>;
  /**
   * Every room with its message count, the most recently active first, never
   * held whole; with `userId`, that account's direct conversations too.
   */
  roomStats(
    userId?: number,
  ): Iterable<Room & { messages: number }> | AsyncIterable<Room & { messages: number }>;
  /**
   * Stores a message (or a `/me` action, or a new topic, which becomes the
   * room's) and returns its id; refuses bad texts and an account over its
   * rate. The accounts it `@mentions` are noted for their unread counts.
   */
  addMessage(roomId: number, userId: number, text: string, kind?: MessageKind): Awaitable<number>;
  /** Up to `limit` messages of a room before message `beforeId`, oldest first. */
  messagesBefore(roomId: number, beforeId: number, limit: number): Awaitable<Message[]>;
  /**
   * Up to `limit` messages holding every word of `words`, newest first: in
   * `roomId`, or in every room `userId` can see.
   */
  search(
    words: string,
    options: { userId: number; roomId?: number; limit?: number },
  ): Awaitable<Found[]>;
  /**
   * The direct conversation of `userId` with the account named `otherName`,
   * made if need be (unless `create` is false: then a missing one is an error).
   */
  openDirect(userId: number, otherName: string, create?: boolean): Awaitable<Room>;
  /** Says that `client` (one terminal of `userId`) is in `roomId`, or in the menus (null), now. */
  announce(client: string, userId: number, roomId: number | null): Awaitable<void>;
  /** Says that `client` is gone. */
  depart(client: string): Awaitable<void>;
  /**
   * Who is logged in now, everywhere (bounded), each account once per room:
   * a heartbeat within PRESENCE_TIMEOUT_MS.
   */
  present(): Awaitable<Presence[]>;
  /** Moves `userId`'s read marker in `roomId` up to `messageId` (never back). */
  markRead(userId: number, roomId: number, messageId: number): Awaitable<void>;
  /** The last message `userId` has seen in `roomId`, or 0. */
  lastRead(userId: number, roomId: number): Awaitable<number>;
  /**
   * The rooms with news for `userId`: rooms they have been in and their direct
   * conversations with messages from others past their marker, counted up to
   * MAX_UNREAD_COUNTED.
   */
  unread(userId: number): Awaitable<Unread[]>;
  /** Whether a mention rings `userId`'s terminal bell (on unless turned off). */
  bell(userId: number): Awaitable<boolean>;
  setBell(userId: number, on: boolean): Awaitable<void>;
  /** The last `limit` messages of a room, oldest first. */
  recentMessages(roomId: number, limit?: number): Awaitable<Message[]>;
  /** Messages of a room with an id above `afterId`, oldest first. */
  messagesAfter(roomId: number, afterId: number, limit?: number): Awaitable<Message[]>;
  /** Up to `length` characters of a message's text from character `start` (0-based). */
  messageText(id: number, start: number, length: number): Awaitable<string>;
  /** The id of a room's newest message, or 0 when it has none. */
  lastMessageId(roomId: number): Awaitable<number>;
  /** Whether anyone else changed rooms or messages since the last call (true on the first). */
  changed(): Awaitable<boolean>;
  /** Closes the connection. */
  close(): Awaitable<void>;
}

/** Receivers of what a follower delivers. */
export interface FollowerHandlers {
  onMessages(roomId: number, messages: Message[]): void;
  onError(message: string): void;
  /** Who is logged in changed (or is told again): everyone present. */
  onPresence?(present: Presence[]): void;
  /** The rooms with news for the follower's account changed. */
  onUnread?(unread: Unread[]): void;
}

/**
 * Delivers a room's new messages as they are stored, in id order and each
 * once per follow: the SQLite follower watches the wake file in a Worker; the
 * PostgreSQL one listens for notifications.
 */
export interface Follower {
  /** Settles once the follower can deliver (or has reported why not). */
  readonly ready: Promise<void>;
  /** Where deliveries go; errors that came while none were set are passed on when set. */
  handlers: FollowerHandlers | undefined;
  /** Follows `roomId` from just after message `afterId`; earlier follows deliver nothing more. */
  follow(roomId: number, afterId: number): void;
  /** Also reports who is here and, for `userId`, the rooms with news; until `watch(undefined)`. */
  watch(userId: number | undefined): void;
  /** Stops following any room. */
  unfollow(): void;
  /** Looks for new messages now (this process just wrote one). */
  poll(): void;
  /** Stops delivering for good. */
  close(): void;
}

/** One logged-in account and the store that acts as it. */
export interface Session {
  user: User;
  store: Store;
}

/**
 * A database chatroom talks to, before anyone logs in: how accounts are made
 * and checked. With SQLite, chatroom checks passwords against the file; with
 * PostgreSQL, the server does, and each account's store connects as its role.
 */
export interface Backend {
  /** What to show the user for this database. */
  readonly label: string;
  /** Refuses a name that is invalid or taken (before the password is asked twice). */
  checkNewUserName(name: string): Promise<string>;
  /** Creates an account. */
  register(name: string, password: string): Promise<User>;
  /**
   * The account's name as stored, or undefined when there is none (PostgreSQL
   * cannot tell before the password: the typed name comes back).
   */
  accountName(name: string): Promise<string | undefined>;
  /** Checks the password and returns the account with its store. */
  logIn(name: string, password: string): Promise<Session>;
  /** Ends a session (PostgreSQL closes the account's connection). */
  logOut(session: Session): Promise<void>;
  /** A store for commands that act as nobody in particular: `rooms`, `export`. */
  reader(): Promise<Store>;
  /** A follower reading through `store`. */
  follower(store: Store, handlers?: FollowerHandlers): Follower;
  /** Closes what the backend holds open. */
  close(): Promise<void>;
}

/**
 * Refuses, in one line that says what to run, a PostgreSQL server this process
 * may not reach: `deno task chat` denies the network, `deno task chat:pg`
 * allows only $CHATROOM_PG_ADDR.
 */
export function checkNetPermission(host: string, port: number): void {
  const address = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  if (Deno.permissions.querySync({ name: "net", host: address }).state === "granted") return;
  throw new ChatError(
    `Reaching PostgreSQL at ${address} needs network access to it, which this run does not have; use: CHATROOM_PG_ADDR=${address} deno task chat:pg ...`,
  );
}

/** Whether `db` names a PostgreSQL database rather than a SQLite file. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/**
 * The backend for `db`: a `postgres://` URL is PostgreSQL (loaded only then),
 * anything else a SQLite file, created when `create` allows.
 *
 * @example
 * ```ts
 * const backend = await openBackend("chatroom.db", { create: true });
 * await backend.close();
 * ```
 */
export async function openBackend(db: string, options: { create: boolean }): Promise<Backend> {
  if (isPostgresUrl(db)) {
    const { openPostgresBackend } = await import("./postgres_backend.ts");
    const backend = await openPostgresBackend(db);
    checkNetPermission(backend.target.host, backend.target.port);
    return backend;
  }
  return new SqliteBackend(db, options);
}
