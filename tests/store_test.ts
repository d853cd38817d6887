import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { logIn } from "../lib/accounts.ts";
import { WaitError } from "../lib/errors.ts";
import { MAX_MESSAGE_LENGTH } from "../lib/model.ts";
import { openSqliteStore as openStore } from "../lib/sqlite_store.ts";
import { MIGRATIONS, SCHEMA_VERSION } from "../lib/schema.ts";
import {
  assertChatError,
  assertRejectsChatError,
  NO_LIMIT,
  quickUser,
  tempDir,
  tempStore,
} from "./_helpers.ts";

Deno.test("openStore() creates the file with mode 0600, in WAL mode, at the current schema", () => {
  using dir = tempDir();
  const store = tempStore(dir.path);
  store.close();
  assert.equal(Deno.statSync(`${dir.path}/chat.db`).mode! & 0o777, 0o600);
  // An empty journal only the owner can write holds the path SQLite would read one from.
  const journal = Deno.statSync(`${dir.path}/chat.db-journal`);
  assert.equal(journal.size, 0);
  assert.equal(journal.mode! & 0o777, 0o600);
  const db = new DatabaseSync(`${dir.path}/chat.db`);
  assert.equal(db.prepare("PRAGMA journal_mode").get()?.journal_mode, "wal");
  assert.equal(db.prepare("PRAGMA user_version").get()?.user_version, SCHEMA_VERSION);
  db.close();
});

Deno.test("Store users: unique ignoring case, found ignoring case, password checked", async () => {
  using dir = tempDir();
  const store = tempStore(dir.path);
  const alice = await quickUser(store, "Alice");
  assert.deepEqual(alice, { id: alice.id, name: "Alice" });
  await assertRejectsChatError(quickUser(store, "ALICE"), 'The name "ALICE" is taken');
  assertChatError(() => store.createUser("aLiCe", "hash"), "is taken");
  assert.equal(store.findUser("alice")?.id, alice.id);
  assert.deepEqual(await logIn(store, "ALICE", "Alice-password"), alice);
  await assertRejectsChatError(logIn(store, "alice", "nope"), "Wrong password for Alice");
  await assertRejectsChatError(logIn(store, "nobody", "x"), 'There is no account named "nobody"');
  store.close();
});

Deno.test("Store rooms: created once, listed by last activity", async () => {
  using dir = tempDir();
  let clock = 1000;
  const store = tempStore(dir.path, () => clock);
  const alice = await quickUser(store, "alice");
  const general = store.createRoom("general", alice.id);
  assertChatError(
    () => store.createRoom("GENERAL", alice.id),
    'A room named "general" already exists',
  );
  assertChatError(() => store.createRoom("bad name", alice.id), "Room name may only hold");
  const lobby = store.findOrCreateRoom("lobby", alice.id);
  assert.equal(store.findOrCreateRoom("Lobby", alice.id).id, lobby.id);
  store.createRoom("quiet", alice.id);

  clock = 2000;
  store.addMessage(general.id, alice.id, "first");
  clock = 3000;
  store.addMessage(lobby.id, alice.id, "later");
  assert.deepEqual(store.listRooms(), [
    { id: lobby.id, name: "lobby", lastActivity: 3000, topic: null },
    { id: general.id, name: "general", lastActivity: 2000, topic: null },
    { id: 3, name: "quiet", lastActivity: null, topic: null },
  ]);
  // A room made after the last message is the most recent, though still empty.
  clock = 4000;
  store.createRoom("fresh", alice.id);
  assert.equal(store.listRooms()[0].name, "fresh");
  store.close();
});

Deno.test("Store messages: the last 50 on join, then everything after an id", async () => {
  using dir = tempDir();
  const store = tempStore(dir.path);
  const alice = await quickUser(store, "alice");
  const bob = await quickUser(store, "bob");
  const room = store.createRoom("general", alice.id);
  const other = store.createRoom("other", alice.id);
  for (let i = 1; i <= 60; i++) {
    store.addMessage(room.id, i % 2 ? alice.id : bob.id, `message ${i}`);
    store.addMessage(other.id, bob.id, `elsewhere ${i}`);
  }
  const recent = store.recentMessages(room.id);
  assert.equal(recent.length, 50);
  assert.equal(recent[0].text, "message 11");
  assert.equal(recent[49].text, "message 60");
  assert.equal(recent[49].userName, "bob");
  assert.ok(recent.every((m) => m.roomId === room.id));
  const after = store.messagesAfter(room.id, recent[47].id);
  assert.deepEqual(after.map((m) => m.text), ["message 59", "message 60"]);
  assert.equal(store.lastMessageId(room.id), recent[49].id);
  store.close();
});

