import assert from "node:assert/strict";
import stringWidth from "string-width";
import { displayWidth, graphemes, loadWidths, needsWidths } from "../lib/width.ts";

Deno.test("displayWidth() counts ASCII and our symbols as string-width does, before it is loaded", () => {
  // This runs first in this file: string-width is not loaded yet, and these need it not.
  for (
    const text of [
      "",
      "hi there",
      "❯ Log in",
      "↑↓ move · Enter choose · Esc back",
      "a…",
      "╭─╮│╰╯⋯›",
    ]
  ) {
    assert.equal(needsWidths(text), false, text);
    assert.equal(displayWidth(text), stringWidth(text), text);
  }
  assert.throws(() => displayWidth("日本"), /before loadWidths/);
});

Deno.test("displayWidth() measures everything else by string-width once loaded", async () => {
  await loadWidths();
  for (const text of ["日本", "é", "👍🏽 ok", "\x1b[31mred\x1b[39m", "🇫🇷", "a\u0301"]) {
    assert.equal(needsWidths(text), true, text);
    assert.equal(displayWidth(text), stringWidth(text), text);
    assert.equal(displayWidth(text), stringWidth(text), `${text}, remembered`);
  }
});

Deno.test("graphemes() keeps a flag and an accented letter whole", () => {
  assert.deepEqual([...graphemes("🇫🇷a\u0301b")].map((s) => s.segment), ["🇫🇷", "a\u0301", "b"]);
});
