import assert from "node:assert/strict";
import { stripVTControlCharacters } from "node:util";
import stringWidth from "string-width";
import { formatTime, renderAction, renderBubble, renderNotice, truncate } from "../lib/render.ts";
import type { Message } from "../lib/model.ts";
import { colorTheme, plainTheme } from "../lib/theme.ts";
import { loadWidths } from "../lib/width.ts";

await loadWidths(); // what these draw is measured by string-width, loaded on demand

const NOW = Date.UTC(2026, 10, 25, 15, 0);

function message(userName: string, text: string, sentAt = Date.UTC(2026, 10, 25, 14, 2)): Message {
  return { id: 1, roomId: 1, userId: 1, userName, text, more: 0, sentAt, kind: "text" };
}

function bubble(m: Message, width: number, own = false): string {
  return renderBubble(m, { width, own, theme: plainTheme, now: NOW, timeZone: "UTC" });
}

/** Asserts that no line of `text` is wider than `width` columns. */
function assertFits(text: string, width: number): void {
  for (const line of text.split("\n")) {
    assert.ok(stringWidth(line) <= width, `${stringWidth(line)} > ${width}: ${line}`);
  }
}

Deno.test("renderBubble() draws author, time and text in a box", () => {
  assert.equal(
    bubble(message("alice", "hello there"), 60),
    [
      "╭─ alice · 14:02 ─╮",
      "│ hello there     │",
      "╰─────────────────╯",
    ].join("\n"),
  );
});

Deno.test("renderBubble() puts your own bubbles on the right edge", () => {
  const out = bubble(message("bob", "mine"), 40, true);
  assert.equal(
    out,
    [
      "                       ╭─ bob · 14:02 ─╮",
      "                       │ mine          │",
      "                       ╰───────────────╯",
    ].join("\n"),
  );
  assert.ok(out.split("\n").every((line) => stringWidth(line) === 40));
});

Deno.test("renderBubble() word-wraps to three quarters of the width", () => {
  const text = "the quick brown fox jumps over the lazy dog and keeps on running far away";
  assert.equal(
    bubble(message("alice", text), 40),
    [
      "╭─ alice · 14:02 ───────────╮",
      "│ the quick brown fox jumps │",
      "│ over the lazy dog and     │",
      "│ keeps on running far away │",
      "╰───────────────────────────╯",
    ].join("\n"),
  );
});

Deno.test("renderBubble() measures CJK and emoji in columns", () => {
  const out = bubble(message("李雷", "你好世界你好世界你好世界你好世界 👍🏽 ok"), 30);
  assert.equal(
    out,
    [
      "╭─ 李雷 · 14:02 ─────╮",
      "│ 你好世界你好世界你 │",
      "│ 好世界你好世界 👍🏽  │",
      "│ ok                 │",
      "╰────────────────────╯",
    ].join("\n"),
  );
  const lines = out.split("\n");
  assert.ok(lines.every((line) => stringWidth(line) === stringWidth(lines[0])));
});

Deno.test("renderBubble() breaks a word longer than a line", () => {
  const out = bubble(message("x", "y".repeat(50)), 24);
  assert.equal(
    out,
    [
      "╭─ x · 14:02 ────╮",
      "│ yyyyyyyyyyyyyy │",
      "│ yyyyyyyyyyyyyy │",
      "│ yyyyyyyyyyyyyy │",
      "│ yyyyyyyy       │",
      "╰────────────────╯",
    ].join("\n"),
  );
});

Deno.test("renderBubble() keeps the message's own line breaks", () => {
  assert.equal(
    bubble(message("a", "one\ntwo"), 40),
    ["╭─ a · 14:02 ─╮", "│ one         │", "│ two         │", "╰─────────────╯"].join("\n"),
  );
});

Deno.test("renderBubble() shows escape sequences and controls inert", async (t) => {
  const cases: [string, string][] = [
    ["\x1b[2J\x1b[H", "␛[2J␛[H"],
    ["\x1b]0;owned\x07", "␛]0;owned␇"],
    ["\x1b]52;c;aGk=\x07", "␛]52;c;aGk=␇"],
    ["bell\x07\x08\x08x", "bell␇␈␈x"],
    ["over\rwrite", "over␍write"],
    ["c1 \x9b31m", "c1 \ufffd31m"],
    ["\u202Egnp.exe", "\ufffdgnp.exe"],
    ["del\x7f", "del␡"],
  ];
  for (const [text, shown] of cases) {
    await t.step(JSON.stringify(text), () => {
      const out = bubble(message("eve", text), 60);
      assert.ok(out.includes(shown), out);
      // deno-lint-ignore no-control-regex -- looking for control characters is the point
      assert.ok(!/[\x00-\x09\x0b-\x1f\x7f-\x9f]/.test(out), JSON.stringify(out));
    });
  }
  await t.step("in the user name", () => {
    const out = bubble(message("\x1b[31mroot", "hi"), 60);
    assert.ok(out.startsWith("╭─ ␛[31mroot · 14:02"), out);
  });
});

Deno.test("renderBubble() never draws a line wider than the terminal", () => {
  const texts = [
    "a".repeat(10_000),
    "word ".repeat(500),
    "全角".repeat(300),
    "👨‍👩‍👧 ".repeat(100),
    "e\u0301\u0301\u0301\u0301\u0301\u0301 ".repeat(50),
  ];
  for (const width of [20, 33, 80, 100]) {
    for (const text of texts) {
      assertFits(bubble(message("someone", text), width), width);
      assertFits(bubble(message("someone", text), width, true), width);
    }
  }
});