Deno.test("Store.addMessage() refuses empty and over-long messages and stores the rest intact", async () => {
  using dir = tempDir();
  const store = tempStore(dir.path);
  const alice = await quickUser(store, "alice");
  const room = store.createRoom("general", alice.id);
  assertChatError(() => store.addMessage(room.id, alice.id, "   "), "Message is empty");
  assertChatError(
    () => store.addMessage(room.id, alice.id, "x".repeat(MAX_MESSAGE_LENGTH + 1)),
    "Message is 4001 characters long; the limit is 4000. Nothing was sent",
  );
  const exact = "😀".repeat(MAX_MESSAGE_LENGTH);
  store.addMessage(room.id, alice.id, exact);
  const hostile = "'); DROP TABLE messages; -- \u202e";
  store.addMessage(room.id, alice.id, hostile);
  assert.deepEqual(store.recentMessages(room.id).map((m) => m.text), [exact, hostile]);
  store.close();
});

Deno.test("openStore() refuses unusable files with one line and leaves them untouched", async (t) => {
  using dir = tempDir();
  const cases: { name: string; make(path: string): void; message: string }[] = [
    { name: "a directory", make: (p) => Deno.mkdirSync(p), message: "is a directory" },
    {
      name: "random bytes",
      make: (p) => Deno.writeFileSync(p, crypto.getRandomValues(new Uint8Array(8192))),
      message: "is not an SQLite database",
    },
    {
      name: "a text file",
      make: (p) => Deno.writeTextFileSync(p, "hello, I am not a database\n".repeat(200)),
      message: "is not an SQLite database",
    },
    {
      name: "a newer schema",
      make: (p) => {
        openStore(p).close();
        const db = new DatabaseSync(p);
        db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
        db.close();
      },
      message: `was written by a newer chatroom (schema ${SCHEMA_VERSION + 1}`,
    },
    {
      name: "another program's SQLite file",
      make: (p) => {
        const db = new DatabaseSync(p);
        db.exec("CREATE TABLE notes (body TEXT)");
        db.close();
      },
      // Never read by SQLite in rollback mode: that read plays back a journal it finds.
      message: "is an SQLite database not in WAL mode",
    },
    {
      name: "another program's SQLite file in WAL mode",
      make: (p) => {
        const db = new DatabaseSync(p);
        db.exec("PRAGMA journal_mode = WAL");
        db.exec("CREATE TABLE notes (body TEXT)");
        db.close();
      },
      message: "is an SQLite database but not a chatroom one",
    },
    {
      name: "an empty file",
      make: (p) => Deno.writeFileSync(p, new Uint8Array()),
      message: "is an empty file, not a chatroom database",
    },
    {
      name: "a truncated database",
      make: (p) => {
        const store = openStore(p);
        store.setRate("message", NO_LIMIT);
        store.createUser("alice", "hash");
        store.createRoom("general", 1);
        for (let i = 0; i < 2000; i++) store.addMessage(1, 1, `message ${i}`.padEnd(80, "."));
        store.close();
        const bytes = Deno.readFileSync(p);
        Deno.writeFileSync(p, bytes.slice(0, bytes.length / 2));
      },
      message: "is damaged (database disk image is malformed)",
    },
    {
      name: "a read-only file",
      make: (p) => {
        openStore(p).close();
        Deno.chmodSync(p, 0o444);
      },
      message: "is read-only",
    },
  ];
  for (const [i, c] of cases.entries()) {
    await t.step(c.name, () => {
      const path = `${dir.path}/case${i}.db`;
      c.make(path);
      const before = Deno.statSync(path).isFile ? Deno.readFileSync(path) : undefined;
      const files = [...Deno.readDirSync(dir.path)].map((e) => e.name).sort();
      assertChatError(() => openStore(path), c.message);
      if (before) assert.deepEqual(Deno.readFileSync(path), before);
      // Nothing is left beside it either (SQLite's journal path held for a file it refused).
      assert.deepEqual([...Deno.readDirSync(dir.path)].map((e) => e.name).sort(), files);
    });
  }
});

Deno.test("openStore() names a missing folder, a file in its place or an empty path in one line", () => {
  using dir = tempDir();
  assertChatError(
    () => openStore(`${dir.path}/no/such/dir/chat.db`),
    `Cannot create ${dir.path}/no/such/dir/chat.db: there is no folder ${dir.path}/no/such/dir`,
  );
  Deno.writeTextFileSync(`${dir.path}/file`, "");
  assertChatError(() => openStore(`${dir.path}/file/chat.db`), `${dir.path}/file is not a folder`);
  assertChatError(() => openStore(""), "The database path is empty");
});

