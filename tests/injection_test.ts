// Hostile text written straight into the file, shown in a real terminal: the
// screen must show it inert, with the layout, title, bell and clipboard untouched.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import stringWidth from "string-width";
import { tempDir } from "./_helpers.ts";
import { runChat } from "./_run.ts";
import { Screen } from "./_tmux.ts";

/** What an attacker with write access to the file could store, and how it must look. */
const CORPUS: [string, string][] = [
  ["clear: \x1b[2J\x1b[H", "clear: ␛[2J␛[H"],
  ["title: \x1b]0;pwned\x07", "title: ␛]0;pwned␇"],
  ["clip: \x1b]52;c;aGFja2Vk\x07", "clip: ␛]52;c;aGFja2Vk␇"],
  ["link: \x1b]8;;http://evil\x1b\\x\x1b]8;;\x1b\\", "link: ␛]8;;http://evil␛\\x␛]8;;␛\\"],
  ["dcs: \x1bP+q544e\x1b\\", "dcs: ␛P+q544e␛\\"],
  ["c1: \x9b2J \x9d0;t\x9c", "c1: \ufffd2J \ufffd0;t\ufffd"],
  ["bell: \x07\x07\x07", "bell: ␇␇␇"],
  ["over\rwrite\b\b\bX del\x7f", "over␍write␈␈␈X del␡"],
  ["bidi: \u202eevil\u202c \u2066iso\u2069", "bidi: \ufffdevil\ufffd \ufffdiso\ufffd"],
  ["╰──────╯ fake border │ admin · 12:00 │", "╰──────╯ fake border │ admin · 12:00 │"],
  ["zero\u200bwidth\u2060 \ufeffspaces", "zerowidth spaces"],
];
/** Bytes that are not UTF-8 at all (a lone surrogate's encoding, a stray byte) around an ESC. */
const BAD_UTF8 = "6261642d757466383a20eda080201b5b324a20ff";
const LONG_WORD = "w".repeat(10_000);

Deno.test("hostile messages, user names and room names show inert in a real terminal", async () => {
  using dir = tempDir();
  const db = `${dir.path}/chat.db`;
  const run = await runChat(["register", "--user", "viewer"], {
    env: { CHATROOM_DB: db, CHATROOM_PASSWORD: "viewer-password" },
  });
  assert.equal(run.code, 0, run.stderr);

  // Straight into the file, past every check the program makes on input.
  const raw = new DatabaseSync(db);
  const now = Date.now();
  raw.prepare(
    "INSERT INTO users (name, name_key, password_hash, created_at) VALUES (?, ?, 'x', ?)",
  ).run("\x1b[31mroot\x1b]0;owned\x07", "evil-user", now);
  const evilUser = Number(
    raw.prepare("SELECT id FROM users WHERE name_key = 'evil-user'").get()!.id,
  );
  raw.prepare("INSERT INTO rooms (name, name_key, created_by, created_at) VALUES (?, ?, ?, ?)")
    .run("general", "general", evilUser, now);
  raw.prepare("INSERT INTO rooms (name, name_key, created_by, created_at) VALUES (?, ?, ?, ?)")
    .run("\x1b[2Jroom\x07", "evil-room", evilUser, now);
  const insert = raw.prepare(
    "INSERT INTO messages (room_id, user_id, text, sent_at) VALUES (1, ?, ?, ?)",
  );
  for (const [text] of CORPUS) insert.run(evilUser, text, now);
  insert.run(evilUser, LONG_WORD, now);
  raw.prepare(
    "INSERT INTO messages (room_id, user_id, text, sent_at) VALUES (1, ?, CAST(unhex(?) AS TEXT), ?)",
  ).run(evilUser, BAD_UTF8, now);
  raw.close();

  await using screen = await Screen.start(["--user", "viewer"], {
    CHATROOM_DB: db,
    CHATROOM_PASSWORD: "viewer-password",
  });
  const title = await screen.format("pane_title");

  // The room menu lists the hostile room name inert.
  const menu = await screen.waitFor("Pick a room");
  assert.ok(menu.includes("␛[2Jroom␇"), menu);

  await screen.press("Enter"); // general is listed first (it has messages)
  await screen.waitFor("general ›");
  const history = await screen.text(true);
  for (const [, shown] of CORPUS) {
    assert.ok(history.includes(shown), `missing ${JSON.stringify(shown)} in:\n${history}`);
  }
  assert.ok(history.includes("␛[31mroot␛]0;owned␇ · "), "the user name is inert too");
  assert.match(history, /bad-utf8: \ufffd+ ␛\[2J \ufffd/, "bytes that are not UTF-8 show as �");
  for (const line of history.split("\n")) assert.ok(stringWidth(line) <= 100, line);

  // Every bubble is whole: as many tops as bottoms, each body row boxed on both sides.
  const rows = history.split("\n");
  const tops = rows.filter((r) => r.startsWith("╭─ ")).length;
  const bottoms = rows.filter((r) => /^╰─+╯$/.test(r)).length;
  assert.equal(tops, CORPUS.length + 2);
  assert.equal(bottoms, tops);
  assert.equal(rows.filter((r) => r.startsWith("│ ") && !r.endsWith(" │")).length, 0);

  // Nothing reached the terminal itself.
  assert.equal(await screen.format("pane_title"), title, "the title is unchanged");
  assert.equal(await screen.format("window_bell_flag"), "0", "no bell rang");
  assert.equal(await screen.buffers(), 0, "nothing was put on the clipboard");
  assert.equal(await screen.cursorLine(), "general ›", "the prompt is where it belongs");
});
