// The PostgreSQL store: the same rooms and messages as the SQLite file, read
// and written over one account's own connection. The server checks who may
// write what (row-level security), numbers messages in order per room and
// enforces the rate limits; this module turns its answers into ChatErrors.
import type { Sql } from "postgres";
import { ChatError, WaitError } from "./errors.ts";
import {
  checkMessage,
  checkTopic,
  type Found,
  HISTORY_ON_JOIN,
  MAX_TOPIC_LENGTH,
  MAX_UNREAD_COUNTED,
  mentionedNames,
  type Message,
  type MessageKind,
  noConversation,
  type Presence,
  PRESENCE_TIMEOUT_MS,
  type Room,
  ROOM_LIST_LIMIT,
  SEARCH_LIMIT,
  searchWords,
  SHOWN_TEXT_LIMIT,
  type Unread,
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
import { safeNumber, toFound, toMessage, toPresence, toRoom, toUnread } from "./rows.ts";
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
    greatest(0, char_length(m.text) - ${SHOWN_TEXT_LIMIT}) AS more, m.sent_at, m.kind`;

/** A room's columns as toRoom() reads them, from `rooms` (or what is named so). */
const ROOM_COLUMNS = (sql: Sql) =>
  sql`rooms.id, substr(rooms.name, 1, 64) AS name, rooms.last_sent_at AS last,
    substr(rooms.topic, 1, ${MAX_TOPIC_LENGTH}) AS topic, rooms.dm_a, rooms.dm_b,
    (SELECT substr(name, 1, 64) FROM users WHERE id = rooms.dm_a) AS dm_a_name,
    (SELECT substr(name, 1, 64) FROM users WHERE id = rooms.dm_b) AS dm_b_name`;

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
      this.sql`SELECT ${ROOM_COLUMNS(this.sql)}
        FROM rooms WHERE name_key = ${nameKey(name.trim())} AND dm_a IS NULL`
    );
    return row ? toRoom(row) : undefined;
  }

  async createRoom(rawName: string, createdBy: number): Promise<Room> {
    const name = await this.checkNewName("rooms", rawName, "Room name");
    try {
      const [row] = await this.sql`INSERT INTO rooms (name, name_key, skeleton, created_by)
        VALUES (${name}, ${nameKey(name)}, ${nameSkeleton(name)}, ${createdBy})
        RETURNING id, name, last_sent_at AS last, topic`;
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

  async listRooms(
    options: { limit?: number; search?: string; userId?: number } = {},
  ): Promise<Room[]> {
    // A direct conversation is listed to its two members only (the server shows no other),
    // and only when not searching.
    const dms = options.search === undefined && options.userId !== undefined;
    const rows = await this.#ask(() =>
      this.sql`SELECT ${ROOM_COLUMNS(this.sql)} FROM rooms
        WHERE (dm_a IS NULL AND name_key LIKE ${nameLikePattern(options.search)})
          OR (${dms} AND dm_a IS NOT NULL)
        ORDER BY coalesce(last_sent_at, created_at) DESC, last_sent_at IS NULL, name_key
        LIMIT ${options.limit ?? ROOM_LIST_LIMIT}`
    );
    return rows.map((row) => toRoom(row, options.userId));
  }

  async countRooms(search?: string, userId?: number): Promise<number> {
    const dms = search === undefined && userId !== undefined;
    const [row] = await this.#ask(() =>
      this.sql`SELECT count(*) AS n FROM rooms
        WHERE (dm_a IS NULL AND name_key LIKE ${nameLikePattern(search)})
          OR (${dms} AND dm_a IS NOT NULL)`
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

  async *roomStats(userId?: number): AsyncGenerator<Room & { messages: number }> {
    // The owner (whom `rooms` connects as without --user) sees every row: ask for one's own.
    const rows = this.sql`SELECT ${ROOM_COLUMNS(this.sql)},
        (SELECT count(*) FROM messages WHERE room_id = rooms.id) AS messages
      FROM rooms WHERE rooms.dm_a IS NULL OR ${userId ?? -1} IN (rooms.dm_a, rooms.dm_b)
      ORDER BY rooms.last_sent_at IS NULL, rooms.last_sent_at DESC, rooms.name_key`.cursor(500);
    try {
      for await (const batch of rows) {
        for (const row of batch) {
          yield { ...toRoom(row, userId), messages: safeNumber(row.messages) };
        }
      }
    } catch (err) {
      throw describeServerError(err, this.path) ?? err;
    }
  }

  async addMessage(
    roomId: number,
    userId: number,
    text: string,
    kind: MessageKind = "text",
  ): Promise<number> {
    if (kind === "topic") checkTopic(text);
    else checkMessage(text);
    const keys = mentionedNames(text).map(nameKey);
    const insert = (sql: Sql) =>
      sql`INSERT INTO messages (room_id, user_id, text, kind)
        VALUES (${roomId}, ${userId}, ${text}, ${kind}) RETURNING id`;
    // One round trip for most messages; one naming people notes them in the same transaction.
    if (keys.length === 0) return safeNumber((await this.#ask(() => insert(this.sql)))[0].id);
    return await this.#ask(() =>
      this.sql.begin(async (tx) => {
        const [row] = await insert(tx as unknown as Sql);
        // In a conversation only its other member can be named: others learn nothing of it.
        await tx`INSERT INTO mentions (user_id, room_id, message_id)
          SELECT id, ${roomId}, ${row.id} FROM users
          WHERE name_key = ANY(${keys}) AND id <> ${userId} AND EXISTS (SELECT 1 FROM rooms r
            WHERE r.id = ${roomId} AND (r.dm_a IS NULL OR users.id IN (r.dm_a, r.dm_b)))
            -- What the server's policy checks, so that it never refuses (and undoes) the message.
            AND strpos(lower(${text}), '@' || name_key) > 0
          ON CONFLICT DO NOTHING`;
        return safeNumber(row.id);
      })
    );
  }

  async messagesBefore(roomId: number, beforeId: number, limit: number): Promise<Message[]> {
    const rows = await this.#ask(() =>
      this.sql`SELECT * FROM (
        SELECT ${MESSAGE_COLUMNS(this.sql)} FROM messages m JOIN users u ON u.id = m.user_id
        WHERE m.room_id = ${roomId} AND m.id < ${beforeId} ORDER BY m.id DESC LIMIT ${limit}
      ) earlier ORDER BY id`
    );
    return rows.map(toMessage);
  }

  /**
   * Up to `limit` messages holding every word of `words` (PostgreSQL's
   * full-text search, 'simple' configuration), newest first: in `roomId`, or
   * in every room the server shows this account.
   */
  async search(
    words: string,
    { userId, roomId, limit = SEARCH_LIMIT }: { userId: number; roomId?: number; limit?: number },
  ): Promise<Found[]> {
    const query = searchWords(words).join(" ");
    // The server's search() finds the ids (see schema 4); the rows are read as this account.
    const rows = await this.#ask(() =>
      this.sql`SELECT ${MESSAGE_COLUMNS(this.sql)}, substr(r.name, 1, 64) AS r_name, r.dm_a, r.dm_b,
          (SELECT substr(name, 1, 64) FROM users WHERE id = r.dm_a) AS dm_a_name,
          (SELECT substr(name, 1, 64) FROM users WHERE id = r.dm_b) AS dm_b_name
        FROM messages m JOIN users u ON u.id = m.user_id JOIN rooms r ON r.id = m.room_id
        WHERE m.id IN (SELECT chatroom.search(${query}, ${roomId ?? null}, ${limit}))
          AND (r.dm_a IS NULL OR ${userId} IN (r.dm_a, r.dm_b))
        ORDER BY m.id DESC`
    );
    return rows.map((row) => toFound(row, userId));
  }

  async openDirect(userId: number, otherName: string, create = true): Promise<Room> {
    const [other] = await this.#ask(() =>
      this.sql`SELECT id, substr(name, 1, 64) AS name FROM users WHERE name_key = ${
        nameKey(normalizeName(otherName, "User name"))
      }`
    );
    if (!other) throw new ChatError(`There is no account named "${otherName.trim()}"`);
    const otherId = safeNumber(other.id);
    if (otherId === userId) throw new ChatError("That is you: talk to someone else");
    const [a, b] = userId < otherId ? [userId, otherId] : [otherId, userId];
    const find = async () => {
      const [row] = await this.#ask(() =>
        this.sql`SELECT ${ROOM_COLUMNS(this.sql)} FROM rooms WHERE dm_a = ${a} AND dm_b = ${b}`
      );
      return row ? toRoom(row, userId) : undefined;
    };
    const found = await find();
    if (found) return found;
    if (!create) throw noConversation(shownName(String(other.name)));
    const key = `@${a}+${b}`;
    try {
      await this.sql`INSERT INTO rooms (name, name_key, skeleton, created_by, dm_a, dm_b)
        VALUES (${key}, ${key}, ${key}, ${userId}, ${a}, ${b})`;
    } catch (err) {
      const raced = await find();
      if (raced) return raced;
      const described = describeServerError(err, this.path) ?? err;
      if (described instanceof WaitError) {
        throw new WaitError(
          `You are opening conversations too fast; wait ${
            Math.ceil(described.waitMs / 1000)
          } s and try again`,
          described.waitMs,
        );
      }
      throw described;
    }
    return (await find())!;
  }

  async announce(client: string, userId: number, roomId: number | null): Promise<void> {
    // The server stamps its own time and says when someone arrives or moves.
    await this.#ask(() =>
      this
        .sql`INSERT INTO presence (client, user_id, room_id) VALUES (${client}, ${userId}, ${roomId})
        ON CONFLICT (client) DO UPDATE SET room_id = excluded.room_id, seen_at = 0`
    );
  }

  async depart(client: string): Promise<void> {
    await this.#ask(() => this.sql`DELETE FROM presence WHERE client = ${client}`);
  }

  async present(): Promise<Presence[]> {
    const rows = await this.#ask(() =>
      this.sql`SELECT DISTINCT p.user_id, substr(u.name, 1, 64) AS name, u.name_key, p.room_id,
          CASE WHEN r.dm_a IS NULL THEN substr(r.name, 1, 64) END AS room_name
        FROM presence p JOIN users u ON u.id = p.user_id LEFT JOIN rooms r ON r.id = p.room_id
        WHERE p.seen_at BETWEEN chatroom.now_ms() - ${PRESENCE_TIMEOUT_MS}
          AND chatroom.now_ms() + ${PRESENCE_TIMEOUT_MS}
        ORDER BY u.name_key, p.room_id LIMIT 1000`
    );
    return rows.map(toPresence);
  }

  async markRead(userId: number, roomId: number, messageId: number): Promise<void> {
    await this.#ask(() =>
      this.sql`INSERT INTO read_markers VALUES (${userId}, ${roomId}, ${messageId})
        ON CONFLICT (user_id, room_id)
        DO UPDATE SET last_read = greatest(read_markers.last_read, excluded.last_read)`
    );
  }

  async lastRead(userId: number, roomId: number): Promise<number> {
    const [row] = await this.#ask(() =>
      this.sql`SELECT last_read FROM read_markers WHERE user_id = ${userId} AND room_id = ${roomId}`
    );
    return safeNumber(row?.last_read);
  }

  async unread(userId: number): Promise<Unread[]> {
    const rows = await this.#ask(() =>
      this.sql`WITH mine (room_id) AS (
          SELECT room_id FROM read_markers WHERE user_id = ${userId}
          UNION SELECT id FROM rooms WHERE dm_a = ${userId}
          UNION SELECT id FROM rooms WHERE dm_b = ${userId}
          UNION SELECT room_id FROM mentions WHERE user_id = ${userId}
          LIMIT 500
        ), rooms AS (
          SELECT r.*, k.last_read,
            (SELECT count(*) FROM (SELECT m.user_id, m.kind FROM messages m WHERE m.room_id = r.id
               AND m.id > coalesce(k.last_read, 0) ORDER BY m.id LIMIT ${MAX_UNREAD_COUNTED}) n
               WHERE n.user_id <> ${userId} AND n.kind <> 'topic') AS unread,
            (SELECT count(*) FROM (SELECT 1 FROM mentions x JOIN messages m ON m.id = x.message_id
               WHERE x.user_id = ${userId} AND x.room_id = r.id
                 AND x.message_id > coalesce(k.last_read, 0) AND m.room_id = r.id
                 AND m.user_id <> ${userId}
               LIMIT ${MAX_UNREAD_COUNTED}) n) AS mentions
          FROM mine JOIN chatroom.rooms r ON r.id = mine.room_id
          LEFT JOIN read_markers k ON k.user_id = ${userId} AND k.room_id = r.id
        )
        SELECT ${ROOM_COLUMNS(this.sql)}, rooms.unread, rooms.mentions,
          rooms.last_read IS NULL AS unvisited
        FROM rooms WHERE rooms.mentions > 0
          OR (rooms.unread > 0 AND (rooms.last_read IS NOT NULL OR rooms.dm_a IS NOT NULL))`
    );
    return rows.map((row) => toUnread(row, userId));
  }

  async bell(userId: number): Promise<boolean> {
    const [row] = await this.#ask(() =>
      this.sql`SELECT bell FROM preferences WHERE user_id = ${userId}`
    );
    return row ? row.bell === true : true;
  }

  async setBell(userId: number, on: boolean): Promise<void> {
    await this.#ask(() =>
      this.sql`INSERT INTO preferences VALUES (${userId}, ${on})
        ON CONFLICT (user_id) DO UPDATE SET bell = excluded.bell`
    );
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
