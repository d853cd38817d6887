// The PostgreSQL store: the same rooms and messages as the SQLite file, read
// and written over one account's own connection. The server checks who may
// write what (row-level security), numbers messages in order per room and
// enforces the rate limits; this module turns its answers into ChatErrors.
import type { Sql } from "postgres";
import { ChatError, WaitError } from "./errors.ts";
import {
  checkMessage,
  HISTORY_ON_JOIN,
  type Message,
  type Room,
  ROOM_LIST_LIMIT,
  SHOWN_TEXT_LIMIT,
} from "./model.ts";
import {
  checkNewName,
  nameKey,
  type NameKind,
  nameLikePattern,
  nameSkeleton,
  normalizeName,
  shownName,
} from "./names.ts";
import { safeNumber, toMessage, toRoom } from "./rows.ts";
import type { Store } from "./store.ts";

/** What postgres.js throws for an error the server sent. */
interface ServerError {
  code?: string;
  detail?: string;
  hint?: string;
  constraint_name?: string;
  message?: string;
}

/** Whether `err` says the server could not be reached (or the connection dropped). */
export function isConnectionError(err: unknown): boolean {
  const code = (err as ServerError)?.code ?? "";
  return /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|ETIMEDOUT|EPIPE|CONNECT_TIMEOUT|CONNECTION_CLOSED|CONNECTION_ENDED|CONNECTION_DESTROYED)$/
    .test(code) ||
    /^(08|57P)/.test(code) ||
    err instanceof Deno.errors.ConnectionRefused || err instanceof Deno.errors.ConnectionReset;
}

/**
 * One line for the user about what the server answered, or `undefined` when
 * `err` is not the server's (a bug, to be thrown on).
 */
export function describeServerError(err: unknown, where: string): ChatError | undefined {
  if (err instanceof ChatError) return err;
  if (isConnectionError(err)) {
    return new ChatError(
      `Cannot reach the PostgreSQL server at ${where} (${
        (err as Error).message
      }); nothing was sent`,
    );
  }
  const { code, detail, hint, message } = (err ?? {}) as ServerError;
  if (code === "P0001" && hint?.startsWith("chatroom:")) {
    const waitMs = safeNumber(detail, 1000);
    return hint === "chatroom:message"
      ? new WaitError(
        `You are sending too fast; wait ${Math.ceil(waitMs / 100) / 10} s. Nothing was sent`,
        waitMs,
      )
      : new WaitError(
        `You are creating rooms too fast; wait ${Math.ceil(waitMs / 1000)} s and try again`,
        waitMs,
      );
  }
  if (code === "42501") return new ChatError(`The server refused it: ${message}`);
  if (code === "55P03" || code === "57014") {
    return new ChatError(
      `The server did not answer in time: another session holds what this needs locked (${message}); nothing was sent`,
    );
  }
  if (code === "23514") return new ChatError(`The server refused the text: ${message}`);
  if (code === "3F000" || code === "42P01") {
    return new ChatError(
      `${where} has no chatroom schema; its owner creates it with: chatroom setup --db URL`,
    );
  }
  if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) {
    return new ChatError(`The PostgreSQL server at ${where} said: ${message}`);
  }
  return undefined;
}

const MESSAGE_COLUMNS = (sql: Sql) =>
  sql`m.id, m.room_id, m.user_id, substr(u.name, 1, 64) AS user_name,
    substr(m.text, 1, ${SHOWN_TEXT_LIMIT}) AS text,
    greatest(0, char_length(m.text) - ${SHOWN_TEXT_LIMIT}) AS more, m.sent_at`;

/** Rooms and messages on a PostgreSQL server, as the account `sql` logged in as. */
export class PostgresStore implements Store {
  readonly path: string;
  readonly sql: Sql;
  #seen: string | undefined;

  /** `label` is the URL without its password, shown to the user and named in errors. */
  constructor(sql: Sql, label: string) {
    this.sql = sql;
    this.path = label;
  }

