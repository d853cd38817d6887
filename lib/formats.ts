// Message formats for scripts: JSON objects, plain lines and exports.
import { inert } from "./sanitize.ts";
import type { Message } from "./model.ts";

/** A message as `tail --json` writes it. */
export interface MessageJson {
  id: number;
  room: string;
  user: string;
  text: string;
  /** Milliseconds since the epoch. */
  sent_at: number;
  /** Characters of a planted over-long text left out; absent when the text is whole. */
  more?: number;
  /** "me" for a /me line, "topic" for a new topic; absent for a message. */
  kind?: "me" | "topic";
}

/**
 * The JSON form of a message.
 *
 * @example
 * ```ts
 * JSON.stringify(toJson(message, "general"));
 * // {"id":7,"room":"general","user":"alice","text":"hi","sent_at":1764079320000}
 * ```
 */
export function toJson(message: Message, room: string): MessageJson {
  const json: MessageJson = {
    id: message.id,
    room,
    user: message.userName,
    text: message.text,
    sent_at: message.sentAt,
  };
  if (message.more > 0) json.more = message.more;
  if (message.kind !== "text") json.kind = message.kind;
  return json;
}

// JSON.stringify leaves C1 controls, bidi controls and line separators raw; a
// reader that prints a field would pass them to its terminal.
const JSON_UNSAFE = /[\u0080-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

/**
 * `JSON.stringify`, with C1 controls, bidi controls and line separators escaped
 * as `\u` sequences too.
 *
 * @example
 * ```ts
 * import { jsonLine } from "./formats.ts";
 * jsonLine({ text: "\u202e" }); // '{"text":"\\u202e"}'
 * ```
 */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(
    JSON_UNSAFE,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/**
 * A full local timestamp, `2026-11-25 14:02:05`.
 *
 * @example
 * ```ts
 * formatStamp(Date.now());
 * ```
 */
export function formatStamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * A message format written piece by piece, so that a text of any length can
 * be streamed: `head`, then `text` for each part of the text, then `tail`
 * with how many characters were left out (0 for a whole text).
 */
export interface MessageWriter {
  head(message: Message, room: string): string;
  text(part: string): string;
  tail(message: Message, left: number): string;
}

/** What a plain or Markdown export says after a text it did not write whole. */
function notExported(left: number): string {
  return left > 0
    ? ` [… ${left} more characters not exported: a text this long was written into the file by hand]`
    : "";
}

/**
 * The export formats, one message each. A message's line breaks start
 * continuation lines indented by two spaces (a new message always starts with
 * its date); text from the file is made inert.
 */
export const MESSAGE_WRITERS: Readonly<Record<"txt" | "md" | "json", MessageWriter>> = {
  // 2026-11-25 14:02:05 alice: hi
  //   and a second line
  // 2026-11-25 14:02:05 * alice waves
  // 2026-11-25 14:02:05 alice set the topic: Release on Friday
  txt: {
    head: (message) => `${formatStamp(message.sentAt)} ${said(inert(message.userName), message)}`,
    text: (part) => inert(part, true).replaceAll("\n", "\n  "),
    tail: (_message, left) => notExported(left),
  },
  // - **alice** · 2026-11-25 14:02:05: hi\
  //   and a second line (a hard line break inside the list item)
  md: {
    head: (message) =>
      message.kind === "text"
        ? `- **${escapeMarkdown(inert(message.userName))}** · ${formatStamp(message.sentAt)}: `
        : `- ${formatStamp(message.sentAt)} ${
          said(`**${escapeMarkdown(inert(message.userName))}**`, message)
        }`,
    text: (part) => inert(part, true).split("\n").map(escapeMarkdown).join("\\\n  "),
    tail: (_message, left) => notExported(left),
  },
  // {"id":7,"room":"general","user":"alice","text":"hi","sent_at":1764079320000}
  json: {
    head: (message, room) =>
      jsonLine({ id: message.id, room, user: message.userName, text: "" }).slice(0, -2),
    text: (part) => jsonLine(part).slice(1, -1),
    tail: (message, left) =>
      `","sent_at":${message.sentAt}${left > 0 ? `,"more":${left}` : ""}${
        message.kind === "text" ? "" : `,"kind":"${message.kind}"`
      }}`,
  },
};

/** What comes before a line's text: `alice: `, `* alice ` or `alice set the topic: `. */
export function said(name: string, message: Message): string {
  if (message.kind === "me") return `* ${name} `;
  if (message.kind === "topic") return `${name} set the topic: `;
  return `${name}: `;
}

/**
 * One message on one line, for pipes; a text cut short says how much is left.
 *
 * @example
 * ```ts
 * plainLine(message); // "2026-11-25 14:02:05 alice: hi"
 * ```
 */
export function plainLine(message: Message): string {
  const { head, text } = MESSAGE_WRITERS.txt;
  return head(message, "") + text(message.text) + (message.more > 0 ? ` ${moreNote(message)}` : "");
}

/** The line under a text cut short: how much more there is and where to read it. */
export function moreNote(message: Message): string {
  return `[… ${message.more} more characters; chatroom export shows them]`;
}

/** Escapes what Markdown would read as markup. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]<>()#+!|~]/g, "\\$&");
}
