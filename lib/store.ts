import { DatabaseSync, type StatementSync } from "node:sqlite";
import {
  chmodSync,
  closeSync,
  lutimesSync,
  mkdirSync,
  openSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { ChatError } from "./errors.ts";
import { nameKey, normalizeName } from "./names.ts";
import { MIGRATIONS, SCHEMA_VERSION } from "./schema.ts";

/** Longest message accepted, in code points. */
export const MAX_MESSAGE_LENGTH = 4000;
/** How many messages a room shows when you join it. */
export const HISTORY_ON_JOIN = 50;

/** How long a writer waits for another terminal's write to finish. */
const BUSY_TIMEOUT_MS = 10_000;

/** A chat account, without its password hash. */
export interface User {
  id: number;
  name: string;
}

/** A room as listed in the room menu. */
export interface Room {
  id: number;
  name: string;
  /** When the last message was sent (ms since the epoch), or null for none. */
  lastActivity: number | null;
}

/** A stored chat message. */
export interface Message {
  id: number;
  roomId: number;
  userId: number;
  userName: string;
  text: string;
  /** Milliseconds since the epoch. */
  sentAt: number;
}

/** Options for {@linkcode openStore}. */
export interface StoreOptions {
  /** The clock messages and accounts are stamped with. */
  now?: () => number;
}

// SQLite result codes we turn into user-facing messages.
const SQLITE_READONLY = 8;
const SQLITE_CANTOPEN = 14;
const SQLITE_CONSTRAINT = 19;
const SQLITE_NOTADB = 26;
const SQLITE_FULL = 13;
const SQLITE_CORRUPT = 11;
const SQLITE_IOERR = 10;

function sqliteCode(err: unknown): number | undefined {
  const code = (err as { errcode?: unknown })?.errcode;
  return typeof code === "number" ? code & 0xff : undefined;
}

function describe(path: string, err: unknown): ChatError {
  const reason = (err as { errstr?: string })?.errstr ?? (err as Error)?.message ?? String(err);
  switch (sqliteCode(err)) {
    case SQLITE_NOTADB:
      return new ChatError(`${path} is not an SQLite database`);
    case SQLITE_READONLY:
      return new ChatError(`${path} is read-only`);
    case SQLITE_CANTOPEN:
      return new ChatError(
        `Cannot open ${path}: ${reason} (its folder must be writable too: SQLite keeps -wal and -shm files there)`,
      );
    case SQLITE_FULL:
      return new ChatError(`The disk holding ${path} is full`);
    case SQLITE_IOERR:
      return new ChatError(`Cannot write ${path}: ${reason}; is the disk full?`);
    case SQLITE_CORRUPT:
      return new ChatError(`${path} is damaged (${reason})`);
    default:
      return new ChatError(`Database error in ${path}: ${reason}`);
  }
}

/**
 * The folder writers ping after each new message, so that followers can wake
 * on a change to it. Followers must not watch SQLite's own files: a watcher
 * that opens and closes them would drop the POSIX locks SQLite holds in its
 * process, and another process could then truncate the shared memory under it.
 *
 * @example
 * ```ts
 * wakePath("chatroom.db"); // "chatroom.db-wake"
 * ```
 */
export function wakePath(path: string): string {
  return `${path}-wake`;
}

/** The entry in the wake folder that writers touch after each message. */
export function pingPath(path: string): string {
  return `${wakePath(path)}/ping`;
}

/**
 * Makes the wake folder of the database at `path` if it is missing, shared
 * the way the database is: whoever may write the database may ping. When the
 * database has been shared since (chmod), the folder follows, as soon as its
 * owner runs chatroom again.
 */
export function makeWakeFolder(path: string): void {
  const readWrite = statSync(path).mode & 0o666;
  const mode = readWrite | ((readWrite & 0o444) >> 2); // rw- becomes rwx
  const folder = wakePath(path);
  mkdirSync(folder, { recursive: true, mode }); // the umask may take bits away
  if ((statSync(folder).mode & 0o777) !== mode) {
    try {
      chmodSync(folder, mode);
    } catch {
      // Only its owner may change it.
    }
  }
}

/** Creates a missing database file readable by its owner only. */
function prepareFile(path: string): void {
  if (path === ":memory:") return;
  let stat;
  try {
    stat = statSync(path);
  } catch {
    try {
      closeSync(openSync(path, "wx", 0o600));
      chmodSync(path, 0o600); // the umask may have taken bits away, never added them
    } catch (err) {
      throw new ChatError(`Cannot create ${path}: ${(err as Error).message}`);
    }
    return;
  }
  if (stat.isDirectory()) throw new ChatError(`${path} is a directory, not a database file`);
  if (!stat.isFile()) throw new ChatError(`${path} is not a regular file`);
  if ((stat.mode & 0o222) === 0) throw new ChatError(`${path} is read-only`);
  // We create new files ourselves; an empty one that is already there is not ours to fill.
  if (stat.size === 0) {
    throw new ChatError(
      `${path} is an empty file, not a chatroom database; remove it to start anew`,
    );
  }
}

/**
 * The chat database: accounts, rooms and messages in one SQLite file that
 * several processes share. Every method is a single statement or an
 * immediate transaction, so concurrent writers wait instead of failing.
 */
export class Store {
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #now: () => number;
  readonly #statements = new Map<string, StatementSync>();
  #wakeReady = false;

  constructor(path: string, db: DatabaseSync, now: () => number) {
    this.path = path;
    this.#db = db;
    this.#now = now;
  }

  /**
   * Tells followers that a message was committed, by touching the ping entry
   * of the wake folder: one watcher event, and a burst of touches that nobody
   * has read yet is one event. The entry is a symbolic link to nowhere because
   * Deno's watcher opens the path of every event it reports, and each open is
   * itself an event for every other follower; a path that cannot be opened
   * wakes followers without waking each other.
   */
  #notify(): void {
    if (this.path === ":memory:") return;
    const ping = pingPath(this.path);
    try {
      if (!this.#wakeReady) makeWakeFolder(this.path);
      this.#wakeReady = true;
      const now = this.#now() / 1000;
      try {
        lutimesSync(ping, now, now);
      } catch {
        // Missing, or another account's (only its owner may set its times): put
        // ours in its place. Either change is an event after our commit.
        rmSync(ping, { force: true });
        symlinkSync("nowhere", ping);
      }
    } catch {
      // Followers still find the message with their slow poll.
    }
  }

  #sql(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #write<T>(run: () => T): T {
    try {
      return run();
    } catch (err) {
      if (err instanceof ChatError) throw err;
      throw describe(this.path, err);
    }
  }

  /** Creates an account; the name must be free, ignoring case. */
  createUser(rawName: string, passwordHash: string): User {
    const name = normalizeName(rawName, "User name");
    return this.#write(() => {
      try {
        const { lastInsertRowid } = this.#sql(
          "INSERT INTO users (name, name_key, password_hash, created_at) VALUES (?, ?, ?, ?)",
        ).run(name, nameKey(name), passwordHash, this.#now());
        return { id: Number(lastInsertRowid), name };
      } catch (err) {
        if (sqliteCode(err) === SQLITE_CONSTRAINT) {
          throw new ChatError(`The name "${name}" is taken`);
        }
        throw err;
      }
    });
  }

  /** Finds an account by name, ignoring case, with what logging in needs. */
  findUser(name: string): (User & { passwordHash: string; lockedUntil: number }) | undefined {
    const row = this.#sql(
      "SELECT id, name, password_hash, locked_until FROM users WHERE name_key = ?",
    ).get(nameKey(name.trim()));
    if (!row) return undefined;
    return {
      id: Number(row.id),
      name: String(row.name),
      passwordHash: String(row.password_hash),
      lockedUntil: Number(row.locked_until),
    };
  }

  /** The store's clock, in ms since the epoch. */
  now(): number {
    return this.#now();
  }

  /**
   * Counts a wrong password. From the third in a row on, further tries wait
   * 1 s, then 2 s, 4 s ... up to a minute. Returns the wait in ms.
   */
  recordFailedLogin(userId: number): number {
    const now = this.#now();
    return this.#write(() => {
      const row = this.#sql(
        `UPDATE users SET failed_logins = failed_logins + 1,
           locked_until = CASE WHEN failed_logins + 1 >= 3
             THEN ? + min(60000, 1000 << min(16, failed_logins + 1 - 3)) ELSE 0 END
         WHERE id = ? RETURNING locked_until`,
      ).get(now, userId);
      return Math.max(0, Number(row?.locked_until ?? 0) - now);
    });
  }

  /** Forgets wrong passwords after a right one. */
  resetFailedLogins(userId: number): void {
    this.#write(() =>
      this.#sql(
        "UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = ? AND failed_logins > 0",
      )
        .run(userId)
    );
  }

  /** Creates a room; the name must be free, ignoring case. */
  createRoom(rawName: string, createdBy: number): Room {
    const name = normalizeName(rawName, "Room name");
    return this.#write(() => {
      try {
        const { lastInsertRowid } = this.#sql(
          "INSERT INTO rooms (name, name_key, created_by, created_at) VALUES (?, ?, ?, ?)",
        ).run(name, nameKey(name), createdBy, this.#now());
        return { id: Number(lastInsertRowid), name, lastActivity: null };
      } catch (err) {
        if (sqliteCode(err) === SQLITE_CONSTRAINT) {
          throw new ChatError(`A room named "${name}" already exists`);
        }
        throw err;
      }
    });
  }

  /** Finds a room by name, ignoring case. */
  findRoom(name: string): Room | undefined {
    const row = this.#sql(
      `SELECT id, name,
         (SELECT sent_at FROM messages WHERE room_id = rooms.id ORDER BY id DESC LIMIT 1) AS last
       FROM rooms WHERE name_key = ?`,
    ).get(nameKey(name.trim()));
    return row ? toRoom(row) : undefined;
  }

  /** Finds a room by name, creating it when there is none. */
  findOrCreateRoom(name: string, createdBy: number): Room {
    const found = this.findRoom(name);
    if (found) return found;
    try {
      return this.createRoom(name, createdBy);
    } catch (err) {
      // Another terminal may have created it between our look-up and insert.
      const raced = this.findRoom(name);
      if (raced) return raced;
      throw err;
    }
  }

  /** All rooms, the most recently active first. */
  listRooms(): Room[] {
    return this.#sql(
      `SELECT id, name,
         (SELECT sent_at FROM messages WHERE room_id = rooms.id ORDER BY id DESC LIMIT 1) AS last
       FROM rooms ORDER BY last IS NULL, last DESC, name_key`,
    ).all().map(toRoom);
  }

  /** Every room with its message count and last activity, the most recently active first. */
  roomStats(): (Room & { messages: number })[] {
    return this.#sql(
      `SELECT r.id, r.name, count(m.id) AS messages, max(m.sent_at) AS last
       FROM rooms r LEFT JOIN messages m ON m.room_id = r.id
       GROUP BY r.id ORDER BY last IS NULL, last DESC, r.name_key`,
    ).all().map((row) => ({ ...toRoom(row), messages: Number(row.messages) }));
  }

  /** Stores a message and returns its id. Empty and over-long texts are refused. */
  addMessage(roomId: number, userId: number, text: string): number {
    checkMessage(text);
    const id = this.#write(() =>
      Number(
        this.#sql(
          "INSERT INTO messages (room_id, user_id, text, sent_at) VALUES (?, ?, ?, ?)",
        ).run(roomId, userId, text, this.#now()).lastInsertRowid,
      )
    );
    this.#notify();
    return id;
  }

  /** The last `limit` messages of a room, oldest first. */
  recentMessages(roomId: number, limit = HISTORY_ON_JOIN): Message[] {
    return this.#sql(
      `SELECT * FROM (
         SELECT m.id, m.room_id, m.user_id, u.name AS user_name, m.text, m.sent_at
         FROM messages m JOIN users u ON u.id = m.user_id
         WHERE m.room_id = ? ORDER BY m.id DESC LIMIT ?
       ) ORDER BY id`,
    ).all(roomId, limit).map(toMessage);
  }

  /** Messages of a room with an id above `afterId`, oldest first. */
  messagesAfter(roomId: number, afterId: number, limit = 1000): Message[] {
    return this.#sql(
      `SELECT m.id, m.room_id, m.user_id, u.name AS user_name, m.text, m.sent_at
       FROM messages m JOIN users u ON u.id = m.user_id
       WHERE m.room_id = ? AND m.id > ? ORDER BY m.id LIMIT ?`,
    ).all(roomId, afterId, limit).map(toMessage);
  }

  /** The id of a room's newest message, or 0 when it has none. */
  lastMessageId(roomId: number): number {
    const row = this.#sql("SELECT max(id) AS id FROM messages WHERE room_id = ?").get(roomId);
    return Number(row?.id ?? 0);
  }

  /** Closes the connection. */
  close(): void {
    this.#statements.clear();
    if (this.#db.isOpen) this.#db.close();
  }
}