  /** Runs `query`, turning what the server answers into one ChatError. */
  async #ask<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (err) {
      throw describeServerError(err, this.path) ?? err;
    }
  }

  /** Refuses a new name that is taken, looks like one that is, or breaks the name rules. */
  async checkNewName(table: "users" | "rooms", rawName: string, what: NameKind): Promise<string> {
    const name = normalizeName(rawName, what);
    const [taken] = await this.#ask(() =>
      this.sql`SELECT substr(name, 1, 64) AS name FROM ${this.sql(table)} WHERE name_key = ${
        nameKey(name)
      }`
    );
    if (taken) {
      throw new ChatError(
        what === "User name"
          ? `The name "${name}" is taken`
          : `A room named "${shownName(String(taken.name))}" already exists`,
      );
    }
    const [alike] = await this.#ask(() =>
      this.sql`SELECT substr(name, 1, 64) AS name FROM ${this.sql(table)} WHERE skeleton = ${
        nameSkeleton(name)
      } LIMIT 1`
    );
    if (alike) {
      throw new ChatError(`The name "${name}" is too close to "${shownName(String(alike.name))}"`);
    }
    checkNewName(name, what);
    return name;
  }

  async findRoom(name: string): Promise<Room | undefined> {
    const [row] = await this.#ask(() =>
      this.sql`SELECT id, substr(name, 1, 64) AS name, last_sent_at AS last
        FROM rooms WHERE name_key = ${nameKey(name.trim())}`
    );
    return row ? toRoom(row) : undefined;
  }

  async createRoom(rawName: string, createdBy: number): Promise<Room> {
    const name = await this.checkNewName("rooms", rawName, "Room name");
    try {
      const [row] = await this.sql`INSERT INTO rooms (name, name_key, skeleton, created_by)
        VALUES (${name}, ${nameKey(name)}, ${nameSkeleton(name)}, ${createdBy})
        RETURNING id, name, last_sent_at AS last`;
      return toRoom(row);
    } catch (err) {
      // Another client made it (or a look-alike) since we looked: say which, as the check would.
      if ((err as ServerError).code === "23505") {
        await this.checkNewName("rooms", name, "Room name");
      }
      throw describeServerError(err, this.path) ?? err;
    }
  }

  async findOrCreateRoom(name: string, createdBy: number): Promise<Room> {
    const found = await this.findRoom(name);
    if (found) return found;
    try {
      return await this.createRoom(name, createdBy);
    } catch (err) {
      const raced = await this.findRoom(name);
      if (raced) return raced;
      throw err;
    }
  }

  async listRooms(options: { limit?: number; search?: string } = {}): Promise<Room[]> {
    const rows = await this.#ask(() =>
      this.sql`SELECT id, substr(name, 1, 64) AS name, last_sent_at AS last FROM rooms
        WHERE name_key LIKE ${nameLikePattern(options.search)}
        ORDER BY coalesce(last_sent_at, created_at) DESC, last_sent_at IS NULL, name_key
        LIMIT ${options.limit ?? ROOM_LIST_LIMIT}`
    );
    return rows.map(toRoom);
  }

  async countRooms(search?: string): Promise<number> {
    const [row] = await this.#ask(() =>
      this.sql`SELECT count(*) AS n FROM rooms WHERE name_key LIKE ${nameLikePattern(search)}`
    );
    return safeNumber(row?.n);
  }

  async namesStartingWith(kind: "user" | "room", prefix: string, limit = 20): Promise<string[]> {
    const table = kind === "user" ? "users" : "rooms";
    const rows = await this.#ask(() =>
      this.sql`SELECT substr(name, 1, 64) AS name FROM ${this.sql(table)}
        WHERE starts_with(name_key, ${
        nameKey(prefix)
      }) ORDER BY name_key COLLATE "C" LIMIT ${limit}`
    );
    return rows.map((row) => shownName(String(row.name)));
  }

  async *roomStats(): AsyncGenerator<Room & { messages: number }> {
    const rows = this.sql`SELECT r.id, substr(r.name, 1, 64) AS name, r.last_sent_at AS last,
        (SELECT count(*) FROM messages WHERE room_id = r.id) AS messages
      FROM rooms r ORDER BY r.last_sent_at IS NULL, r.last_sent_at DESC, r.name_key`.cursor(500);
    try {
      for await (const batch of rows) {
        for (const row of batch) yield { ...toRoom(row), messages: safeNumber(row.messages) };
      }
    } catch (err) {
      throw describeServerError(err, this.path) ?? err;
    }
  }

  async addMessage(roomId: number, userId: number, text: string): Promise<number> {
    checkMessage(text);
    const [row] = await this.#ask(() =>
      this.sql`INSERT INTO messages (room_id, user_id, text)
        VALUES (${roomId}, ${userId}, ${text}) RETURNING id`
    );
    return safeNumber(row.id);
  }

  async recentMessages(roomId: number, limit = HISTORY_ON_JOIN): Promise<Message[]> {
    const rows = await this.#ask(() =>
      this.sql`SELECT * FROM (
        SELECT ${MESSAGE_COLUMNS(this.sql)} FROM messages m JOIN users u ON u.id = m.user_id
        WHERE m.room_id = ${roomId} ORDER BY m.id DESC LIMIT ${limit}
      ) recent ORDER BY id`
    );
    return rows.map(toMessage);
  }

  async messagesAfter(roomId: number, afterId: number, limit = 1000): Promise<Message[]> {
    const rows = await this.#ask(() =>
      this.sql`SELECT ${MESSAGE_COLUMNS(this.sql)} FROM messages m JOIN users u ON u.id = m.user_id
        WHERE m.room_id = ${roomId} AND m.id > ${afterId} ORDER BY m.id LIMIT ${limit}`
    );
    return rows.map(toMessage);
  }

  async messageText(id: number, start: number, length: number): Promise<string> {
    const [row] = await this.#ask(() =>
      this.sql`SELECT substr(text, ${start + 1}, ${length}) AS text FROM messages WHERE id = ${id}`
    );
    return row ? String(row.text) : "";
  }

  async lastMessageId(roomId: number): Promise<number> {
    const [row] = await this.#ask(() =>
      this.sql`SELECT max(id) AS id FROM messages WHERE room_id = ${roomId}`
    );
    return safeNumber(row?.id);
  }

  async changed(): Promise<boolean> {
    const [row] = await this.#ask(() =>
      this.sql`SELECT (SELECT max(id) FROM messages) AS m, (SELECT max(id) FROM rooms) AS r`
    );
    const seen = `${row?.m}:${row?.r}`;
    const changed = seen !== this.#seen;
    this.#seen = seen;
    return changed;
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 1 });
  }
}
