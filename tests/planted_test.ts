// What another member can plant in the file itself: views and triggers, numbers
// that are not numbers, far-future rows. Each is refused or read safely; none
// hangs, crashes or locks anyone out.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { logIn } from "../lib/accounts.ts";
import { renderBubble } from "../lib/render.ts";
import { openSqliteStore as openStore } from "../lib/sqlite_store.ts";
import { plainTheme } from "../lib/theme.ts";
import { mkfifoSync } from "./_fs.ts";
import { assertChatError, quickUser, tempDir, tempStore } from "./_helpers.ts";
import { runChat } from "./_run.ts";
import { bubbleLine, Screen } from "./_tmux.ts";

const FOREIGN = "holds tables, views or triggers chatroom did not make";

Deno.test("a view or trigger planted in the file is refused before any of its SQL runs", async (t) => {
  const plants: [string, string][] = [
    [
      "a recursive view in place of messages",
      `ALTER TABLE messages RENAME TO m_old;
       CREATE VIEW messages AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)
       SELECT x AS id, 1 AS room_id, 1 AS user_id, 'v' AS text, 0 AS sent_at FROM c`,
    ],
    [
      "a trigger on insert",
      `CREATE TRIGGER t AFTER INSERT ON messages BEGIN
       SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)
       SELECT x FROM c); END`,
    ],
    ["a table of its own", "CREATE TABLE extra (x)"],
  ];
  for (const [what, sql] of plants) {
    await t.step(`${what}, before opening`, async () => {
      using dir = tempDir();
      const store = tempStore(dir.path);
      await quickUser(store, "alice");
      store.close();
      const db = new DatabaseSync(`${dir.path}/chat.db`);
      db.exec(sql);
      db.close();
      assertChatError(() => openStore(`${dir.path}/chat.db`), FOREIGN);
    });
    await t.step(`${what}, while open`, async () => {
      using dir = tempDir();
      const store = tempStore(dir.path);
      const alice = await quickUser(store, "alice");
      const room = store.createRoom("general", alice.id);
      store.addMessage(room.id, alice.id, "before");
      const db = new DatabaseSync(`${dir.path}/chat.db`);
      db.exec(sql);
      db.close();
      assertChatError(() => store.recentMessages(room.id), FOREIGN);
      assertChatError(() => store.addMessage(room.id, alice.id, "after"), FOREIGN);
      store.close();
    });
  }
});

Deno.test("numbers that are not numbers are read safely, and lock nobody out", async () => {
  using dir = tempDir();
  const store = tempStore(dir.path, Date.now, { limited: true });
  const alice = await quickUser(store, "alice");
  const room = store.createRoom("general", alice.id);
  store.addMessage(room.id, alice.id, "an honest one");
  store.close();
  const db = new DatabaseSync(`${dir.path}/chat.db`);
  const insert = db.prepare(
    "INSERT INTO messages (room_id, user_id, text, sent_at) VALUES (?, ?, ?, ?)",
  );
  insert.run(room.id, alice.id, "text for a time", "abc");
  insert.run(room.id, alice.id, "a time no clock shows", 1e300);
  insert.run(room.id, alice.id, "past 2^53", 9007199254740993n);
  db.prepare("INSERT INTO login_failures VALUES (?, ?, 'x', 9000000000000000000)").run(
    alice.id,
    Deno.uid() ?? -1,
  );
  db.prepare("INSERT OR REPLACE INTO allowances VALUES (?, 'message', -1e300, 0)").run(alice.id);
  db.prepare("INSERT OR REPLACE INTO settings VALUES ('messages_per_second', 1e-300)").run();
  db.close();

  const reader = openStore(`${dir.path}/chat.db`);
  const messages = reader.recentMessages(room.id);
  assert.deepEqual(messages.map((m) => m.sentAt).slice(1), [0, 0, 0]);
  for (const message of messages) {
    renderBubble(message, { width: 60, own: false, theme: plainTheme, now: Date.now() });
  }
  assert.equal((await logIn(reader, "alice", "alice-password")).name, "alice");
  reader.close();

  const env = { CHATROOM_DB: `${dir.path}/chat.db`, CHATROOM_PASSWORD: "alice-password" };
  const sent = await runChat(["send", "--user", "alice", "--room", "general", "still here"], {
    env,
  });
  assert.equal(sent.code, 0, "a planted allowance stalls no one: " + sent.stderr);
  const json = await runChat(["export", "--room", "general", "--format", "json"], { env });
  assert.equal(json.code, 0, json.stderr);
  assert.equal(JSON.parse(json.stdout).length, 5, "valid JSON, every message");
  const rooms = await runChat(["rooms"], { env });
  assert.equal(rooms.code, 0, rooms.stderr);
  assert.match(rooms.stdout, /^general +5 /m);
});

