// The wake file: writers never act through what others plant at its path, and
// followers never block on it, whatever stands there.
import assert from "node:assert/strict";
import { chmodSync, linkSync, mkfifoSync } from "./_fs.ts";
import { WorkerFollower as Follower } from "../lib/follower.ts";
import { openSqliteStore as openStore } from "../lib/sqlite_store.ts";
import { wakePath } from "../lib/wake.ts";
import { collector, hotJournal, quickUser, tempDir, tempStore } from "./_helpers.ts";

Deno.test("addMessage() truncates the wake file: one event per message, mode follows the database", async () => {
  using dir = tempDir();
  const store = tempStore(dir.path);
  const alice = await quickUser(store, "alice");
  const room = store.createRoom("general", alice.id);
  store.addMessage(room.id, alice.id, "first");
  const wake = wakePath(store.path);
  assert.ok(Deno.lstatSync(wake).isFile);
  assert.equal(Deno.statSync(wake).mode! & 0o777, 0o600);
  // Shared with a group later: the group must be able to wake followers too.
  chmodSync(store.path, 0o660);
  const later = tempStore(dir.path);
  later.addMessage(room.id, alice.id, "after sharing");
  later.close();
  assert.equal(Deno.statSync(wake).mode! & 0o777, 0o660);

  const watcher = Deno.watchFs(wake, { recursive: false });
  const events = watcher[Symbol.asyncIterator]();
  const deadline = setTimeout(() => watcher.close(), 10_000);
  try {
    for (let i = 0; i < 3; i++) {
      store.addMessage(room.id, alice.id, `live ${i}`);
      assert.equal((await events.next()).done, false, `an event after message ${i}`);
    }
  } finally {
    clearTimeout(deadline);
    watcher.close();
    store.close();
  }
});

Deno.test("addMessage() never acts through what is planted at the wake path", async (t) => {
  using dir = tempDir();
  const store = tempStore(dir.path);
  const alice = await quickUser(store, "alice");
  const room = store.createRoom("general", alice.id);
  const wake = wakePath(store.path);
  // A folder of the victim's, and a file in it, that the planted things point at.
  const home = `${dir.path}/home`;
  Deno.mkdirSync(home, { mode: 0o700 });
  chmodSync(home, 0o700);
  const precious = `${home}/.bashrc`;
  Deno.writeTextFileSync(precious, "echo precious\n");
  const untouched = () => {
    assert.equal(Deno.statSync(home).mode! & 0o777, 0o700);
    assert.deepEqual([...Deno.readDirSync(home)].map((e) => e.name), [".bashrc"]);
    assert.equal(Deno.readTextFileSync(precious), "echo precious\n");
  };
  const plant = (make: () => void) => {
    Deno.removeSync(wake, { recursive: true });
    make();
  };
  store.addMessage(room.id, alice.id, "makes the wake file");

  await t.step("a link to a folder", () => {
    plant(() => Deno.symlinkSync(home, wake));
    store.addMessage(room.id, alice.id, "through a link?");
    untouched();
    assert.ok(Deno.lstatSync(wake).isSymlink, "the planted link is left as it is");
  });
  await t.step("a link to a file", () => {
    plant(() => Deno.symlinkSync(precious, wake));
    store.addMessage(room.id, alice.id, "through a link?");
    untouched();
  });
  await t.step("a hard link to a file", () => {
    plant(() => linkSync(precious, wake));
    store.addMessage(room.id, alice.id, "through a hard link?");
    untouched();
  });
  await t.step("a FIFO, with nobody reading: no wait", () => {
    plant(() => mkfifoSync(wake));
    store.addMessage(room.id, alice.id, "into a FIFO?");
    assert.ok(Deno.lstatSync(wake).isFifo);
  });
  await t.step("a folder", () => {
    plant(() => Deno.mkdirSync(wake));
    store.addMessage(room.id, alice.id, "into a folder?");
    assert.deepEqual([...Deno.readDirSync(wake)], []);
  });
  await t.step("removed: the next message makes it again", () => {
    Deno.removeSync(wake, { recursive: true });
    store.addMessage(room.id, alice.id, "makes it again");
    assert.ok(Deno.lstatSync(wake).isFile);
  });
  assert.equal(store.recentMessages(room.id).length, 7, "every message was stored");
  store.close();
});

