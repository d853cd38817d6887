// The chat view's rules for presence, news, mentions, days, history and /me
// lines: `update` events in, state and effects out, no terminal.
import assert from "node:assert/strict";
import { promptFor } from "../lib/chat.ts";
import { type ChatEffect, type ChatEvent, initialState, type Shown } from "../lib/chat_model.ts";
import type { Message, Presence, Room, Unread } from "../lib/model.ts";
import { mentionedNames } from "../lib/model.ts";
import { run } from "./_helpers.ts";

const GENERAL: Room = { id: 1, name: "general", lastActivity: null, topic: null };
const OPS: Room = { id: 2, name: "ops", lastActivity: null, topic: null };
const DM: Room = {
  id: 3,
  name: "@bob",
  lastActivity: null,
  topic: null,
  members: [{ id: 1, name: "alice" }, { id: 2, name: "bob" }],
};
const ME = { id: 1, name: "alice" };
const NOON = new Date(2026, 11, 1, 12).getTime();
const DAY = 24 * 3600_000;

function message(id: number, fields: Partial<Message> = {}): Message {
  return {
    id,
    roomId: 1,
    userId: 2,
    userName: "bob",
    text: `m${id}`,
    more: 0,
    sentAt: NOON,
    kind: "text",
    ...fields,
  };
}

/** What the effects showed, as short strings: messages by text, lines by their text. */
function shown(effects: ChatEffect[]): string[] {
  return effects.flatMap((e) => e.kind === "show" ? e.items : []).map((item: Shown) =>
    item.kind === "message"
      ? item.message.text
      : item.kind === "day"
      ? `day ${new Date(item.at).getDate()}`
      : `${item.kind}: ${item.text}`
  );
}

const joined = (history: Message[], lastRead = 0, room = GENERAL): ChatEvent => ({
  kind: "joined",
  room,
  history,
  lastRead,
  now: NOON,
});

const here = (...who: [string, number | null][]): Presence[] =>
  who.map(([userName, roomId], i) => ({ userId: i + 1, userName, roomId, roomName: null }));

Deno.test("update(): presence — the first report says who is here, later ones who came and went", () => {
  const start = initialState(GENERAL, ME, []);
  let [state, effects] = run(start, joined([]), {
    kind: "presence",
    present: here(["alice", 1], ["bob", 1], ["carol", 2]),
  });
  assert.deepEqual(shown(effects).slice(1), ["quiet: Here now: bob"]);
  [state, effects] = run(state, {
    kind: "presence",
    present: here(["alice", 1], ["carol", 1], ["dave", null]),
  });
  assert.deepEqual(shown(effects), ["quiet: carol joined", "quiet: bob left"]);
  // Entering another room: who is there is known at once, and said with the room.
  [state, effects] = run(state, joined([], 0, OPS));
  assert.deepEqual(shown(effects).slice(1), []);
  [, effects] = run(state, { kind: "presence", present: here(["alice", 2], ["carol", 2]) });
  assert.deepEqual(shown(effects), ["quiet: carol joined"]);
});

Deno.test("update(): days — a line before the first message not of today, and where the day changes", () => {
  const [state, effects] = run(
    initialState(GENERAL, ME, []),
    joined([message(1, { sentAt: NOON - DAY }), message(2, { sentAt: NOON - DAY + 60_000 })]),
    { kind: "messages", roomId: 1, messages: [message(3)] },
  );
  assert.deepEqual(shown(effects).slice(1), ["day 30", "m1", "m2", "day 1", "m3"]);
  const [, today] = run(initialState(GENERAL, ME, []), joined([message(1)]));
  assert.deepEqual(shown(today).slice(1), ["m1"], "today's messages need no line");
  assert.ok(state.lastDay);
});

Deno.test("update(): the unread line goes before the first message past the marker; reading moves it", () => {
  const [, effects] = run(
    initialState(GENERAL, ME, []),
    joined([message(4), message(5), message(6)], 4),
  );
  assert.deepEqual(shown(effects).slice(1), [
    "m4",
    "quiet: ── new since you were last here ──",
    "m5",
    "m6",
  ]);
  assert.deepEqual(effects.filter((e) => e.kind === "read"), [
    { kind: "read", roomId: 1, messageId: 6 },
  ]);
  const [, never] = run(initialState(GENERAL, ME, []), joined([message(4)], 0));
  assert.deepEqual(shown(never).slice(1), ["m4"], "a room never visited has no such line");
  const [, own] = run(
    initialState(GENERAL, ME, []),
    joined([message(4), message(5, { userId: ME.id, userName: "alice" }), message(6)], 4),
  );
  assert.deepEqual(shown(own).slice(1), [
    "m4",
    "m5",
    "quiet: ── new since you were last here ──",
    "m6",
  ], "your own messages (sent from another terminal) are not news");
});

Deno.test("update(): a mention rings the bell — live in this room, or newly in another; once", () => {
  const start = run(initialState(GENERAL, ME, []), joined([message(1, { text: "@alice old" })]));
  assert.ok(!start[1].some((e) => e.kind === "ring"), "history does not ring");
  let [state, effects] = run(start[0], {
    kind: "messages",
    roomId: 1,
    messages: [message(2, { text: "hey @ALICE." })],
  });
  assert.equal(effects.filter((e) => e.kind === "ring").length, 1);
  [, effects] = run(state, {
    kind: "messages",
    roomId: 1,
    messages: [message(3, { text: "me@alice.example is an address", userId: 2 })],
  });
  assert.equal(effects.filter((e) => e.kind === "ring").length, 0, "an address is no mention");

  const news = (mentions: number): ChatEvent => ({
    kind: "unread",
    unread: [{ room: OPS, unread: 3, mentions }],
  });
  [state, effects] = run(state, news(1));
  assert.equal(effects.length, 0, "the first report is what was there: no bell");
  [state, effects] = run(state, news(2));
  assert.deepEqual(effects, [{ kind: "ring" }]);
  [state, effects] = run(state, news(2));
  assert.deepEqual(effects, []);
  [state] = run(state, { kind: "bell", on: false });
  [, effects] = run(state, news(3));
  assert.deepEqual(effects, [], "/bell off");
});

