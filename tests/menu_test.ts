// The menus and questions as pure models: keys in, state and answers out.
import assert from "node:assert/strict";
import {
  MENU_HINT,
  menuKey,
  menuState,
  menuView,
  questionKey,
  questionState,
  questionView,
} from "../lib/menu.ts";
import type { KeyEvent, KeyName } from "../lib/keys.ts";

const key = (name: KeyName): KeyEvent => ({ kind: "key", name });
const menu = menuState("Pick", [
  { label: "one", value: 1 },
  { label: "two", value: 2 },
  { label: "three", value: 3 },
]);

Deno.test("menuKey() moves round the ends and chooses on Enter", () => {
  const [up] = menuKey(menu, key("up"));
  assert.equal(up.index, 2, "Up from the first goes to the last");
  const [down] = menuKey(up, key("down"));
  assert.equal(down.index, 0);
  assert.deepEqual(menuKey(up, key("enter"))[1], { kind: "chosen", value: 3 });
  assert.equal(menuKey(menu, key("end"))[0].index, 2);
});

Deno.test("menuKey() goes back on Esc, Ctrl-C and q; no text or paste ever chooses", () => {
  for (const back of [key("escape"), key("ctrl-c"), { kind: "text", text: "q" } as KeyEvent]) {
    assert.deepEqual(menuKey(menu, back)[1], { kind: "back" });
  }
  for (
    const typed of [
      { kind: "text", text: "general" },
      { kind: "paste", text: "line\n" },
      { kind: "text", text: "1" },
    ] as KeyEvent[]
  ) {
    const [state, answer] = menuKey(menu, typed);
    assert.equal(answer, undefined);
    assert.equal(state.index, 0);
  }
});

Deno.test("menuState() keeps the highlight on the same value when the choices change", () => {
  const fresher = menuState("Pick", [
    { label: "zero", value: 0 },
    { label: "one", value: 1 },
    { label: "two", value: 2 },
  ], (value) => value === 2);
  assert.equal(fresher.index, 2);
  assert.equal(menuState("Pick", fresher.choices, (value) => value === 9).index, 0, "gone: first");
});

Deno.test("menuView() shows a window around the highlight that fits the terminal", () => {
  const long = menuState(
    "Rooms",
    Array.from({ length: 40 }, (_, i) => ({ label: `room ${i} ${"x".repeat(100)}`, value: i })),
    (value) => value === 30,
  );
  const view = menuView(long, 40, 12);
  assert.equal(view.rows.length, 11, "title, nine choices and the hint in 12 rows");
  assert.equal(view.rows[0], "? Rooms");
  assert.ok(view.rows[view.cursorRow].startsWith("❯ room 30 "), "the cursor is on the highlight");
  assert.ok(view.rows.at(-1)!.startsWith("31 more · ↑↓ move"), "how many are out of view, first");
  assert.equal(menuView(menu, 80, 24).rows.at(-1), MENU_HINT);
  for (const row of view.rows) assert.ok([...row].length <= 39, `never the last column: ${row}`);
  assert.ok(view.rows[1].endsWith("…"));
});

Deno.test("questionKey() edits one line; Enter answers, Esc and Ctrl-C go back", () => {
  let question = questionState("User name:");
  [question] = questionKey(question, { kind: "text", text: "alicx" });
  [question] = questionKey(question, key("backspace"));
  [question] = questionKey(question, { kind: "paste", text: "e\nsmith" });
  assert.equal(question.draft.text, "alice smith", "a pasted line break is a space");
  assert.deepEqual(questionKey(question, key("enter"))[1], {
    kind: "chosen",
    value: "alice smith",
  });
  assert.deepEqual(questionKey(question, key("escape"))[1], { kind: "back" });
  assert.deepEqual(questionKey(question, key("ctrl-c"))[1], { kind: "back" });
  assert.equal(questionKey(question, key("ctrl-d"))[1], undefined, "Ctrl-D deletes on a line");
  assert.deepEqual(questionKey(questionState("x"), key("ctrl-d"))[1], { kind: "back" });
});

Deno.test("questionView() shows nothing of a secret", () => {
  let secret = questionState("Password for alice:", { secret: true });
  [secret] = questionKey(secret, { kind: "text", text: "hunter22" });
  assert.deepEqual(questionView(secret, 80).rows, ["? Password for alice: "]);
  let open = questionState("User name:");
  [open] = questionKey(open, { kind: "text", text: "alice" });
  assert.deepEqual(questionView(open, 80).rows, ["? User name: alice"]);
});
