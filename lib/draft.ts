// The text being typed in the chat view and the cursor in it, edited the way
// shells do. Pure: every edit returns a new draft.
import type { KeyName } from "./keys.ts";
import { graphemes } from "./width.ts";

/** The input line: its text (line breaks allowed) and the cursor, a UTF-16 offset. */
export interface Draft {
  readonly text: string;
  readonly cursor: number;
}

/** Nothing typed. */
export const EMPTY_DRAFT: Draft = { text: "", cursor: 0 };

/** Offsets where graphemes start, and the end. */
function boundaries(text: string): number[] {
  const found = [...graphemes(text)].map((s) => s.index);
  found.push(text.length);
  return found;
}

function previousBoundary(text: string, cursor: number): number {
  let before = 0;
  for (const at of boundaries(text)) {
    if (at >= cursor) break;
    before = at;
  }
  return before;
}

function nextBoundary(text: string, cursor: number): number {
  for (const at of boundaries(text)) if (at > cursor) return at;
  return text.length;
}

function wordStart(text: string, cursor: number): number {
  let at = cursor;
  while (at > 0 && /\s/.test(text[at - 1])) at--;
  while (at > 0 && !/\s/.test(text[at - 1])) at--;
  return at;
}

function wordEnd(text: string, cursor: number): number {
  let at = cursor;
  while (at < text.length && /\s/.test(text[at])) at++;
  while (at < text.length && !/\s/.test(text[at])) at++;
  return at;
}

function lineStart(text: string, cursor: number): number {
  return cursor === 0 ? 0 : text.lastIndexOf("\n", cursor - 1) + 1;
}

function lineEnd(text: string, cursor: number): number {
  const end = text.indexOf("\n", cursor);
  return end === -1 ? text.length : end;
}

/**
 * The draft with the cursor one line up (`-1`) or down (`1`) at the same
 * column or the line's end, or undefined when there is no line there.
 *
 * @example
 * ```ts
 * moveLine({ text: "ab\ncd", cursor: 4 }, -1); // { text: "ab\ncd", cursor: 1 }
 * ```
 */
export function moveLine(draft: Draft, step: -1 | 1): Draft | undefined {
  const { text, cursor } = draft;
  const start = lineStart(text, cursor);
  const column = cursor - start;
  if (step === -1) {
    if (start === 0) return undefined;
    const above = lineStart(text, start - 1);
    return { text, cursor: Math.min(above + column, start - 1) };
  }
  const end = lineEnd(text, cursor);
  if (end === text.length) return undefined;
  return { text, cursor: Math.min(end + 1 + column, lineEnd(text, end + 1)) };
}

/**
 * Puts `inserted` at the cursor.
 *
 * @example
 * ```ts
 * insert({ text: "hllo", cursor: 1 }, "e"); // { text: "hello", cursor: 2 }
 * ```
 */
export function insert(draft: Draft, inserted: string): Draft {
  const { text, cursor } = draft;
  return {
    text: text.slice(0, cursor) + inserted + text.slice(cursor),
    cursor: cursor + inserted.length,
  };
}

function cut(draft: Draft, from: number, to: number): Draft {
  return { text: draft.text.slice(0, from) + draft.text.slice(to), cursor: from };
}

/**
 * The draft after an editing key, or undefined when the key does not edit
 * (Enter, Tab, Up ... are the chat view's to handle).
 *
 * @example
 * ```ts
 * editDraft({ text: "hello", cursor: 5 }, "backspace"); // { text: "hell", cursor: 4 }
 * ```
 */
export function editDraft(draft: Draft, key: KeyName): Draft | undefined {
  const { text, cursor } = draft;
  switch (key) {
    case "newline":
      return insert(draft, "\n");
    case "backspace":
      return cut(draft, previousBoundary(text, cursor), cursor);
    case "delete":
    case "ctrl-d":
      return cut(draft, cursor, nextBoundary(text, cursor));
    case "left":
      return { text, cursor: previousBoundary(text, cursor) };
    case "right":
      return { text, cursor: nextBoundary(text, cursor) };
    case "home":
      return { text, cursor: lineStart(text, cursor) };
    case "end":
      return { text, cursor: lineEnd(text, cursor) };
    case "word-left":
      return { text, cursor: wordStart(text, cursor) };
    case "word-right":
      return { text, cursor: wordEnd(text, cursor) };
    case "ctrl-u":
      return cut(draft, lineStart(text, cursor), cursor);
    case "ctrl-k":
      return cut(draft, cursor, lineEnd(text, cursor));
    case "ctrl-w":
      return cut(draft, wordStart(text, cursor), cursor);
    default:
      return undefined;
  }
}
