// What the chat view draws, as text: the items above the input line and the
// input area (prompt and draft, wrapped, folded when tall). Pure.
import { displayWidth, graphemes } from "./width.ts";
import type { Shown } from "./chat_model.ts";
import type { Draft } from "./draft.ts";
import { renderAction, renderBubble, renderDay, renderNotice } from "./render.ts";
import { inert } from "./sanitize.ts";
import type { Theme } from "./theme.ts";

/** Most rows the input area takes; a taller draft is shown folded. */
export const MAX_INPUT_ROWS = 8;

/** The input area: its rows and where the cursor is in them. */
export interface InputView {
  rows: string[];
  cursorRow: number;
  cursorColumn: number;
}

/**
 * Lays out the prompt and the draft in `width` columns. Rows never reach the
 * last column, so no terminal wraps them on its own; a draft taller than
 * {@linkcode MAX_INPUT_ROWS} shows the rows around the cursor, with a line
 * saying how many are folded away.
 *
 * @example
 * ```ts
 * inputView("general › ", { text: "hi", cursor: 2 }, 80);
 * // { rows: ["general › hi"], cursorRow: 0, cursorColumn: 12 }
 * ```
 */
export function inputView(prompt: string, draft: Draft, width: number): InputView {
  const columns = Math.max(2, width - 1);
  const rows: string[] = [];
  let row = "";
  let used = 0;
  let cursorRow = 0;
  let cursorColumn = 0;
  const place = (shown: string, shownWidth: number) => {
    if (used + shownWidth > columns && used > 0) {
      rows.push(row);
      row = "";
      used = 0;
    }
    row += shown;
    used += shownWidth;
  };
  for (const { segment } of graphemes(prompt)) place(segment, displayWidth(segment));
  let offset = 0;
  // The cursor is where its segment starts, even when it points inside one (a flag cut in two).
  const markCursor = (length = 0) => {
    if (draft.cursor < offset || draft.cursor > offset + Math.max(0, length - 1)) return;
    if (used >= columns) {
      rows.push(row);
      row = "";
      used = 0;
    }
    cursorRow = rows.length;
    cursorColumn = used;
  };
  for (const { segment } of graphemes(draft.text)) {
    markCursor(segment.length);
    if (segment === "\n") {
      rows.push(row);
      row = "";
      used = 0;
    } else {
      // What is typed or pasted is drawn inert too: a pasted escape is shown, never run.
      const shown = inert(segment);
      place(shown, displayWidth(shown));
    }
    offset += segment.length;
  }
  markCursor();
  rows.push(row);
  return fold({ rows, cursorRow, cursorColumn });
}

/** Keeps at most MAX_INPUT_ROWS rows, the cursor's among them. */
function fold(view: InputView): InputView {
  const { rows, cursorRow } = view;
  if (rows.length <= MAX_INPUT_ROWS) return view;
  // The first row (with the prompt), then the window that holds the cursor.
  const window = MAX_INPUT_ROWS - 2;
  const start = Math.min(Math.max(1, cursorRow - window + 1), rows.length - window);
  const hidden = start - 1;
  const below = rows.length - (start + window);
  const kept = [
    rows[0],
    `⋯ ${hidden + below} more rows${below ? ` (${below} below)` : ""}`,
    ...rows.slice(start, start + window),
  ];
  if (cursorRow === 0) return { ...view, rows: kept, cursorRow: 0 };
  return { ...view, rows: kept, cursorRow: cursorRow - start + 2 };
}

/** How to draw shown items. */
export interface ShownOptions {
  width: number;
  theme: Theme;
  now: number;
  /** The reader's account: their own bubbles sit on the right, mentions of them stand out. */
  userId: number;
  userName: string;
}

/**
 * Draws one item shown above the input line.
 *
 * @example
 * ```ts
 * renderShown({ kind: "notice", text: "hello" }, options); // "-- hello"
 * ```
 */
export function renderShown(item: Shown, options: ShownOptions): string {
  const { width, theme } = options;
  switch (item.kind) {
    case "message":
      if (item.message.kind !== "text") return renderAction(item.message, theme, width);
      return renderBubble(item.message, {
        width,
        own: item.message.userId === options.userId,
        theme,
        now: options.now,
        reader: options.userName,
      });
    case "notice":
      return renderNotice(item.text, theme.notice, width);
    case "quiet":
      return renderNotice(item.text, theme.dim, width);
    case "day":
      return renderDay(item.at, theme);
    case "error":
      // An error is one line: a line break in a name it quotes cannot forge another.
      return renderNotice(inert(item.text), theme.error, width);
  }
}