Deno.test("promptFor(): the other rooms with news, mentions first, then conversations", () => {
  const unread: Unread[] = [
    { room: GENERAL, unread: 9, mentions: 0 }, // the room you are in is not news
    { room: { ...OPS, id: 4, name: "dev" }, unread: 3, mentions: 0 },
    { room: OPS, unread: 1, mentions: 1 },
    { room: DM, unread: 2, mentions: 0 },
    { room: { ...OPS, id: 5, name: "big" }, unread: 999, mentions: 0 },
  ];
  const [state] = run(initialState(GENERAL, ME, []), { kind: "unread", unread });
  assert.equal(promptFor(state), "general [ops 1@, @bob 2, big 999+, dev 3] › ");
  assert.equal(promptFor(initialState(GENERAL, ME, [])), "general › ");
});

Deno.test("update(): /me, /topic and /msg lines wait behind those held by the rate limit", () => {
  let [state, effects] = run(
    initialState(GENERAL, ME, []),
    { kind: "say", roomId: 1, text: "waves", as: "me" },
  );
  assert.deepEqual(effects, [{ kind: "send", roomId: 1, text: "waves", as: "me" }]);
  [state] = run(state, { kind: "limited", roomId: 1, text: "waves", as: "me", waitMs: 100 });
  [state, effects] = run(state, { kind: "say", roomId: 3, text: "psst", as: "text" });
  assert.deepEqual(effects, []);
  [, effects] = run(state, { kind: "flush" });
  assert.deepEqual(effects, [{ kind: "send", roomId: 1, text: "waves", as: "me" }]);
  // A /msg carries the line typed: refused, that comes back, not the private text alone.
  [, effects] = run(initialState(GENERAL, ME, []), {
    kind: "say",
    roomId: 3,
    text: "secret",
    as: "text",
    line: "/msg bob secret",
  });
  assert.deepEqual(effects, [{
    kind: "send",
    roomId: 3,
    text: "secret",
    as: "text",
    line: "/msg bob secret",
  }]);
});

Deno.test("update(): a topic line shown in this room becomes its topic", () => {
  const [state] = run(
    initialState(GENERAL, ME, []),
    joined([]),
    { kind: "messages", roomId: 1, messages: [message(1, { kind: "topic", text: "Friday" })] },
  );
  assert.equal(state.room.topic, "Friday");
});

Deno.test("update(): /history pages back from the oldest shown, and says where the room starts", () => {
  let [state, effects] = run(initialState(GENERAL, ME, []), joined([message(40), message(41)]), {
    kind: "page",
    limit: 20,
  });
  assert.deepEqual(effects.at(-1), { kind: "history", roomId: 1, beforeId: 40, limit: 20 });
  [state, effects] = run(state, {
    kind: "earlier",
    roomId: 1,
    messages: [message(38), message(39)],
  });
  assert.deepEqual(shown(effects), [
    "quiet: ── 2 earlier messages ──",
    "day 1", // a page says which day it starts on
    "m38",
    "m39",
    "quiet: ── end of the earlier messages; /history shows more ──",
  ]);
  assert.equal(state.oldestShown, 38);
  [, effects] = run(state, { kind: "earlier", roomId: 1, messages: [] });
  assert.deepEqual(shown(effects), ["quiet: ── nothing earlier: this is where the room starts ──"]);
  [, effects] = run(initialState(GENERAL, ME, []), joined([]), { kind: "page", limit: 20 });
  assert.deepEqual(
    shown(effects).at(-1),
    "quiet: ── nothing earlier: this room has no messages ──",
  );
});

Deno.test("mentionedNames(): @names as the name rules allow them, each once, at most 20", () => {
  assert.deepEqual(mentionedNames("hi @Bob, @carol! @bob again; mail x@dave.org"), [
    "Bob",
    "carol",
    "bob",
  ]);
  assert.deepEqual(mentionedNames("@émile. @日本"), ["émile", "日本"]);
  assert.equal(mentionedNames(Array.from({ length: 30 }, (_, i) => `@u${i}`).join(" ")).length, 20);
});

Deno.test("update(): a crowd arriving at once (planted in the file) is one line, not a thousand", () => {
  const crowd = Array.from({ length: 1200 }, (_, i): Presence => ({
    userId: 100 + i,
    userName: `u${i}`,
    roomId: 1,
    roomName: "general",
  }));
  const [state] = run(initialState(GENERAL, ME, []), joined([]), { kind: "presence", present: [] });
  const [, effects] = run(state, { kind: "presence", present: crowd });
  assert.deepEqual(shown(effects), ["quiet: u0, u1, u10, u100, u1000 and 1195 others joined"]);
  const [, first] = run(initialState(GENERAL, ME, []), joined([]), {
    kind: "presence",
    present: crowd,
  });
  assert.match(shown(first).at(-1)!, /^quiet: Here now: (u\d+, ){19}u\d+ and 1180 others$/);
});
