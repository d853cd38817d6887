// The chat view's update(), event by event, without a terminal.
import assert from "node:assert/strict";
import {
  type ChatEffect,
  type ChatEvent,
  initialState,
  QUIT_WINDOW_MS,
} from "../lib/chat_model.ts";
import { editDraft } from "../lib/draft.ts";
import { type KeyEvent, KeyReader } from "../lib/keys.ts";
import type { Message, Room } from "../lib/model.ts";
import { run } from "./_helpers.ts";

const GENERAL: Room = { id: 1, name: "general", lastActivity: null, topic: null };
const LOBBY: Room = { id: 2, name: "lobby", lastActivity: null, topic: null };
const ME = { id: 1, name: "alice" };

function message(id: number, roomId: number, text = `m${id}`): Message {
  return { id, roomId, userId: 2, userName: "bob", text, more: 0, sentAt: 0, kind: "text" };
}

const key = (key: KeyEvent, now = 0): ChatEvent => ({ kind: "key", key, now });
const press = (name: Extract<KeyEvent, { kind: "key" }>["name"], now = 0) =>
  key({ kind: "key", name }, now);
const typed = (text: string) => key({ kind: "text", text });

Deno.test("KeyReader reads typing, keys and a bracketed paste split across chunks", () => {
  const keys = new KeyReader();
  assert.deepEqual(keys.feed("hi\x1b[D\r"), [
    { kind: "text", text: "hi" },
    { kind: "key", name: "left" },
    { kind: "key", name: "enter" },
  ]);
  assert.deepEqual(keys.feed("\x1b[200~line one\r\nq\n/qu"), []);
  assert.deepEqual(keys.feed("it\x1b[20"), []);
  assert.deepEqual(keys.feed("1~X"), [
    { kind: "paste", text: "line one\nq\n/quit" },
    { kind: "text", text: "X" },
  ]);
  assert.deepEqual(keys.feed("\x1b"), [{ kind: "key", name: "escape" }]);
  assert.deepEqual(keys.feed("\x1b\r\n\t\x03"), [
    { kind: "key", name: "newline" },
    { kind: "key", name: "newline" },
    { kind: "key", name: "tab" },
    { kind: "key", name: "ctrl-c" },
  ]);
});

Deno.test("update() keeps a pasted block with q and /quit lines as one draft until Enter", () => {
  const [state, effects] = run(
    initialState(GENERAL, ME, []),
    key({ kind: "paste", text: "line one\nq\n/quit" }),
    typed("!"),
  );
  assert.deepEqual(effects, [], "nothing is run or sent");
  assert.deepEqual(state.draft, { text: "line one\nq\n/quit!", cursor: 17 });
  const [after, sent] = run(state, press("enter"));
  assert.deepEqual(sent, [{ kind: "send", roomId: 1, text: "line one\nq\n/quit!", as: "text" }]);
  assert.equal(after.draft.text, "");
});

Deno.test("update() keeps typed-ahead keys in order", () => {
  const keys = new KeyReader();
  const events = keys.feed("first message\rsecond").map((k) => key(k));
  const [state, effects] = run(initialState(GENERAL, ME, []), ...events);
  assert.deepEqual(effects, [{ kind: "send", roomId: 1, text: "first message", as: "text" }]);
  assert.equal(state.draft.text, "second");
});

Deno.test("update(): Ctrl-C clears a draft; on an empty one, twice within 2 s quits", () => {
  let [state, effects] = run(initialState(GENERAL, ME, []), typed("draft"), press("ctrl-c", 1000));
  assert.equal(state.draft.text, "");
  assert.deepEqual(effects, []);
  [state, effects] = run(state, press("ctrl-c", 2000));
  assert.equal(effects[0].kind, "show", "says to press it again");
  [state, effects] = run(state, press("ctrl-c", 2000 + QUIT_WINDOW_MS + 1));
  assert.ok(!effects.some((e) => e.kind === "quit"), "too late: armed again instead");
  [, effects] = run(state, press("ctrl-c", 2000 + QUIT_WINDOW_MS + 2));
  assert.deepEqual(effects, [{ kind: "quit" }]);
});

Deno.test("update(): Ctrl-D quits on an empty draft and deletes under the cursor otherwise", () => {
  const [state, effects] = run(
    initialState(GENERAL, ME, []),
    typed("ab"),
    press("home"),
    press("ctrl-d"),
  );
  assert.deepEqual(effects, []);
  assert.deepEqual(state.draft, { text: "b", cursor: 0 });
  assert.deepEqual(run(initialState(GENERAL, ME, []), press("ctrl-d"))[1], [{ kind: "quit" }]);
});

Deno.test("update() puts a refused text back and says why", () => {
  const [state, effects] = run(
    initialState(GENERAL, ME, []),
    typed("too fast"),
    press("enter"),
    { kind: "refused", text: "too fast", reason: "You are sending too fast" },
  );
  assert.deepEqual(state.draft, { text: "too fast", cursor: 8 });
  assert.deepEqual(effects.at(-1), {
    kind: "show",
    items: [{ kind: "error", text: "You are sending too fast" }],
  });
});

