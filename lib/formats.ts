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

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]<>()#+!|~]/g, "\\$&");
}