type Row = Record<string, unknown>;

function toRoom(row: Row): Room {
  return {
    id: Number(row.id),
    name: String(row.name),
    lastActivity: row.last == null ? null : Number(row.last),
  };
}

function toMessage(row: Row): Message {
  return {
    id: Number(row.id),
    roomId: Number(row.room_id),
    userId: Number(row.user_id),
    userName: String(row.user_name),
    text: String(row.text),
    sentAt: Number(row.sent_at),
  };
}

/**
 * Refuses a message that is empty or longer than {@linkcode MAX_MESSAGE_LENGTH}.
 *
 * @example
 * ```ts
 * checkMessage("hello"); // ok
 * checkMessage("x".repeat(4001)); // throws ChatError
 * ```
 */
export function checkMessage(text: string): void {
  if (text.trim().length === 0) throw new ChatError("Message is empty");
  const length = [...text].length;
  if (length > MAX_MESSAGE_LENGTH) {
    throw new ChatError(
      `Message is ${length} characters long; the limit is ${MAX_MESSAGE_LENGTH}. Nothing was sent`,
    );
  }
}

/**
 * Opens (creating if needed) a chat database and brings its schema up to date.
 * A path that is a directory, not SQLite, read-only or from a newer version
 * fails with one {@linkcode ChatError} and the file is left as it was.
 *
 * @example
 * ```ts
 * const store = openStore(":memory:");
 * store.close();
 * ```
 */