Deno.test("update() shows each message once and drops a late batch from the room left", () => {
  let [state, effects] = run(
    initialState(GENERAL, ME, []),
    { kind: "joined", room: GENERAL, history: [message(1, 1), message(2, 1)], lastRead: 0, now: 0 },
    { kind: "messages", roomId: 1, messages: [message(2, 1), message(3, 1)] },
  );
  const shownIds = (list: ChatEffect[]) =>
    list.flatMap((e) => e.kind === "show" ? e.items : [])
      .flatMap((item) => item.kind === "message" ? [item.message.id] : []);
  assert.deepEqual(shownIds(effects), [1, 2, 3]);
  assert.deepEqual(effects.find((e) => e.kind === "follow"), {
    kind: "follow",
    roomId: 1,
    afterId: 2,
  });
  [state, effects] = run(
    state,
    { kind: "joined", room: LOBBY, history: [message(4, 2)], lastRead: 0, now: 0 },
    { kind: "messages", roomId: 1, messages: [message(5, 1)] },
  );
  assert.deepEqual(shownIds(effects), [4], "the late batch from general is dropped");
  assert.equal(state.room.id, 2);
});

Deno.test("update(): Up and Down recall the account's lines and bring the draft back", () => {
  const [state] = run(initialState(GENERAL, ME, ["one", "two"]), typed("new"), press("up"));
  assert.equal(state.draft.text, "two");
  const [older] = run(state, press("up"), press("up"));
  assert.equal(older.draft.text, "one");
  const [back] = run(older, press("down"), press("down"));
  assert.equal(back.draft.text, "new");
});

Deno.test("update(): a multi-line line in the history is passed through, and the draft comes back", () => {
  // Up and Down once stuck on a recalled line of several lines, and the draft was lost.
  const [recalled] = run(
    initialState(GENERAL, ME, ["one", "two\nlines"]),
    typed("precious"),
    press("up"),
  );
  assert.equal(recalled.draft.text, "two\nlines");
  const [older] = run(recalled, press("up"));
  assert.equal(older.draft.text, "one");
  const [back] = run(older, press("down"), press("down"));
  assert.equal(back.draft.text, "precious");
});

Deno.test("update(): in a draft of several lines, Up and Down move between them first", () => {
  const draft = { text: "first\nsecond line", cursor: "first\nsec".length };
  const [up] = run({ ...initialState(GENERAL, ME, ["old"]), draft }, press("up"));
  assert.deepEqual(up.draft, { text: draft.text, cursor: 3 }, "same column, line above");
  const [history] = run(up, press("up"));
  assert.equal(history.draft.text, "old", "past the first line: the history");
  const [down] = run(
    { ...initialState(GENERAL, ME, []), draft: { text: "abcdef\nxy", cursor: 5 } },
    press("down"),
  );
  assert.equal(down.draft.cursor, "abcdef\nxy".length, "the end of a shorter line");
});

Deno.test("editDraft() moves and deletes by grapheme, word and line", () => {
  const family = "👨‍👩‍👧";
  assert.deepEqual(editDraft({ text: `a${family}`, cursor: 1 + family.length }, "backspace"), {
    text: "a",
    cursor: 1,
  });
  assert.deepEqual(editDraft({ text: "one two three", cursor: 13 }, "ctrl-w"), {
    text: "one two ",
    cursor: 8,
  });
  assert.deepEqual(editDraft({ text: "a\nbc", cursor: 4 }, "ctrl-u"), { text: "a\n", cursor: 2 });
  assert.deepEqual(editDraft({ text: "ab", cursor: 1 }, "newline"), { text: "a\nb", cursor: 2 });
});

Deno.test("update(): Tab completes commands, and names found by the runner, cycling", () => {
  let [state] = run(initialState(GENERAL, ME, []), typed("/jo"), press("tab"));
  assert.deepEqual(state.draft, { text: "/join ", cursor: 6 });
  let effects;
  [state, effects] = run(initialState(GENERAL, ME, []), typed("ali"), press("tab"));
  assert.deepEqual(effects, [{
    kind: "complete",
    completion: { what: "user", prefix: "ali", start: 0, suffix: ": " },
  }]);
  const completion = (effects[0] as Extract<ChatEffect, { kind: "complete" }>).completion;
  [state] = run(state, { kind: "completions", completion, names: ["alice", "alicia"] });
  assert.equal(state.draft.text, "alice: ");
  [state] = run(state, press("tab"));
  assert.equal(state.draft.text, "alicia: ");
  [state] = run(state, press("tab"), typed("hi"));
  assert.equal(state.draft.text, "alice: hi");
  [, effects] = run(initialState(GENERAL, ME, []), typed("/join gen"), press("tab"));
  assert.deepEqual(effects, [{
    kind: "complete",
    completion: { what: "room", prefix: "gen", start: 6, suffix: "" },
  }]);
  [, effects] = run(initialState(GENERAL, ME, []), typed("hello @bo"), press("tab"));
  assert.deepEqual(effects, [{
    kind: "complete",
    completion: { what: "user", prefix: "bo", start: 7, suffix: " " },
  }]);
  [state, effects] = run(initialState(GENERAL, ME, []), typed("two words"), press("tab"));
  assert.deepEqual([state.draft.text, effects], ["two words", []], "Tab never inserts a tab");
  // The commands of issue 11 come from the same table; /msg and /dm complete a user name.
  [state] = run(initialState(GENERAL, ME, []), typed("/se"), press("tab"));
  assert.equal(state.draft.text, "/search ");
  for (const command of ["/msg", "/dm"]) {
    [, effects] = run(initialState(GENERAL, ME, []), typed(`${command} bo`), press("tab"));
    assert.deepEqual(effects, [{
      kind: "complete",
      completion: { what: "user", prefix: "bo", start: command.length + 1, suffix: " " },
    }]);
  }
});

