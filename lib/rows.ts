// Rows as either backend returns them, read into the model. Everything in a
// row may have been written by hand (with sqlite3 or psql): numbers and times
// are checked, names are shown inert when they break the rules.
import type { Found, Message, MessageKind, Presence, Room, Unread } from "./model.ts";
import { shownName } from "./names.ts";
import { inert } from "./sanitize.ts";

/** A row of named columns. */
export type Row = Record<string, unknown>;

/**
 * A number read from a database: SQLite's integers come as BigInt,
 * PostgreSQL's bigint columns as decimal text. Anything else (other text, NaN,
 * a number past JavaScript's safe range) becomes `fallback`.
 *
 * @example
 * ```ts
 * safeNumber(7n); // 7
 * safeNumber("12"); // 12
 * safeNumber(2n ** 60n, -1); // -1
 * ```
 */
export function safeNumber(value: unknown, fallback = 0): number {
  if (typeof value === "bigint") {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : fallback;
  }
  const number = typeof value === "string" && /^-?\d{1,15}$/.test(value) ? Number(value) : value;
  return typeof number === "number" && Number.isFinite(number) &&
      Math.abs(number) <= Number.MAX_SAFE_INTEGER
    ? number
    : fallback;
}

/** Most milliseconds from the epoch a Date can hold. */
const MAX_TIME = 8.64e15;

/** A time read from a database; one no clock can show becomes the epoch. */
export function safeTime(value: unknown): number {
  const time = safeNumber(value);
  return Math.abs(time) <= MAX_TIME ? time : 0;
}

/**
 * A room from a row of `id`, `name`, `last` (its last message's time, or
 * null), `topic`, and for a direct conversation `dm_a`, `dm_a_name`, `dm_b`,
 * `dm_b_name`: its name is then "@" and the member who is not `viewer`.
 */
export function toRoom(row: Row, viewer?: number): Room {
  const room: Room = {
    id: safeNumber(row.id),
    name: shownName(String(row.name)),
    lastActivity: row.last == null ? null : safeTime(row.last),
    // One line, however it was written: a line break could forge a line under it.
    topic: row.topic == null ? null : inert(String(row.topic)),
  };
  if (row.dm_a == null || row.dm_b == null) return room;
  const members = [
    { id: safeNumber(row.dm_a), name: shownName(String(row.dm_a_name)) },
    { id: safeNumber(row.dm_b), name: shownName(String(row.dm_b_name)) },
  ] as const;
  const other = members[0].id === viewer ? members[1] : members[0];
  return { ...room, name: `@${other.name}`, members };
}

const KINDS: readonly string[] = ["text", "me", "topic"] satisfies MessageKind[];

/** A message from a row of `id`, `room_id`, `user_id`, `user_name`, `text`, `more`, `sent_at`, `kind`. */
export function toMessage(row: Row): Message {
  const kind = String(row.kind ?? "text");
  return {
    id: safeNumber(row.id),
    roomId: safeNumber(row.room_id),
    userId: safeNumber(row.user_id),
    userName: shownName(String(row.user_name)),
    text: String(row.text),
    more: safeNumber(row.more),
    sentAt: safeTime(row.sent_at),
    // A kind written by hand that chatroom does not know is shown as what it holds: text.
    kind: KINDS.includes(kind) ? kind as MessageKind : "text",
  };
}

/** A search result: a message row with its room's `r_name`, `dm_a`, `dm_a_name`, `dm_b`, `dm_b_name`. */
export function toFound(row: Row, viewer: number): Found {
  return {
    ...toMessage(row),
    roomName: toRoom({ ...row, id: row.room_id, name: row.r_name }, viewer).name,
  };
}

/** Someone logged in, from a row of `user_id`, `name`, `room_id` and `room_name`. */
export function toPresence(row: Row): Presence {
  return {
    userId: safeNumber(row.user_id),
    userName: shownName(String(row.name)),
    roomId: row.room_id == null ? null : safeNumber(row.room_id),
    roomName: row.room_name == null ? null : shownName(String(row.room_name)),
  };
}

/** A room with news, from its room columns and `unread`, `mentions` and `unvisited`. */
export function toUnread(row: Row, viewer: number): Unread {
  return {
    room: toRoom(row, viewer),
    // In a room never visited, only what names you is news.
    unread: row.unvisited && row.dm_a == null ? safeNumber(row.mentions) : safeNumber(row.unread),
    mentions: safeNumber(row.mentions),
  };
}
