import assert from "node:assert/strict";
import { inputView, MAX_INPUT_ROWS } from "../lib/chat_view.ts";
import { loadWidths } from "../lib/width.ts";

await loadWidths(); // what these draw is measured by string-width, loaded on demand

Deno.test("inputView() wraps the draft by columns and places the cursor", () => {
  assert.deepEqual(inputView("room › ", { text: "hi", cursor: 2 }, 80), {
    rows: ["room › hi"],
    cursorRow: 0,
    cursorColumn: 9,
  });
  const view = inputView("> ", { text: "abcdefgh", cursor: 8 }, 6);
  assert.deepEqual(view.rows, ["> abc", "defgh", ""]);
  assert.deepEqual([view.cursorRow, view.cursorColumn], [2, 0]);
  const lines = inputView("> ", { text: "one\n\x1b[2J", cursor: 3 }, 40);
  assert.deepEqual(lines.rows, ["> one", "␛[2J"], "a pasted escape is shown, not run");
  assert.deepEqual([lines.cursorRow, lines.cursorColumn], [0, 5]);
});

Deno.test("inputView() folds a tall draft around the cursor", () => {
  const text = Array.from({ length: 50 }, (_, i) => `row ${i}`).join("\n");
  const end = inputView("> ", { text, cursor: text.length }, 40);
  assert.equal(end.rows.length, MAX_INPUT_ROWS);
  assert.equal(end.rows[0], "> row 0");
  assert.equal(end.rows[1], "⋯ 43 more rows");
  assert.equal(end.rows.at(-1), "row 49");
  assert.equal(end.cursorRow, MAX_INPUT_ROWS - 1);
  const start = inputView("> ", { text, cursor: 0 }, 40);
  assert.equal(start.cursorRow, 0);
  assert.match(start.rows[1], /more rows \(\d+ below\)/);
});

Deno.test("inputView() places a cursor that points inside a grapheme at its start", () => {
  const text = "🇺🇸\u{1F1E9}🇫🇷"; // a lone regional indicator between two flags
  const view = inputView("> ", { text, cursor: 6 }, 40);
  assert.equal(view.cursorRow, 0);
  assert.ok(view.cursorColumn >= 4, `column ${view.cursorColumn}`);
});