/** The inodes this process's inotify instances watch, from /proc (Linux). */
function watchedInodes(): Set<number> {
  const inodes = new Set<number>();
  for (const entry of Deno.readDirSync("/proc/self/fdinfo")) {
    let info: string;
    try {
      info = Deno.readTextFileSync(`/proc/self/fdinfo/${entry.name}`);
    } catch {
      continue;
    }
    for (const match of info.matchAll(/^inotify wd:\S+ ino:([0-9a-f]+)/gm)) {
      inodes.add(parseInt(match[1], 16));
    }
  }
  return inodes;
}

Deno.test("Follower: a FIFO at the wake path is told once and messages still arrive; a new wake file is watched again", async () => {
  using dir = tempDir();
  const store = tempStore(dir.path);
  const alice = await quickUser(store, "alice");
  const room = store.createRoom("general", alice.id);
  const wake = wakePath(store.path);
  mkfifoSync(wake);

  const got = collector();
  const follower = new Follower(store.path, got.handlers);
  try {
    await follower.ready;
    follower.follow(room.id, 0);
    await got.until(() => got.errors.length > 0, "a notice about the FIFO");
    assert.equal(got.errors.length, 1);
    assert.match(got.errors[0], /-ping is a FIFO, not chatroom's wake file; .*every 250 ms/);
    store.addMessage(room.id, alice.id, "by polling");
    await got.until(() => got.texts().includes("by polling"), "the message, by polling");

    // Someone removes the FIFO; the next writer makes a wake file, which is watched.
    Deno.removeSync(wake);
    store.addMessage(room.id, alice.id, "makes a wake file");
    const inode = Deno.statSync(wake).ino!;
    await got.until(() => watchedInodes().has(inode), "a watch on the new wake file");
    store.addMessage(room.id, alice.id, "woken");
    await got.until(() => got.texts().includes("woken"), "the message after the new file");
    assert.equal(got.errors.length, 1, "told once");
  } finally {
    follower.close();
    store.close();
  }
});

Deno.test("A database moved over while open: writes stop with one line, the new file is untouched", async () => {
  using dir = tempDir();
  const store = tempStore(dir.path);
  const alice = await quickUser(store, "alice");
  const room = store.createRoom("general", alice.id);
  store.addMessage(room.id, alice.id, "before");
  // Someone restores a copy by moving it over the live file.
  const copy = openStore(`${dir.path}/copy.db`);
  copy.close();
  const bytes = Deno.readFileSync(`${dir.path}/copy.db`);
  Deno.renameSync(`${dir.path}/copy.db`, store.path);
  assert.throws(
    () => store.addMessage(room.id, alice.id, "after"),
    /chat\.db was replaced or removed while chatroom had it open; nothing more is written/,
  );
  assert.throws(() => store.createRoom("lobby", alice.id), /was replaced or removed/);
  assert.deepEqual(Deno.readFileSync(store.path), bytes, "nothing was written into the new file");
  store.close();
});

Deno.test("openStore() refuses links and FIFOs where SQLite keeps its journal, -wal and -shm, naming them", async (t) => {
  using dir = tempDir();
  const path = `${dir.path}/chat.db`;
  openStore(path).close();
  Deno.removeSync(`${path}-journal`); // the one SQLite keeps, to put others in its place
  const victim = `${dir.path}/victim`;
  Deno.writeTextFileSync(victim, "precious\n");
  for (const suffix of ["-journal", "-wal", "-shm"]) {
    await t.step(`a link as ${suffix}`, () => {
      Deno.symlinkSync(victim, path + suffix);
      assert.throws(
        () => openStore(path),
        new RegExp(`chat\\.db${suffix} is a symbolic link, not SQLite's own file; remove it`),
      );
      assert.equal(Deno.readTextFileSync(victim), "precious\n");
      Deno.removeSync(path + suffix);
    });
    await t.step(`a FIFO as ${suffix}`, () => {
      mkfifoSync(path + suffix);
      assert.throws(() => openStore(path), new RegExp(`chat\\.db${suffix} is a FIFO`));
      Deno.removeSync(path + suffix);
    });
  }
});

Deno.test("a journal planted beside the database is refused before SQLite reads it: nothing it names is deleted", () => {
  // SQLite plays back a journal it finds on opening a file, then deletes the file it
  // names as its super-journal: with a shared folder, any file the opener can delete.
  using dir = tempDir();
  const path = `${dir.path}/chat.db`;
  openStore(path).close();
  const precious = `${dir.path}/precious.txt`;
  Deno.writeTextFileSync(precious, "precious\n");
  Deno.removeSync(`${path}-journal`);
  Deno.writeFileSync(`${path}-journal`, hotJournal(precious));
  assert.throws(
    () => openStore(path),
    /chat\.db-journal holds a journal, but chatroom keeps the database in WAL mode/,
  );
  assert.equal(Deno.readTextFileSync(precious), "precious\n");
  // Once it is gone the database opens, and the owner's placeholder holds the path again.
  Deno.removeSync(`${path}-journal`);
  openStore(path).close();
  assert.equal(Deno.statSync(`${path}-journal`).size, 0);
});

Deno.test("a FIFO put in place of the journal while a store is open is never waited on", async () => {
  using dir = tempDir();
  const store = tempStore(dir.path);
  const alice = await quickUser(store, "alice");
  Deno.removeSync(`${store.path}-journal`);
  mkfifoSync(`${store.path}-journal`);
  // Open in WAL mode, SQLite never looks at a journal again.
  assert.equal(store.findUser("alice")?.name, "alice");
  store.createRoom("general", alice.id);
  store.close();
  assert.throws(() => openStore(`${dir.path}/chat.db`), /chat\.db-journal is a FIFO/);
});

Deno.test("openStore() names a database deleted while open, not a full disk", async () => {
  using dir = tempDir();
  const store = tempStore(dir.path);
  const alice = await quickUser(store, "alice");
  Deno.removeSync(store.path);
  assert.throws(() => store.createRoom("general", alice.id), /chat\.db was replaced or removed/);
  store.close();
});

Deno.test("Follower keeps the wake-file notice until the chat view listens", async () => {
  using dir = tempDir();
  const store = tempStore(dir.path);
  mkfifoSync(wakePath(store.path));
  const follower = new Follower(store.path); // as the app starts it, before any room
  try {
    await follower.ready;
    const got = collector();
    follower.handlers = got.handlers;
    await got.until(() => got.errors.length > 0, "the notice told before anyone listened");
    assert.match(got.errors[0], /-ping is a FIFO/);
  } finally {
    follower.close();
    store.close();
  }
});

Deno.test("openStore() never lets SQLite read a file switched out of WAL mode: its switch back removes the journal's placeholder", () => {
  using dir = tempDir();
  const path = `${dir.path}/chat.db`;
  openStore(path).close();
  const bytes = Deno.readFileSync(path);
  bytes.set([1, 1], 18); // what PRAGMA journal_mode=DELETE leaves in the header
  Deno.writeFileSync(path, bytes);
  assert.throws(() => openStore(path), /chat\.db is an SQLite database not in WAL mode/);
  assert.equal(Deno.statSync(`${path}-journal`).size, 0, "the placeholder is still there");
  assert.deepEqual(Deno.readFileSync(path), bytes, "the file is as it was");
});

Deno.test("openStore() refuses a journal placeholder others could write", () => {
  using dir = tempDir();
  const path = `${dir.path}/chat.db`;
  openStore(path).close();
  Deno.chmodSync(`${path}-journal`, 0o660); // e.g. chmod 660 chatroom.db*
  assert.throws(() => openStore(path), /chat\.db-journal can be written by others \(mode 660\)/);
  Deno.chmodSync(`${path}-journal`, 0o600);
  openStore(path).close();
});

Deno.test({
  name: "openStore() by another account than the owner waits for the owner's placeholder",
  ignore: Deno.uid() !== 0,
  fn() {
    using dir = tempDir();
    const path = `${dir.path}/chat.db`;
    openStore(path).close();
    Deno.removeSync(`${path}-journal`);
    Deno.chownSync(path, 65534, 65534); // the owner is now someone else: nobody
    assert.throws(
      () => openStore(path),
      /chat\.db-journal is missing: the database's owner makes it/,
    );
    Deno.writeFileSync(`${path}-journal`, new Uint8Array());
    Deno.chmodSync(`${path}-journal`, 0o600);
    Deno.chownSync(`${path}-journal`, 12345, 12345); // neither the owner nor us
    assert.throws(
      () => openStore(path),
      /chat\.db-journal belongs to another account \(uid 12345\)/,
    );
  },
});
