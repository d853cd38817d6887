// Message formats for scripts: JSON objects, plain lines and exports.
import { inert } from "./sanitize.ts";
import type { Message } from "./store.ts";

/** A message as `tail --json` and `export --format json` write it. */
export interface MessageJson {
  id: number;
  room: string;
  user: string;
  text: string;
  /** Milliseconds since the epoch. */
  sent_at: number;
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
  return {
    id: message.id,
    room,
    user: message.userName,
    text: message.text,
    sent_at: message.sentAt,
  };
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
 * One message on one line, for pipes and text exports; text from the file is
 * made inert and line breaks show as `␊`.
 *
 * @example
 * ```ts
 * plainLine(message); // "2026-11-25 14:02:05 alice: hi"
 * ```
 */
export function plainLine(message: Message): string {
  return `${formatStamp(message.sentAt)} ${inert(message.userName)}: ${inert(message.text)}`;
}

/**
 * One message as a Markdown list item; line breaks become `<br>`.
 *
 * @example
 * ```ts
 * markdownLine(message); // "- **alice** · 2026-11-25 14:02:05: hi"
 * ```
 */
export function markdownLine(message: Message): string {
  const text = inert(message.text, true).split("\n").map(escapeMarkdown).join("<br>");
  return `- **${escapeMarkdown(inert(message.userName))}** · ${
    formatStamp(message.sentAt)
  }: ${text}`;
}

/** Escapes what Markdown would read as markup. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]<>()#+!|~]/g, "\\$&");
}
