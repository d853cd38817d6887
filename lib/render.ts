import { displayWidth, graphemes, wrapColumns } from "./width.ts";
import { moreNote, said } from "./formats.ts";
import { nameKey } from "./names.ts";
import { inert } from "./sanitize.ts";
import { MENTION, mentionedName, type Message } from "./model.ts";
import type { Theme } from "./theme.ts";

/** What a bubble is drawn for. */
export interface BubbleOptions {
  /** Terminal width in columns. */
  width: number;
  /** True for the reader's own messages: drawn on the right, in their border colour. */
  own: boolean;
  theme: Theme;
  /** Now, to decide whether a timestamp needs its date. */
  now: number;
  /** IANA time zone for timestamps; the system's when absent. */
  timeZone?: string;
  /** The reader's name: `@name` mentions of it stand out. */
  reader?: string;
}

/** Narrowest bubble body, so very narrow terminals still get a readable column. */
const MIN_BODY = 8;

/**
 * Draws a message as a speech bubble: a rounded box with the author and time
 * in its top border and the text word-wrapped inside. Widths are display
 * columns, so CJK and emoji line up. Own bubbles sit on the right.
 *
 * @example
 * ```ts
 * renderBubble(message, { width: 40, own: false, theme: plainTheme, now: Date.now() });
 * // ╭─ alice · 14:02 ─╮
 * // │ hello there    │
 * // ╰────────────────╯
 * ```
 */
export function renderBubble(message: Message, options: BubbleOptions): string {
  const { width, own, theme } = options;
  const box = own ? theme.ownBorder : theme.border;
  // Three quarters of the width, at least MIN_BODY, and never past the edge.
  const maxBody = Math.max(
    1,
    Math.min(width - 4, Math.max(MIN_BODY, Math.floor(width * 0.75) - 4)),
  );

  const time = formatTime(message.sentAt, options.now, options.timeZone);
  const header = renderHeader(inert(message.userName), nameKey(message.userName), time, {
    columns: maxBody - 2, // room for at least one "─" after it
    theme,
  });

  const text = inert(message.text, true);
  const lines = wrap(options.reader ? highlight(text, options.reader, theme) : text, maxBody);
  if (message.more > 0) lines.push(...wrap(moreNote(message), maxBody).map(theme.dim));
  let widest = header.width + 2;
  for (const line of lines) widest = Math.max(widest, displayWidth(line));
  const body = Math.min(maxBody, widest);
  const indent = " ".repeat(own ? Math.max(0, width - body - 4) : 0);

  const out = [
    indent + box("╭─ ") + header.text +
    box(" " + "─".repeat(Math.max(0, body - header.width - 1)) + "╮"),
    ...lines.map((line) =>
      indent + box("│ ") + line + " ".repeat(body - displayWidth(line)) + box(" │")
    ),
    indent + box("╰" + "─".repeat(body + 2) + "╯"),
  ];
  return out.join("\n");
}

/** "name · time" in at most `columns`: the name is cut first, then the time dropped. */
function renderHeader(
  name: string,
  key: string,
  time: string,
  { columns, theme }: { columns: number; theme: Theme },
): { text: string; width: number } {
  const forName = columns - 3 - displayWidth(time);
  if (forName >= Math.min(2, displayWidth(name) || 1)) {
    const shown = truncate(name, forName);
    return {
      text: `${theme.user(shown, key)} ${theme.dim("·")} ${theme.dim(time)}`,
      width: displayWidth(shown) + 3 + displayWidth(time),
    };
  }
  const shown = columns > 0 ? truncate(name, columns) : "";
  return { text: theme.user(shown, key), width: displayWidth(shown) };
}

/**
 * Draws a line from the program (a notice or an error), wrapped to the width.
 *
 * @example
 * ```ts
 * renderNotice("Joined #general", (s) => s, 80); // "-- Joined #general"
 * ```
 */
export function renderNotice(text: string, paint: (s: string) => string, width: number): string {
  return wrap(inert(text, true), Math.max(2, width - 3))
    .map((line, i) => paint((i === 0 ? "-- " : "   ") + line))
    .join("\n");
}

/** `text` with each `@reader` (by the name rules: case ignored) painted as a mention. */
function highlight(text: string, reader: string, theme: Theme): string {
  if (!text.includes("@")) return text;
  const key = nameKey(reader);
  return text.replace(MENTION, (all, before: string, typed: string) => {
    const name = mentionedName(typed);
    if (nameKey(name) !== key) return all;
    return before + theme.mention("@" + name) + typed.slice(name.length);
  });
}

/**
 * A `/me` line (`* alice waves`) or a topic line (`-- alice set the topic: …`),
 * wrapped to `width`: quiet lines, not bubbles.
 */
export function renderAction(message: Message, theme: Theme, width: number): string {
  // Each on one line however it was written (/me and /topic take one): a line break written
  // into the file could otherwise forge a line under it.
  const text = inert(message.text);
  if (message.kind === "topic") {
    return renderNotice(said(inert(message.userName), message) + text, theme.notice, width);
  }
  const name = said(theme.user(inert(message.userName), nameKey(message.userName)), message);
  const lines = wrap(text, Math.max(2, width - displayWidth(message.userName) - 4));
  return lines.map((line, i) => (i === 0 ? name : "  ") + line).join("\n");
}