export function openStore(path: string, options: StoreOptions = {}): Store {
  prepareFile(path);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS });
  } catch (err) {
    throw describe(path, err);
  }
  try {
    checkSchema(path, db);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
    migrate(db);
  } catch (err) {
    db.close();
    throw err instanceof ChatError ? err : describe(path, err);
  }
  return new Store(path, db, options.now ?? Date.now);
}

function userVersion(db: DatabaseSync): number {
  return Number(db.prepare("PRAGMA user_version").get()?.user_version);
}

/** Refuses, before anything is written, a file that is not ours to change. */
function checkSchema(path: string, db: DatabaseSync): void {
  const version = userVersion(db);
  if (version > SCHEMA_VERSION) {
    throw new ChatError(
      `${path} was written by a newer chatroom (schema ${version}; this one knows up to ${SCHEMA_VERSION})`,
    );
  }
  if (version === 0) {
    const tables = Number(db.prepare("SELECT count(*) AS n FROM sqlite_schema").get()?.n);
    if (tables > 0) throw new ChatError(`${path} is an SQLite database but not a chatroom one`);
  }
}

function migrate(db: DatabaseSync): void {
  if (userVersion(db) === SCHEMA_VERSION) return;
  db.exec("BEGIN IMMEDIATE");
  try {
    // Another terminal may have migrated while we waited for the lock.
    for (let version = userVersion(db); version < SCHEMA_VERSION; version++) {
      db.exec(MIGRATIONS[version]);
      db.exec(`PRAGMA user_version = ${version + 1}`);
    }
    db.exec("COMMIT");
  } catch (err) {
    db.exec("ROLLBACK");
    throw err;
  }
}
