// The commands for scripts and bots: send, tail, rooms and export.
import type { Writable } from "node:stream";
import { ChatError, WaitError } from "./errors.ts";
import type { ExportFormat } from "./cli.ts";
import {
  escapeMarkdown,
  formatStamp,
  jsonLine,
  MESSAGE_WRITERS,
  plainLine,
  toJson,
} from "./formats.ts";
import { displayWidth } from "./width.ts";
import { padColumns, renderBubble } from "./render.ts";
import { inert } from "./sanitize.ts";
import { type Message, type Room, SHOWN_TEXT_LIMIT, type User } from "./model.ts";
import type { Follower, FollowerHandlers, Store } from "./store.ts";
import type { StdinLines } from "./stdin_lines.ts";
import type { Theme } from "./theme.ts";

/** Where send and tail go: a room by name, or the direct conversation with an account. */
export type Target = { room: string } | { with: string };

/** Where a script command writes. */
export interface ScriptOutput {
  stdout: Writable & { isTTY?: boolean; columns?: number };
  /** Prints one line for the user on stderr. */
  warn(line: string): void;
}

/**
 * `send`: one message from `text`, else each stdin line as it arrives. A line
 * that cannot be sent is reported and the rest still go; the command then
 * fails with a count. Lines faster than the account's rate wait their turn.
 */
export async function send(
  store: Store,
  user: User,
  target: Target,
  text: string | undefined,
  stdin: StdinLines,
  out: ScriptOutput,
): Promise<void> {
  const room = "with" in target
    ? await store.openDirect(user.id, target.with)
    : await store.findOrCreateRoom(target.room, user.id);
  if (text !== undefined) {
    await store.addMessage(room.id, user.id, text);
    return;
  }
  let lineNumber = 0;
  let failed = 0;
  let slowed = false;
  for await (const line of stdin) {
    lineNumber++;
    if (line.trim().length === 0) continue;
    for (;;) {
      try {
        await store.addMessage(room.id, user.id, line);
      } catch (err) {
        if (err instanceof WaitError) {
          if (!slowed) {
            out.warn(`line ${lineNumber}: over the rate limit; the rest wait their turn`);
          }
          slowed = true;
          await new Promise((resolve) => setTimeout(resolve, err.waitMs));
          continue;
        }
        if (!(err instanceof ChatError)) throw err;
        failed++;
        out.warn(`line ${lineNumber}: ${err.message}`);
      }
      break;
    }
  }
  if (failed > 0) throw new ChatError(`${failed} of ${lineNumber} lines were not sent`);
}

/**
 * `tail`: the last `history` messages (or, with `after`, every message after
 * that id, to resume without gaps or repeats), then new ones as the watch worker
 * delivers them, until the promise `stop()` returns settles. JSON lines with `json`, bubbles on a
 * terminal, plain lines in a pipe.
 */
export async function tail(
  store: Store,
  user: User,
  target: Target,
  options: {
    history: number;
    after?: number;
    json: boolean;
    theme: Theme;
    stop: () => Promise<unknown>;
    /** Starts the follower that delivers new messages. */
    follower: (handlers: FollowerHandlers) => Follower;
  },
  out: ScriptOutput,
): Promise<void> {
  const stopped = options.stop(); // listen for Ctrl-C before the first line goes out
  const room = "with" in target
    ? await store.openDirect(user.id, target.with, false) // reading starts no conversation
    : await findRoom(store, target.room);
  const format = messageFormat(room, user, options.json, options.theme, out);
  let lastShown = 0;
  const show = (messages: Message[]) => {
    let text = "";
    for (const message of messages) {
      if (message.id <= lastShown) continue;
      lastShown = message.id;
      text += format(message) + "\n";
    }
    if (text) out.stdout.write(text);
  };
  const follower = options.follower({
    onMessages: (_roomId, messages) => show(messages),
    onError: out.warn,
  });
  try {
    await follower.ready;
    // Follow from exactly what was printed (one read of the file), so that a
    // message committed meanwhile is delivered by the worker, never skipped.
    if (options.after !== undefined) lastShown = options.after;
    else if (options.history > 0) show(await store.recentMessages(room.id, options.history));
    else lastShown = await store.lastMessageId(room.id);
    follower.follow(room.id, lastShown);
    await stopped;
    // The terminal echoed ^C where the cursor was: the shell's prompt gets a line of its own.
    if (out.stdout.isTTY) out.stdout.write("\n");
  } finally {
    follower.close();
  }
}

function messageFormat(
  room: Room,
  user: User,
  json: boolean,
  theme: Theme,
  out: ScriptOutput,
): (message: Message) => string {
  if (json) return (message) => jsonLine(toJson(message, room.name));
  if (!out.stdout.isTTY) return plainLine;
  return (message) =>
    renderBubble(message, {
      width: out.stdout.columns || 80,
      own: message.userId === user.id,
      theme,
      now: Date.now(),
      reader: user.name,
    });
}

/** Writes to stdout, waiting until the pipe takes it. */
function writer(out: ScriptOutput): (text: string) => Promise<void> {
  return (text) =>
    new Promise<void>((resolve, reject) =>
      out.stdout.write(text, (err) => err ? reject(err) : resolve())
    );
}

