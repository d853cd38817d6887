// The commands for scripts and bots: send, tail, rooms and export.
import type { Writable } from "node:stream";
import { ChatError } from "./errors.ts";
import type { ExportFormat } from "./cli.ts";
import { Follower } from "./follower.ts";
import { escapeMarkdown, jsonLine, markdownLine, plainLine, toJson } from "./formats.ts";
import stringWidth from "string-width";
import { padColumns, renderBubble } from "./render.ts";
import { inert } from "./sanitize.ts";
import type { Message, Room, Store, User } from "./store.ts";
import type { StdinLines } from "./stdin_lines.ts";
import type { Theme } from "./theme.ts";

/** Where a script command writes. */
export interface ScriptOutput {
  stdout: Writable & { isTTY?: boolean; columns?: number };
  /** Prints one line for the user on stderr. */
  warn(line: string): void;
}

/**
 * `send`: one message from `text`, else each stdin line as it arrives. A line
 * that cannot be sent is reported and the rest still go; the command then
 * fails with a count.
 */
export async function send(
  store: Store,
  user: User,
  roomName: string,
  text: string | undefined,
  stdin: StdinLines,
  out: ScriptOutput,
): Promise<void> {
  const room = store.findOrCreateRoom(roomName, user.id);
  if (text !== undefined) {
    store.addMessage(room.id, user.id, text);
    return;
  }
  let lineNumber = 0;
  let failed = 0;
  for await (const line of stdin) {
    lineNumber++;
    if (line.trim().length === 0) continue;
    try {
      store.addMessage(room.id, user.id, line);
    } catch (err) {
      if (!(err instanceof ChatError)) throw err;
      failed++;
      out.warn(`line ${lineNumber}: ${err.message}`);
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
  roomName: string,
  options: {
    history: number;
    after?: number;
    json: boolean;
    theme: Theme;
    stop: () => Promise<unknown>;
  },
  out: ScriptOutput,
): Promise<void> {
  const stopped = options.stop(); // listen for Ctrl-C before the first line goes out
  const room = findRoom(store, roomName);
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
  const follower = new Follower(store.path, {
    onMessages: (_roomId, messages) => show(messages),
    onError: out.warn,
  });
  try {
    await follower.ready;
    // Follow from exactly what was printed (one read of the file), so that a
    // message committed meanwhile is delivered by the worker, never skipped.
    if (options.after !== undefined) lastShown = options.after;
    else if (options.history > 0) show(store.recentMessages(room.id, options.history));
    else lastShown = store.lastMessageId(room.id);
    follower.follow(room.id, lastShown);
    await stopped;
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
    });
}

/** `rooms`: a table, or a JSON array with `json`. */
export function rooms(store: Store, json: boolean, out: ScriptOutput): void {
  const stats = store.roomStats();
  if (json) {
    const rows = stats.map((r) => ({
      room: r.name,
      messages: r.messages,
      last_activity: r.lastActivity,
    }));
    out.stdout.write(jsonLine(rows) + "\n");
    return;
  }
  const names = stats.map((r) => inert(r.name));
  const width = Math.max(4, ...names.map((n) => stringWidth(n)));
  const lines = [`${padColumns("ROOM", width)}  MESSAGES  LAST ACTIVITY`];
  stats.forEach((r, i) => {
    const last = r.lastActivity === null ? "-" : new Date(r.lastActivity).toISOString();
    lines.push(`${padColumns(names[i], width)}  ${String(r.messages).padStart(8)}  ${last}`);
  });
  out.stdout.write(lines.join("\n") + "\n");
}

/** `export`: a room's whole history, streamed in batches so any size fits in memory. */
export async function exportRoom(
  store: Store,
  roomName: string,
  format: ExportFormat,
  out: ScriptOutput,
): Promise<void> {
  const room = findRoom(store, roomName);
  const write = (text: string) =>
    new Promise<void>((resolve, reject) =>
      out.stdout.write(text, (err) => err ? reject(err) : resolve())
    );
  if (format === "md") await write(`# ${escapeMarkdown(inert(room.name))}\n\n`);
  if (format === "json") await write("[");
  let afterId = 0;
  let first = true;
  for (;;) {
    const batch = store.messagesAfter(room.id, afterId, 1000);
    if (batch.length === 0) break;
    afterId = batch[batch.length - 1].id;
    const lines = batch.map((message) => {
      if (format === "json") {
        const item = (first ? "\n" : ",\n") + jsonLine(toJson(message, room.name));
        first = false;
        return item;
      }
      return (format === "md" ? markdownLine(message) : plainLine(message)) + "\n";
    });
    await write(lines.join(""));
  }
  if (format === "json") await write(first ? "]\n" : "\n]\n");
}

function findRoom(store: Store, name: string): Room {
  const room = store.findRoom(name);
  if (!room) throw new ChatError(`There is no room named "${name.trim()}"`);
  return room;
}