Deno.test("Two stores on one file see each other's writes", async () => {
  using dir = tempDir();
  const a = tempStore(dir.path);
  const b = tempStore(dir.path);
  const alice = await quickUser(a, "alice");
  const room = a.createRoom("general", alice.id);
  assert.equal(b.findRoom("GENERAL")?.id, room.id);
  b.addMessage(room.id, alice.id, "from b");
  assert.equal(a.recentMessages(room.id)[0].text, "from b");
  assert.equal(a.lastMessageId(room.id), b.lastMessageId(room.id));
  a.close();
  b.close();
});

Deno.test("logIn() makes one Unix account's tries wait longer after three wrong passwords", async () => {
  using dir = tempDir();
  let clock = 1_000_000;
  const store = tempStore(dir.path, () => clock);
  await quickUser(store, "alice");
  const GUESSER = 1001;
  const OWNER = 1000;
  const guess = (password: string) => logIn(store, "alice", password, GUESSER);
  await assertRejectsChatError(guess("wrong 1"), "Wrong password for alice");
  await assertRejectsChatError(guess("wrong 2"), "Wrong password for alice");
  await assertRejectsChatError(
    guess("wrong 3"),
    "Wrong password for alice; the next try must wait 1 s",
  );
  // Even the right password waits its turn, from that Unix account.
  await assertRejectsChatError(
    guess("alice-password"),
    "Too many wrong passwords for alice; try again in 1 s",
  );
  // The owner, on another Unix account, is not kept out.
  assert.equal((await logIn(store, "alice", "alice-password", OWNER)).name, "alice");
  clock += 1_000;
  await assertRejectsChatError(guess("wrong 4"), "must wait 2 s");
  clock += 2_000;
  await assertRejectsChatError(guess("wrong 5"), "must wait 4 s");
  clock += 4_000;
  assert.equal((await guess("alice-password")).name, "alice");
  // A right password forgets the wrong ones.
  await assertRejectsChatError(guess("wrong again"), "Wrong password for alice");
  assert.equal(store.loginWait(store.findUser("alice")!.id, GUESSER), 0);
  store.close();
});

Deno.test("loginWait() holds a planted far-future lock to the longest wait", async () => {
  using dir = tempDir();
  const store = tempStore(dir.path);
  const alice = await quickUser(store, "alice");
  store.close();
  const db = new DatabaseSync(`${dir.path}/chat.db`);
  db.prepare("INSERT INTO login_failures VALUES (?, 7, 1, 9e15)").run(alice.id);
  db.close();
  const again = tempStore(dir.path);
  assert.equal(again.loginWait(alice.id, 7), 60_000);
  assert.equal(again.loginWait(alice.id, 8), 0);
  again.close();
});

Deno.test("openStore() migrates a version 1 database in place", () => {
  using dir = tempDir();
  const path = `${dir.path}/old.db`;
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL"); // as every chatroom made its files
  db.exec(MIGRATIONS[0] as string);
  db.exec("PRAGMA user_version = 1");
  db.prepare(
    "INSERT INTO users (name, name_key, password_hash, created_at) VALUES ('bob', 'bob', 'h', 1)",
  ).run();
  // Allowed then: fullwidth letters, keyed as they were typed.
  db.prepare(
    "INSERT INTO users (name, name_key, password_hash, created_at) VALUES ('ｃａｒｏｌ', 'ｃａｒｏｌ', 'h', 1)",
  ).run();
  db.prepare(
    "INSERT INTO rooms (name, name_key, created_by, created_at) VALUES ('General', 'general', 1, 1)",
  ).run();
  db.close();
  const store = openStore(path);
  assert.equal(store.findUser("bob")?.name, "bob");
  assert.equal(store.findUser("carol")?.name, "ｃａｒｏｌ", "found by the key names have now");
  // The migration gave old names their skeletons: look-alikes are refused.
  assertChatError(
    () => store.createUser("b\u043eb", "h"),
    'The name "b\u043eb" is too close to "bob"',
  );
  assertChatError(
    () => store.createRoom("G\u0435neral", 1),
    'The name "G\u0435neral" is too close to "General"',
  );
  store.close();
  const check = new DatabaseSync(path);
  assert.equal(check.prepare("PRAGMA user_version").get()?.user_version, SCHEMA_VERSION);
  check.close();
});