const dayFormat = new Map<string | undefined, Intl.DateTimeFormat>();

/** The line between messages of two days: `── Tuesday 1 December 2026 ──`. */
export function renderDay(at: number, theme: Theme, timeZone?: string): string {
  let format = dayFormat.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-GB", {
      timeZone,
      weekday: "long",
      day: "numeric",
      month: "long",
      year: "numeric",
    });
    dayFormat.set(timeZone, format);
  }
  return theme.dim(`── ${format.format(at).replace(",", "")} ──`);
}

/**
 * Whether `line` is plain text that fits in `columns`, which wrap-ansi would
 * give back as it is: most lines are, and they need neither it nor string-width.
 */
function fitsAsIs(line: string, columns: number): boolean {
  return line.length <= columns &&
    /^(?:[\x21-\x7e][\x20-\x7e]*[\x21-\x7e]|[\x21-\x7e])$/.test(line);
}

/** Whether renderNotice() draws `text` on one line without loadWidths(): plain ASCII that fits. */
export function noticeFitsAsIs(text: string, width: number): boolean {
  return fitsAsIs(text, Math.max(2, width - 3));
}

/**
 * Word-wraps by display columns; words longer than a line are broken. A line's
 * leading spaces (pasted code, a quote) are kept, and its wrapped rows are
 * indented as far, up to half the width.
 */
function wrap(text: string, columns: number): string[] {
  return text.split("\n").flatMap((paragraph) => {
    // At most half the width, and never so much that a wide character no longer fits.
    const kept = Math.max(0, Math.min(Math.floor(columns / 2), columns - 2));
    const indent = /^ */.exec(paragraph)![0].slice(0, kept);
    const width = columns - indent.length;
    const rest = paragraph.slice(indent.length);
    if (fitsAsIs(rest, width)) return [paragraph];
    return wrapColumns(rest, width).split("\n")
      .flatMap((line) => fit(line, width))
      .map((line) => indent + line);
  });
}

/**
 * Splits a line that is still too wide. wrap-ansi never breaks inside a
 * grapheme, and one grapheme can be wider than a narrow bubble (a wide
 * character with a spacing mark takes 3 columns): such a grapheme is split
 * into its code points, which terminals draw one by one anyway.
 */
function fit(line: string, columns: number): string[] {
  if (displayWidth(line) <= columns) return [line];
  const units = [...graphemes(line)].flatMap(({ segment }) =>
    displayWidth(segment) > columns ? [...segment] : [segment]
  );
  const lines: string[] = [];
  let current = "";
  for (const unit of units) {
    if (current && displayWidth(current + unit) > columns) {
      lines.push(current);
      current = "";
    }
    current += unit;
  }
  return [...lines, current];
}

/**
 * Pads text with spaces to `columns` display columns (CJK and emoji count double).
 *
 * @example
 * ```ts
 * padColumns("全角", 6); // "全角  "
 * ```
 */
export function padColumns(text: string, columns: number): string {
  return text + " ".repeat(Math.max(0, columns - displayWidth(text)));
}

/** Cuts text to at most `columns` display columns, marking the cut with "…". */
export function truncate(text: string, columns: number): string {
  if (displayWidth(text) <= columns) return text;
  let out = "";
  for (const { segment } of graphemes(text)) {
    if (displayWidth(out + segment) > columns - 1) break;
    out += segment;
  }
  return out + "…";
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const formatters = new Map<string | undefined, Intl.DateTimeFormat>();
/** Parts worked out, by time zone and minute: every message of a minute shares them. */
const partsByMinute = new Map<string, Record<string, string>>();
/** Since 1973 every time zone's offset has been whole minutes (Liberia's was the last not). */
const WHOLE_MINUTE_OFFSETS = Date.UTC(1973, 0, 1);

function dateParts(ms: number, timeZone?: string): Record<string, string> {
  if (ms < WHOLE_MINUTE_OFFSETS || !Number.isFinite(ms)) return formatParts(ms, timeZone);
  const key = `${timeZone}|${Math.floor(ms / 60_000)}`;
  let parts = partsByMinute.get(key);
  if (!parts) {
    if (partsByMinute.size >= 256) partsByMinute.clear();
    partsByMinute.set(key, parts = formatParts(ms, timeZone));
  }
  return parts;
}

function formatParts(ms: number, timeZone?: string): Record<string, string> {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timeZone, format);
  }
  return Object.fromEntries(format.formatToParts(ms).map((p) => [p.type, p.value]));
}

/**
 * "14:02" for today, "Nov 24 14:02" for earlier this year, "2025-11-24 14:02" before.
 *
 * @example
 * ```ts
 * formatTime(Date.UTC(2026, 10, 25, 14, 2), Date.UTC(2026, 10, 25, 15), "UTC"); // "14:02"
 * ```
 */
export function formatTime(at: number, now: number, timeZone?: string): string {
  const t = dateParts(at, timeZone);
  const today = dateParts(now, timeZone);
  const clock = `${t.hour}:${t.minute}`;
  if (t.year !== today.year) return `${t.year}-${t.month}-${t.day} ${clock}`;
  if (t.month !== today.month || t.day !== today.day) {
    return `${MONTHS[Number(t.month) - 1]} ${t.day} ${clock}`;
  }
  return clock;
}