Deno.test("renderBubble() with the colour theme paints but keeps the layout", () => {
  const colored = renderBubble(message("alice", "hi"), {
    width: 40,
    own: false,
    theme: colorTheme(),
    now: NOW,
    timeZone: "UTC",
  });
  assert.ok(colored.includes("\x1b["));
  assert.equal(stripVTControlCharacters(colored), bubble(message("alice", "hi"), 40));
  const again = renderBubble(message("alice", "other"), {
    width: 40,
    own: false,
    theme: colorTheme(),
    now: NOW,
    timeZone: "UTC",
  });
  const nameStyle = (s: string) => s.slice(s.indexOf("╭─ ") + 3, s.indexOf("alice"));
  assert.equal(nameStyle(again), nameStyle(colored), "a user keeps their colour");
});

Deno.test("formatTime() adds the date only when it is not today", () => {
  assert.equal(formatTime(Date.UTC(2026, 10, 25, 9, 5), NOW, "UTC"), "09:05");
  assert.equal(formatTime(Date.UTC(2026, 10, 24, 23, 59), NOW, "UTC"), "Nov 24 23:59");
  assert.equal(formatTime(Date.UTC(2025, 0, 2, 3, 4), NOW, "UTC"), "2025-01-02 03:04");
});

Deno.test("renderNotice() prefixes and wraps program lines", () => {
  assert.equal(renderNotice("You are in general", (s) => s, 80), "-- You are in general");
  assert.equal(renderNotice("Rooms:\n* a", (s) => `<${s}>`, 80), "<-- Rooms:>\n<   * a>");
});

Deno.test("truncate() cuts by columns and marks the cut", () => {
  assert.equal(truncate("abcdef", 10), "abcdef");
  assert.equal(truncate("abcdef", 4), "abc…");
  assert.equal(truncate("全角全角", 5), "全角…");
});

Deno.test("renderBubble() splits a grapheme wider than a narrow bubble", () => {
  // Found by the property test: a wide character with a spacing mark is 3 columns.
  assert.equal(
    bubble(message("", "⺀ᯪ"), 6),
    ["╭─  ─╮", "│ ⺀ │", "│ ᯪ  │", "╰────╯"].join("\n"),
  );
});

Deno.test("renderBubble() keeps a line's leading spaces, and indents its wrapped rows as far", () => {
  const bubble = renderBubble(
    {
      id: 1,
      roomId: 1,
      userId: 2,
      userName: "bob",
      text: "def f():\n    return 1 + 2 + 3",
      more: 0,
      sentAt: 0,
      kind: "text",
    },
    { width: 24, own: false, theme: plainTheme, now: 0 },
  );
  assert.deepEqual(bubble.split("\n").slice(1, -1), [
    "│ def f():       │",
    "│     return 1 + │",
    "│     2 + 3      │",
  ]);
});

Deno.test("renderAction() draws a /me or topic line on one line, whatever line breaks it holds", () => {
  const planted = (kind: "me" | "topic") => ({
    ...message("eve", "waves\n-- bob joined\n── new since you were last here ──"),
    kind,
  });
  const me = renderAction(planted("me"), plainTheme, 100);
  assert.equal(me, "* eve waves␊-- bob joined␊── new since you were last here ──");
  const topic = renderAction(planted("topic"), plainTheme, 100);
  assert.equal(
    topic,
    "-- eve set the topic: waves␊-- bob joined␊── new since you were last here ──",
  );
});

Deno.test("formatTime() is exact within a minute, in zones with odd offsets too", () => {
  const now = Date.UTC(2026, 10, 25, 15);
  // Kathmandu is 5:45 ahead: every message of one minute shares its parts.
  assert.equal(formatTime(Date.UTC(2026, 10, 25, 14, 2, 0), now, "Asia/Kathmandu"), "19:47");
  assert.equal(formatTime(Date.UTC(2026, 10, 25, 14, 2, 59), now, "Asia/Kathmandu"), "19:47");
  assert.equal(formatTime(Date.UTC(2026, 10, 25, 14, 3, 0), now, "Asia/Kathmandu"), "19:48");
  // Monrovia was 0:44:30 behind until 1972: one UTC minute held two of its minutes.
  assert.equal(
    formatTime(Date.UTC(1970, 0, 1, 0, 0, 10), now, "Africa/Monrovia"),
    "1969-12-31 23:15",
  );
  assert.equal(
    formatTime(Date.UTC(1970, 0, 1, 0, 0, 40), now, "Africa/Monrovia"),
    "1969-12-31 23:16",
  );
});

Deno.test("renderBubble() paints the reader's @mentions, and nothing that only looks like one", () => {
  const theme = colorTheme();
  const draw = (text: string) =>
    renderBubble(message("bob", text), {
      width: 80,
      own: false,
      theme,
      now: NOW,
      reader: "alice",
    });
  assert.ok(draw("ping @Alice. now").includes(theme.mention("@Alice") + ". now"));
  assert.ok(draw("@alice-").includes(theme.mention("@alice") + "-"));
  for (const text of ["mail x@alice now", "@alicex here", "@bob only"]) {
    assert.ok(!draw(text).includes(theme.mention("@alice")), text);
    assert.ok(!draw(text).includes(theme.mention("@Alice")), text);
  }
});
