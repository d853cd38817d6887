// Property tests: whatever bytes someone writes into the file, the bubble
// holds no control sequence but our own colours and fits the terminal.
import assert from "node:assert/strict";
import fc from "fast-check";
import stringWidth from "string-width";
import { renderBubble, renderNotice } from "../lib/render.ts";
import type { Message } from "../lib/model.ts";
import { colorTheme, plainTheme } from "../lib/theme.ts";
import { loadWidths } from "../lib/width.ts";

await loadWidths(); // what these draw is measured by string-width, loaded on demand

// deno-lint-ignore no-control-regex -- finding control characters is the point
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u061c\u200e\u200f]/u;
// deno-lint-ignore no-control-regex -- our own styling: SGR sequences only
const SGR = /\x1b\[[0-9;]*m/g;

/** Strings rich in what terminals react to: controls, escapes, bidi, marks, wide, surrogates. */
const hostile = fc.array(
  fc.oneof(
    fc.string({ unit: "binary" }),
    fc.constantFrom(
      "\x1b[2J",
      "\x1b]0;title\x07",
      "\x1b]52;c;aGk=\x1b\\",
      "\x1bP+q\x1b\\",
      "\x9b31m",
      "\r",
      "\b",
      "\x07",
      "\u202e",
      "\u2066",
      "e\u0301\u0301\u0301\u0301\u0301\u0301",
      "全角",
      "👨‍👩‍👧",
      "\ud800",
      "\n",
      "\t",
      "╭─ admin · 12:00 ─╮",
    ),
  ),
).map((parts) => parts.join(""));

function message(userName: string, text: string): Message {
  return {
    id: 1,
    roomId: 1,
    userId: 1,
    userName,
    text,
    more: 0,
    sentAt: Date.UTC(2026, 10, 25, 12),
    kind: "text",
  };
}

Deno.test("renderBubble() output holds no control characters and fits, for any text", () => {
  fc.assert(
    fc.property(hostile, hostile, fc.integer({ min: 6, max: 160 }), fc.boolean(), (
      name,
      text,
      width,
      own,
    ) => {
      const out = renderBubble(message(name, text), {
        width,
        own,
        theme: plainTheme,
        now: Date.now(),
        timeZone: "UTC",
      });
      assert.ok(!CONTROL.test(out.replaceAll("\n", "")), JSON.stringify(out));
      for (const line of out.split("\n")) {
        assert.ok(stringWidth(line) <= width, `${stringWidth(line)} > ${width}: ${line}`);
      }
    }),
    { numRuns: 400 },
  );
});

Deno.test("renderBubble() with colours adds SGR sequences and nothing else", () => {
  const theme = colorTheme();
  fc.assert(
    fc.property(hostile, hostile, fc.integer({ min: 6, max: 160 }), (name, text, width) => {
      const options = { width, own: false, now: Date.now(), timeZone: "UTC" };
      const colored = renderBubble(message(name, text), { ...options, theme });
      const stripped = colored.replace(SGR, "");
      assert.ok(!stripped.includes("\x1b"), JSON.stringify(colored));
      assert.equal(stripped, renderBubble(message(name, text), { ...options, theme: plainTheme }));
    }),
    { numRuns: 200 },
  );
});

Deno.test("renderNotice() output holds no control characters and fits, for any text", () => {
  fc.assert(
    fc.property(hostile, fc.integer({ min: 6, max: 160 }), (text, width) => {
      const out = renderNotice(text, (s) => s, width);
      assert.ok(!CONTROL.test(out.replaceAll("\n", "")), JSON.stringify(out));
      for (const line of out.split("\n")) assert.ok(stringWidth(line) <= width);
    }),
    { numRuns: 300 },
  );
});
