// Bounded work whatever the file holds: a message or a list of rooms planted
// by another member is shown in part, paged, or streamed, never held whole.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { runCommand } from "../lib/commands.ts";
import { EXPORT_TEXT_LIMIT } from "../lib/scripts.ts";
import { renderBubble } from "../lib/render.ts";
import { ROOM_LIST_LIMIT, SHOWN_TEXT_LIMIT } from "../lib/model.ts";
import { plainTheme } from "../lib/theme.ts";
import { quickUser, tempDir, tempStore } from "./_helpers.ts";
import { runChat, Running } from "./_run.ts";
import { loadWidths } from "../lib/width.ts";

await loadWidths(); // what these draw is measured by string-width, loaded on demand

Deno.test("a planted huge message is shown in part, with how much more, and exported whole", async () => {
  using dir = tempDir();
  const store = tempStore(dir.path);
  const alice = await quickUser(store, "alice");
  const room = store.createRoom("general", alice.id);
  store.addMessage(room.id, alice.id, "before");
  store.close();
  // 280 KB in one message, and 3 MB in another: far past what we ever write.
  const big = "word ".repeat(56_000);
  const huge = "é".repeat(3_000_000);
  const db = new DatabaseSync(`${dir.path}/chat.db`);
  const insert = db.prepare(
    "INSERT INTO messages (room_id, user_id, text, sent_at) VALUES (?, ?, ?, 1)",
  );
  insert.run(room.id, alice.id, big);
  insert.run(room.id, alice.id, huge);
  db.close();

  const reader = tempStore(dir.path);
  const [, first, second] = reader.recentMessages(room.id);
  assert.equal(first.text, big.slice(0, SHOWN_TEXT_LIMIT));
  assert.equal(first.more, big.length - SHOWN_TEXT_LIMIT);
  assert.equal(second.more, huge.length - SHOWN_TEXT_LIMIT);
  const bubble = renderBubble(first, { width: 60, own: false, theme: plainTheme, now: 0 });
  const end = bubble.split("\n").slice(-4).join("\n");
  assert.match(
    end,
    /│ \[… 263616 more characters; chatroom +│\n│ export shows them\] +│\n╰─+╯$/,
    end,
  );
  reader.close();

  const env = { CHATROOM_DB: `${dir.path}/chat.db` };
  {
    await using tail = new Running(
      ["tail", "--user", "alice", "--room", "general", "--history", "3"],
      { ...env, CHATROOM_PASSWORD: "alice-password" },
    );
    assert.match(await tail.nextLine(), / alice: before$/);
    assert.match(
      await tail.nextLine(),
      / \[… 263616 more characters; chatroom export shows them\]$/,
    );
    assert.ok(
      (await tail.nextLine()).endsWith(
        ` alice: ${
          "é".repeat(SHOWN_TEXT_LIMIT)
        } [… 2983616 more characters; chatroom export shows them]`,
      ),
    );
  }
  const json = await runChat(["export", "--room", "general", "--format", "json"], { env });
  assert.equal(json.code, 0, json.stderr);
  const exported = JSON.parse(json.stdout);
  assert.deepEqual(exported.map((m: { text: string }) => m.text.length), [
    6,
    big.length,
    huge.length,
  ]);
  assert.equal(exported[2].text, huge);
  const txt = await runChat(["export", "--room", "general"], { env });
  assert.equal(txt.code, 0, txt.stderr);
  const lines = txt.stdout.split("\n");
  assert.ok(lines[2].endsWith(": " + huge), "the txt export holds the whole text on one line");
});

Deno.test("export writes at most EXPORT_TEXT_LIMIT characters of one planted text, and says how many more", async () => {
  using dir = tempDir();
  const store = tempStore(dir.path);
  const alice = await quickUser(store, "alice");
  const room = store.createRoom("general", alice.id);
  store.close();
  const db = new DatabaseSync(`${dir.path}/chat.db`);
  db.prepare(
    "INSERT INTO messages (room_id, user_id, text, sent_at) VALUES (?, ?, ?, 1)",
  ).run(room.id, alice.id, "x".repeat(EXPORT_TEXT_LIMIT + 1000));
  db.close();
  const env = { CHATROOM_DB: `${dir.path}/chat.db` };

  const json = await runChat(["export", "--room", "general", "--format", "json"], { env });
  assert.equal(json.code, 0, json.stderr);
  const [message] = JSON.parse(json.stdout);
  assert.equal(message.text.length, EXPORT_TEXT_LIMIT);
  assert.equal(message.more, 1000);
  const txt = await runChat(["export", "--room", "general"], { env });
  assert.ok(
    txt.stdout.endsWith(
      `${
        "x".repeat(100)
      } [… 1000 more characters not exported: a text this long was written into the file by hand]\n`,
    ),
  );
});

Deno.test("150,000 rooms: menus show the most recent and search, rooms streams them all", async () => {
  using dir = tempDir();
  const store = tempStore(dir.path);
  const alice = await quickUser(store, "alice");
  const general = store.createRoom("general", alice.id);
  store.addMessage(general.id, alice.id, "the one active room");
  store.close();
  const db = new DatabaseSync(`${dir.path}/chat.db`);
  db.exec(`
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 150000)
    INSERT INTO rooms (name, name_key, created_by, created_at)
    SELECT 'flood' || i, 'flood' || i, 1, 1 FROM n`);
  db.close();

  const reader = tempStore(dir.path);
  const page = reader.listRooms();
  assert.equal(page.length, ROOM_LIST_LIMIT);
  assert.equal(page[0].name, "general", "the active room comes first");
  assert.equal(reader.countRooms(), 150_001);
  assert.deepEqual(reader.listRooms({ search: "FLOOD14999" }).map((r) => r.name).sort(), [
    "flood14999",
    "flood149990",
    "flood149991",
    "flood149992",
    "flood149993",
    "flood149994",
    "flood149995",
    "flood149996",
    "flood149997",
    "flood149998",
    "flood149999",
  ]);
  assert.deepEqual(reader.listRooms({ search: "100%_" }), [], "% and _ are plain characters");
  const context = {
    store: reader,
    user: alice,
    room: general,
    now: Date.now(),
    hotlist: [],
    bell: true,
  };
  const [listed] = await runCommand("rooms", "", context);
  assert.equal(listed.kind, "notice");
  const lines = (listed as { text: string }).text.split("\n");
  assert.equal(
    lines[0],
    "The 50 most recently active of 150001 rooms (/rooms WORD finds the others):",
  );
  assert.equal(lines.length, 1 + ROOM_LIST_LIMIT);
  const [found] = await runCommand("rooms", "flood7777", context);
  const foundLines = (found as { text: string }).text.split("\n");
  assert.equal(foundLines[0], 'Rooms whose name holds "flood7777":');
  assert.ok(foundLines.includes("flood77770  no messages yet"));
  assert.equal(foundLines.length, 1 + 11);
  const [many] = await runCommand("rooms", "flood7", context);
  assert.equal(
    (many as { text: string }).text.split("\n")[0],
    'Rooms whose name holds "flood7" (the first 50 of 11111):',
  );
  reader.close();

  const env = { CHATROOM_DB: `${dir.path}/chat.db` };
  const table = await runChat(["rooms"], { env });
  assert.equal(table.code, 0, table.stderr);
  assert.equal(table.stdout.trimEnd().split("\n").length, 1 + 150_001);
  const json = await runChat(["rooms", "--json"], { env });
  assert.equal(json.code, 0, json.stderr);
  assert.equal(JSON.parse(json.stdout).length, 150_001);
});