Deno.test("a FIFO planted as -shm beside a database yet to be made is named, not waited on", () => {
  using dir = tempDir();
  mkfifoSync(`${dir.path}/new.db-shm`);
  assertChatError(() => openStore(`${dir.path}/new.db`), "new.db-shm is a FIFO");
});

Deno.test("a message id past 2^53 is skipped by readers, and no new one is numbered after it", async () => {
  using dir = tempDir();
  const store = tempStore(dir.path);
  const alice = await quickUser(store, "alice");
  const room = store.createRoom("general", alice.id);
  store.addMessage(room.id, alice.id, "before");
  const db = new DatabaseSync(`${dir.path}/chat.db`);
  db.prepare("INSERT INTO messages (id, room_id, user_id, text, sent_at) VALUES (?, ?, ?, 'x', 1)")
    .run(2n ** 60n, room.id, alice.id);
  db.close();
  assert.deepEqual(store.recentMessages(room.id).map((m) => m.text), ["before"]);
  assert.deepEqual(store.messagesAfter(room.id, 0).map((m) => m.text), ["before"]);
  assertChatError(() => store.addMessage(room.id, alice.id, "after"), "message id past 2^53");
  assert.deepEqual(store.recentMessages(room.id).map((m) => m.text), ["before"], "rolled back");
  store.close();
});

Deno.test("a schema changed between BEGIN and the insert is refused, and the lock let go", async () => {
  using dir = tempDir();
  const store = tempStore(dir.path);
  const alice = await quickUser(store, "alice");
  const room = store.createRoom("general", alice.id);
  const db = new DatabaseSync(`${dir.path}/chat.db`, { timeout: 1000 });
  db.exec("CREATE TRIGGER t AFTER INSERT ON messages BEGIN SELECT 1; END");
  assertChatError(() => store.addMessage(room.id, alice.id, "hi"), FOREIGN);
  db.exec("DROP TRIGGER t"); // the owner can still write: no lock is held
  db.close();
  store.close();
});

Deno.test("a table planted while the chat view runs costs it a read marker, not the program", async () => {
  using dir = tempDir();
  const path = `${dir.path}/chat.db`;
  const store = tempStore(dir.path);
  try {
    const alice = await quickUser(store, "alice");
    const bob = await quickUser(store, "bob");
    const general = store.createRoom("general", alice.id);
    await using screen = await Screen.start(["--user", "alice", "--room", "general"], {
      CHATROOM_DB: path,
      CHATROOM_PASSWORD: "alice-password",
    });
    await screen.waitFor("general ›");
    await screen.type("half typed");
    store.addMessage(general.id, bob.id, "one to mark as read");
    await screen.waitFor(bubbleLine("one to mark as read"));
    // The read marker is written 5 s after the message shows, and refused while this stands.
    const raw = new DatabaseSync(path);
    raw.exec("CREATE TABLE extra (x)");
    await screen.waitFor("holds tables, views or triggers chatroom did not");
    await assert.rejects(screen.waitFor("[exit", { timeoutMs: 8_000 }), /Timed out/);
    raw.exec("DROP TABLE extra");
    raw.close();
    store.addMessage(general.id, bob.id, "still here");
    await screen.waitFor(bubbleLine("still here"));
    assert.match(await screen.text(), /general › half typed$/m);
  } finally {
    store.close();
  }
});