Deno.test("update(): over the rate limit, lines wait their turn in order, none merged", () => {
  let [state, effects] = run(initialState(GENERAL, ME, []), typed("fast 21"), press("enter"));
  assert.deepEqual(effects, [{ kind: "send", roomId: 1, text: "fast 21", as: "text" }]);
  [state, effects] = run(state, {
    kind: "limited",
    roomId: 1,
    text: "fast 21",
    as: "text",
    waitMs: 200,
  });
  assert.equal(effects.filter((e) => e.kind === "show").length, 1, "said once");
  assert.deepEqual(effects.at(-1), { kind: "wake", afterMs: 200 });
  [state, effects] = run(state, typed("fast 22"), press("enter"), typed("fast 23"), press("enter"));
  assert.deepEqual(effects, [], "they wait behind the first");
  assert.equal(state.draft.text, "", "nothing is put back into the input line");
  const sent: string[] = [];
  [state, effects] = run(state, { kind: "flush" });
  for (let i = 0; i < 5 && effects.length; i++) {
    const send = effects.find((e) => e.kind === "send");
    if (!send || send.kind !== "send") break;
    sent.push(send.text);
    [state, effects] = run(state, { kind: "sent" });
  }
  assert.deepEqual(sent, ["fast 21", "fast 22", "fast 23"]);
  assert.deepEqual(state.outbox, []);
});

Deno.test("update(): blank lines at the end of a pasted block are not sent", () => {
  const [, effects] = run(
    initialState(GENERAL, ME, []),
    key({ kind: "paste", text: "one\ntwo\n\n  \n" }),
    press("enter"),
  );
  assert.deepEqual(effects, [{ kind: "send", roomId: 1, text: "one\ntwo", as: "text" }]);
});

Deno.test("update(): a refused message in the outbox lets the ones behind it go", () => {
  let [state] = run(
    initialState(GENERAL, ME, []),
    typed("a"),
    press("enter"),
    {
      kind: "limited",
      as: "text",
      roomId: 1,
      text: "a",
      waitMs: 200,
    },
    typed("b"),
    press("enter"),
  );
  let effects;
  [state, effects] = run(state, { kind: "flush" });
  assert.deepEqual(effects, [{ kind: "send", roomId: 1, text: "a", as: "text" }]);
  [state, effects] = run(state, { kind: "refused", text: "a", reason: "no" });
  assert.deepEqual(effects.at(-1), { kind: "send", roomId: 1, text: "b", as: "text" });
  assert.deepEqual(state.outbox, []);
});

Deno.test("update(): a pasted command line with a line break is text, not a command", () => {
  const [, effects] = run(
    initialState(GENERAL, ME, []),
    key({ kind: "paste", text: "/quit\n" }),
    press("enter"),
  );
  assert.deepEqual(effects, [{ kind: "send", roomId: 1, text: "/quit", as: "text" }]);
});

Deno.test("KeyReader and editDraft edge cases: Esc before a sequence, Ctrl-U at the start", () => {
  assert.deepEqual(new KeyReader().feed("\x1b\x1b[D"), [
    { kind: "key", name: "escape" },
    { kind: "key", name: "left" },
  ]);
  assert.deepEqual(editDraft({ text: "\nabc", cursor: 0 }, "ctrl-u"), { text: "\nabc", cursor: 0 });
  assert.deepEqual(editDraft({ text: "\nabc", cursor: 0 }, "home"), { text: "\nabc", cursor: 0 });
});

Deno.test("KeyReader drops the line breaks a paste ends with, and keeps those inside it", () => {
  assert.deepEqual(new KeyReader().feed("\x1b[200~q\r\n\x1b[201~"), [{ kind: "paste", text: "q" }]);
  assert.deepEqual(new KeyReader().feed("\x1b[200~a\n\nb\n\n\x1b[201~"), [
    { kind: "paste", text: "a\n\nb" },
  ]);
});