/** Rows written at a time by `rooms`; the first batch sets the column width. */
const ROOMS_BATCH = 500;

/**
 * `rooms`: a table, or a JSON array with `json`, streamed however many rooms
 * there are; with `userId`, that account's direct conversations too.
 */
export async function rooms(
  store: Store,
  json: boolean,
  out: ScriptOutput,
  userId?: number,
): Promise<void> {
  const write = writer(out);
  let batch: (Room & { messages: number })[] = [];
  let width: number | undefined;
  let first = true;
  const flush = async () => {
    if (json) {
      let rows = "";
      for (const r of batch) {
        rows += (first ? "\n" : ",\n") +
          jsonLine({ room: r.name, messages: r.messages, last_activity: r.lastActivity });
        first = false;
      }
      await write(rows);
    } else {
      const names = batch.map((r) => inert(r.name));
      if (width === undefined) {
        width = 4;
        for (const name of names) width = Math.max(width, displayWidth(name));
        await write(`${padColumns("ROOM", width)}  MESSAGES  LAST ACTIVITY\n`);
      }
      const lines = batch.map((r, i) => {
        const last = r.lastActivity === null ? "-" : formatStamp(r.lastActivity);
        return `${padColumns(names[i], width!)}  ${String(r.messages).padStart(8)}  ${last}\n`;
      });
      await write(lines.join(""));
    }
    batch = [];
  };
  if (json) await write("[");
  for await (const room of store.roomStats(userId)) {
    batch.push(room);
    if (batch.length === ROOMS_BATCH) await flush();
  }
  if (batch.length > 0 || (!json && width === undefined)) await flush();
  if (json) await write(first ? "]\n" : "\n]\n");
}

/** Messages read at a time by `export`. */
const EXPORT_BATCH = 200;
/**
 * Characters of one long text read at a time by `export` (about 16 MB held at
 * a time). Each part is a substr() for which SQLite loads the whole text, so
 * parts are few and large.
 */
const EXPORT_CHUNK = 1 << 23;
/**
 * Most characters of one message that `export` writes: 4,000 times the longest
 * message chatroom sends, and two parts, so a gigabyte planted in the file
 * costs two reads of it, not one per part.
 */
export const EXPORT_TEXT_LIMIT = 1 << 24;

/**
 * `export`: a room's whole history, streamed in batches, and a long text in
 * parts up to {@linkcode EXPORT_TEXT_LIMIT}, so any size fits in memory.
 */
export async function exportRoom(
  store: Store,
  roomName: string,
  format: ExportFormat,
  out: ScriptOutput,
): Promise<void> {
  const room = await findRoom(store, roomName);
  const write = writer(out);
  const { head, text, tail } = MESSAGE_WRITERS[format];
  if (format === "md") await write(`# ${escapeMarkdown(inert(room.name))}\n\n`);
  if (format === "json") await write("[");
  let afterId = 0;
  let first = true;
  for (;;) {
    const batch = await store.messagesAfter(room.id, afterId, EXPORT_BATCH);
    // Ids only grow, so every batch moves on; one that did not would repeat for ever.
    if (batch.length === 0 || batch[batch.length - 1].id <= afterId) break;
    afterId = batch[batch.length - 1].id;
    let pending = "";
    for (const message of batch) {
      if (format === "json") pending += first ? "\n" : ",\n";
      first = false;
      pending += head(message, room.name) + text(message.text);
      const written = Math.min(message.more, EXPORT_TEXT_LIMIT - SHOWN_TEXT_LIMIT);
      for (let start = SHOWN_TEXT_LIMIT, left = written; left > 0;) {
        await write(pending);
        const length = Math.min(EXPORT_CHUNK, left);
        pending = text(await store.messageText(message.id, start, length));
        start += length;
        left -= length;
      }
      pending += tail(message, message.more - written) + (format === "json" ? "" : "\n");
    }
    await write(pending);
  }
  if (format === "json") await write(first ? "]\n" : "\n]\n");
}

async function findRoom(store: Store, name: string): Promise<Room> {
  const room = await store.findRoom(name);
  if (!room) throw new ChatError(`There is no room named "${name.trim()}"`);
  return room;
}

/**
 * `search`: the newest messages (at most SEARCH_LIMIT) holding every word, in
 * one room or all; as `userId`, their direct conversations too. A line each:
 * `#42 ops 2026-11-25 14:02:05 alice: the deploy failed`, or JSON with `json`.
 */
export async function search(
  store: Store,
  words: string,
  options: { userId?: number; room?: string; json: boolean },
  out: ScriptOutput,
): Promise<void> {
  const room = options.room === undefined ? undefined : await findRoom(store, options.room);
  const found = await store.search(words, { userId: options.userId ?? -1, roomId: room?.id });
  const lines = found.map((message) =>
    options.json
      ? jsonLine(toJson(message, message.roomName))
      : `#${message.id} ${inert(message.roomName)} ${plainLine(message)}`
  );
  if (lines.length > 0) await writer(out)(lines.join("\n") + "\n");
}
