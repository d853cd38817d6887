// The watch worker, for real: a Worker thread with its own connection,
// fed by writes from another connection to the same file.
import assert from "node:assert/strict";
import { WorkerFollower as Follower } from "../lib/follower.ts";
import { collector, quickUser, tempDir, tempStore } from "./_helpers.ts";

Deno.test("Follower delivers another connection's messages once, in order", async () => {
  using dir = tempDir();
  const store = tempStore(dir.path);
  const alice = await quickUser(store, "alice");
  const room = store.createRoom("general", alice.id);
  store.addMessage(room.id, alice.id, "already seen");
  const seen = store.lastMessageId(room.id);

  const got = collector();
  const follower = new Follower(store.path, got.handlers);
  try {
    follower.follow(room.id, seen);
    for (let i = 1; i <= 30; i++) store.addMessage(room.id, alice.id, `live ${i}`);
    await got.until(() => got.texts().length >= 30, "30 live messages");
    assert.deepEqual(got.texts(), Array.from({ length: 30 }, (_, i) => `live ${i + 1}`));
    assert.ok(got.batches.every((b) => b.roomId === room.id));
    const ids = got.batches.flatMap((b) => b.messages.map((m) => m.id));
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    assert.deepEqual(got.errors, []);
  } finally {
    follower.close();
    store.close();
  }
});

Deno.test("Follower re-targets to a new room without leaking the old one", async () => {
  using dir = tempDir();
  const store = tempStore(dir.path);
  const alice = await quickUser(store, "alice");
  const general = store.createRoom("general", alice.id);
  const lobby = store.createRoom("lobby", alice.id);

  const got = collector();
  const follower = new Follower(store.path, got.handlers);
  try {
    follower.follow(general.id, 0);
    store.addMessage(general.id, alice.id, "in general");
    await got.until(() => got.texts().includes("in general"), "the general message");

    follower.follow(lobby.id, store.lastMessageId(lobby.id));
    store.addMessage(general.id, alice.id, "general after leaving");
    store.addMessage(lobby.id, alice.id, "in lobby");
    await got.until(() => got.texts().includes("in lobby"), "the lobby message");
    assert.deepEqual(got.texts(), ["in general", "in lobby"]);

    follower.unfollow();
    store.addMessage(lobby.id, alice.id, "after unfollow");
    follower.follow(lobby.id, store.lastMessageId(lobby.id));
    store.addMessage(lobby.id, alice.id, "followed again");
    await got.until(() => got.texts().includes("followed again"), "the message after re-follow");
    assert.deepEqual(got.texts(), ["in general", "in lobby", "followed again"]);
  } finally {
    follower.close();
    store.close();
  }
});

Deno.test("Follower reports a database it cannot open as an error line", async () => {
  using dir = tempDir();
  const got = collector();
  const path = `${dir.path}/not-a-db`;
  Deno.writeTextFileSync(path, "plain text, not SQLite\n".repeat(100));
  const follower = new Follower(path, got.handlers);
  try {
    await got.until(() => got.errors.length > 0, "an error");
    assert.deepEqual(got.errors, [`${path} is not an SQLite database`]);
  } finally {
    follower.close();
  }
});

const isRoot = Deno.uid() === 0;

Deno.test({
  name:
    "Follower watches only the database owner's wake file, and delivers by polling beside another's",
  ignore: !isRoot,
  async fn() {
    using dir = tempDir();
    const store = tempStore(dir.path);
    const alice = await quickUser(store, "alice");
    const room = store.createRoom("general", alice.id);
    // Another account's wake file: they could rename a FIFO over it, which hangs a watcher.
    Deno.writeTextFileSync(`${store.path}-ping`, "");
    Deno.chownSync(`${store.path}-ping`, 65534, null);
    const got = collector();
    const follower = new Follower(store.path, got.handlers);
    try {
      follower.follow(room.id, 0);
      await got.until(() => got.errors.length > 0, "the wake file refused");
      assert.match(got.errors[0], /-ping is a file of another account \(uid 65534\)/);
      store.addMessage(room.id, alice.id, "by the poll");
      await got.until(() => got.texts().includes("by the poll"), "the message");
    } finally {
      follower.close();
      store.close();
    }
  },
});
if (!isRoot) console.log("follower_test: the wake file owner's test needs root (chown); skipped");