/** Makes a folder read-only even for root (immutable), or by mode for anyone else. */
function readOnlyFolder(path: string): { [Symbol.dispose](): void } {
  const root = Deno.uid() === 0;
  const run = (flag: string) =>
    new Deno.Command("chattr", { args: [flag, path], stdout: "null", stderr: "null" })
      .outputSync().success;
  if (root) {
    if (!run("+i")) throw new Error("cannot make a read-only folder here (chattr +i failed)");
    return { [Symbol.dispose]: () => run("-i") };
  }
  Deno.chmodSync(path, 0o555);
  return { [Symbol.dispose]: () => Deno.chmodSync(path, 0o755) };
}

Deno.test("openStore() in a read-only folder says so in one line and changes nothing", () => {
  using dir = tempDir();
  const folder = `${dir.path}/ro`;
  Deno.mkdirSync(folder);
  openStore(`${folder}/chat.db`).close(); // the last close checkpoints and removes -wal, -shm
  const before = Deno.readFileSync(`${folder}/chat.db`);
  {
    using _readOnly = readOnlyFolder(folder);
    assertChatError(() => openStore(`${folder}/chat.db`), "its folder must be writable too");
  }
  assert.deepEqual(Deno.readFileSync(`${folder}/chat.db`), before);
});

Deno.test("Store.addMessage() refuses control characters but tabs and line breaks", async () => {
  using dir = tempDir();
  const store = tempStore(dir.path);
  const alice = await quickUser(store, "alice");
  const room = store.createRoom("general", alice.id);
  for (const text of ["before\0after", "bell\x07", "esc\x1b[2J", "cr\rover", "del\x7f"]) {
    assertChatError(() => store.addMessage(room.id, alice.id, text), "control character");
  }
  store.addMessage(room.id, alice.id, "tab\there\nand a second line");
  assert.deepEqual(store.recentMessages(room.id).map((m) => m.text), [
    "tab\there\nand a second line",
  ]);
  store.close();
});

Deno.test("Store refuses user and room names too close to a taken one, or mixing scripts", async () => {
  using dir = tempDir();
  const store = tempStore(dir.path);
  const alice = await quickUser(store, "alice");
  store.createRoom("general", alice.id);
  for (const name of ["\u0430lice", "alic\u0435", "ALICE"]) {
    assertChatError(() => store.createUser(name, "h"), "");
  }
  assertChatError(
    () => store.createUser("\u0430lice", "h"),
    'The name "\u0430lice" is too close to "alice"',
  );
  assertChatError(() => store.createUser("ａｌｉｃｅ", "h"), 'The name "alice" is taken');
  store.createUser("MAX", "h");
  assertChatError(
    () => store.createUser("\u041c\u0410\u0425", "h"),
    'The name "\u041c\u0410\u0425" is too close to "MAX"',
  );
  assertChatError(
    () => store.findOrCreateRoom("g\u0435neral", alice.id),
    'The name "g\u0435neral" is too close to "general"',
  );
  assertChatError(
    () => store.createRoom("dev\u0441hat", alice.id),
    'Room name "dev\u0441hat" mixes letters of different scripts',
  );
  assert.equal(store.countRooms(), 1);
  // Names in one script of their own are fine, whatever they look like.
  assert.equal(store.createRoom("общий", alice.id).name, "общий");
  store.close();
});

Deno.test("Store limits each account's message and room rate, and no one else's", async () => {
  using dir = tempDir();
  let clock = 1_000_000;
  const store = tempStore(dir.path, () => clock, { limited: true });
  const alice = await quickUser(store, "alice");
  const bob = await quickUser(store, "bob");
  const room = store.createRoom("general", alice.id);
  for (let i = 0; i < 20; i++) store.addMessage(room.id, alice.id, `burst ${i}`);
  assert.throws(
    () => store.addMessage(room.id, alice.id, "one too many"),
    (err) =>
      err instanceof WaitError && err.waitMs === 200 &&
      err.message === "You are sending too fast (at most 5 a second); wait 0.2 s. Nothing was sent",
  );
  store.addMessage(room.id, bob.id, "bob is not slowed");
  clock += 200;
  store.addMessage(room.id, alice.id, "one more, 0.2 s later");
  assert.equal(store.recentMessages(room.id, 100).length, 22);

  for (let i = 1; i < 10; i++) store.createRoom(`room${i}`, alice.id);
  assertChatError(
    () => store.createRoom("room10", alice.id),
    "You are creating rooms too fast; wait 30 s and try again",
  );
  store.createRoom("bobs", bob.id);
  clock += 30_000;
  store.createRoom("room10", alice.id);
  store.close();
});

Deno.test("Store.namesStartingWith() lists names by prefix, ignoring case, bounded", async () => {
  using dir = tempDir();
  const store = tempStore(dir.path);
  for (const name of ["Alice", "alicia", "bob"]) await quickUser(store, name);
  assert.deepEqual(store.namesStartingWith("user", "ALI"), ["Alice", "alicia"]);
  assert.deepEqual(store.namesStartingWith("user", "ali", 1), ["Alice"]);
  assert.deepEqual(store.namesStartingWith("room", "x"), []);
  store.close();
});

Deno.test("a search index another member damaged: /search fails in one line, messages still go out", async () => {
  using dir = tempDir();
  const path = `${dir.path}/chat.db`;
  const store = tempStore(dir.path);
  const user = await quickUser(store, "alice");
  const room = store.createRoom("general", user.id);
  store.addMessage(room.id, user.id, "before the damage");
  assert.equal(store.search("damage", { userId: user.id }).length, 1);
  // SQLite guards its index's own tables; a member's sqlite3 or script need not.
  const raw = new DatabaseSync(path, { defensive: false } as never);
  raw.exec("UPDATE messages_fts_data SET block = x'ffffffffffffffffff'");
  raw.close();
  const id = store.addMessage(room.id, user.id, "after the damage");
  assert.deepEqual(store.messagesAfter(room.id, id - 1).map((m) => m.text), ["after the damage"]);
  assertChatError(() => store.search("damage", { userId: user.id }), "is damaged");
  store.close();
});

Deno.test("stamps() move with arrivals, moves, departures and new messages, not with heartbeats", async () => {
  using dir = tempDir();
  let clock = Date.UTC(2026, 11, 2, 12);
  const store = openStore(`${dir.path}/chat.db`, { now: () => clock });
  store.setRate("message", NO_LIMIT);
  try {
    const alice = await quickUser(store, "alice");
    const bob = await quickUser(store, "bob");
    const general = store.createRoom("general", alice.id);
    const ops = store.createRoom("ops", alice.id);
    const at = () => store.stamps(alice.id);
    const start = at();
    store.announce("b1", bob.id, general.id);
    const arrived = at();
    assert.ok(arrived.presence > start.presence, "an arrival moves the presence stamp");
    clock += 10_000;
    store.announce("b1", bob.id, general.id);
    assert.equal(at().presence, arrived.presence, "a heartbeat does not");
    store.announce("b1", bob.id, ops.id);
    const moved = at();
    assert.ok(moved.presence > arrived.presence, "a move does");
    clock += 60_000; // bob's terminal slept past the timeout, then beats again: he is back
    store.announce("b1", bob.id, ops.id);
    const back = at();
    assert.ok(back.presence > moved.presence, "coming back after timing out does");
    store.depart("b1");
    const gone = at();
    assert.ok(gone.presence > back.presence, "a departure does");
    store.depart("b1");
    assert.equal(at().presence, gone.presence, "a second goodbye does not");

    const first = store.addMessage(general.id, bob.id, "in general");
    assert.equal(at().newest, first);
    assert.equal(store.newsOutside(general.id, gone.newest, first), false, "the followed room");
    assert.equal(store.newsOutside(ops.id, gone.newest, first), true, "another room");
    assert.equal(store.newsOutside(undefined, gone.newest, first), true, "no room followed");
    assert.equal(store.newsOutside(ops.id, first, first), false, "nothing new");
    store.markRead(alice.id, general.id, first);
    assert.notEqual(at().read, gone.read, "a read marker of the account's moves the read stamp");
    const read = at().read;
    store.markRead(bob.id, general.id, first);
    assert.equal(at().read, read, "another account's does not");

    // Whatever another member plants in the stamp, an arrival still moves it.
    const raw = new DatabaseSync(`${dir.path}/chat.db`);
    try {
      for (
        const plant of [
          "UPDATE stamps SET n = 9007199254740993",
          "UPDATE stamps SET n = 1e400",
          "UPDATE stamps SET n = 'planted'",
          "DELETE FROM stamps",
        ]
      ) {
        raw.exec(plant);
        const planted = at().presence;
        store.announce("b2", bob.id, general.id);
        assert.notEqual(at().presence, planted, plant);
        store.depart("b2");
      }
    } finally {
      raw.close();
    }
  } finally {
    store.close();
  }
});
