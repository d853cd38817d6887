// The same behaviour from both backends, through the seam the chat view and
// the scripts use: accounts, rooms, messages, limits and live delivery.
import assert from "node:assert/strict";
import type { Message } from "../lib/model.ts";
import { assertRejectsChatError } from "./_helpers.ts";
import { BACKENDS, logIn, members } from "./_subjects.ts";

for (const { name, ignore, make } of BACKENDS) {
  Deno.test({
    name: `[${name}] accounts: a name ignoring case, look-alikes refused, passwords checked`,
    ignore,
    async fn() {
      await using subject = await make();
      const { backend } = subject;
      await subject.register("Alice");
      await assertRejectsChatError(backend.checkNewUserName("ALICE"), 'The name "ALICE" is taken');
      await assertRejectsChatError(
        backend.checkNewUserName("аlice"),
        'The name "аlice" is too close to "Alice"',
      );
      await using alice = await logIn(backend, "ALICE", "Alice-password");
      assert.equal(alice.user.name, "Alice");
      await assertRejectsChatError(backend.logIn("alice", "wrong-password"), "Wrong password for");
    },
  });

  Deno.test({
    name: `[${name}] rooms: found ignoring case, look-alikes refused, listed by activity`,
    ignore,
    async fn() {
      await using subject = await make();
      await subject.register("alice");
      await using alice = await logIn(subject.backend, "alice");
      const { store, user } = alice;
      const general = await store.createRoom("General", user.id);
      assert.equal((await store.findRoom("GENERAL"))?.id, general.id);
      assert.equal((await store.findOrCreateRoom("general", user.id)).id, general.id);
      await assert.rejects(
        Promise.resolve().then(() => store.createRoom("gеneral", user.id)),
        /too close to "General"/,
      );
      const lobby = await store.findOrCreateRoom("lobby", user.id);
      await store.addMessage(general.id, user.id, "wake up");
      const listed = await store.listRooms();
      assert.deepEqual(listed.map((r) => r.name), ["General", "lobby"], "the active one first");
      assert.ok(listed[0].lastActivity! > 0);
      assert.equal(listed[1].lastActivity, null);
      assert.deepEqual((await store.listRooms({ search: "OBB" })).map((r) => r.id), [lobby.id]);
      assert.equal(await store.countRooms(), 2);
      assert.equal(await store.countRooms("gen"), 1);
      assert.deepEqual(await store.namesStartingWith("room", "l"), ["lobby"]);
      assert.deepEqual(await store.namesStartingWith("user", "AL"), ["alice"]);
      const stats = [];
      for await (const room of store.roomStats()) stats.push([room.name, room.messages]);
      assert.deepEqual(stats, [["General", 1], ["lobby", 0]]);
    },
  });

  Deno.test({
    name: `[${name}] messages: in order, after an id, bad texts refused`,
    ignore,
    async fn() {
      await using subject = await make();
      await subject.register("alice");
      await using alice = await logIn(subject.backend, "alice");
      const { store, user } = alice;
      const room = await store.createRoom("general", user.id);
      assert.equal(await store.lastMessageId(room.id), 0);
      const ids = [];
      for (const text of ["one", "two\nlines", "three"]) {
        ids.push(await store.addMessage(room.id, user.id, text));
      }
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
      const recent = await store.recentMessages(room.id, 2);
      assert.deepEqual(recent.map((m) => [m.text, m.userName, m.more]), [
        ["two\nlines", "alice", 0],
        ["three", "alice", 0],
      ]);
      assert.deepEqual((await store.messagesAfter(room.id, ids[0])).map((m) => m.id), ids.slice(1));
      assert.equal(await store.lastMessageId(room.id), ids[2]);
      assert.equal(await store.messageText(ids[1], 4, 3), "lin");
      for (const [text, reason] of [["", "empty"], ["bell\x07", "control character"]]) {
        await assertRejectsChatError(
          Promise.resolve().then(() => store.addMessage(room.id, user.id, text)),
          reason,
        );
      }
      await assertRejectsChatError(
        Promise.resolve().then(() => store.addMessage(room.id, user.id, "x".repeat(4001))),
        "the limit is 4000",
      );
      assert.equal((await store.recentMessages(room.id)).length, 3, "nothing refused was stored");
    },
  });

  Deno.test({
    name: `[${name}] the rate limit: a burst of 20, then a wait, for that account only`,
    ignore,
    async fn() {
      await using subject = await make();
      await using people = await members(subject, "alice", "bob");
      const [alice, bob] = people;
      await subject.limit();
      const room = await alice.store.createRoom("general", alice.user.id);
      for (let i = 0; i < 20; i++) await alice.store.addMessage(room.id, alice.user.id, `m${i}`);
      await assert.rejects(
        Promise.resolve().then(() =>
          alice.store.addMessage(room.id, alice.user.id, "one too many")
        ),
        (err: Error & { waitMs?: number }) =>
          /sending too fast/.test(err.message) && err.waitMs! > 0 && err.waitMs! <= 200,
      );
      await bob.store.addMessage(room.id, bob.user.id, "others are not slowed");
    },
  });

  Deno.test({
    name:
      `[${name}] the follower delivers a room's new messages once each, in order, until unfollowed`,
    ignore,
    async fn() {
      await using subject = await make();
      await using people = await members(subject, "alice", "bob");
      const [alice, bob] = people;
      const general = await alice.store.createRoom("general", alice.user.id);
      const other = await alice.store.createRoom("other", alice.user.id);
      const first = await alice.store.addMessage(general.id, alice.user.id, "before");
      const got: Message[] = [];
      const errors: string[] = [];
      let arrived = () => {};
      const follower = subject.backend.follower(bob.store, {
        onMessages: (_room, messages) => {
          got.push(...messages);
          arrived();
        },
        onError: (message) => errors.push(message),
      });
      try {
        await follower.ready;
        follower.follow(general.id, first);
        const until = (count: number) =>
          new Promise<void>((resolve, reject) => {
            const timer = setTimeout(
              () => reject(new Error(`only ${got.length} of ${count}`)),
              10_000,
            );
            arrived = () => {
              if (got.length >= count) {
                clearTimeout(timer);
                resolve();
              }
            };
            arrived();
          });
        await alice.store.addMessage(other.id, alice.user.id, "elsewhere");
        for (let i = 0; i < 30; i++) {
          await alice.store.addMessage(general.id, alice.user.id, `live ${i}`);
        }
        await until(30);
        assert.deepEqual(got.map((m) => m.text), Array.from({ length: 30 }, (_, i) => `live ${i}`));
        follower.unfollow();
        await alice.store.addMessage(general.id, alice.user.id, "after unfollow");
        follower.follow(other.id, 0);
        await until(31);
        assert.deepEqual(got.slice(30).map((m) => m.text), ["elsewhere"]);
        assert.deepEqual(errors, []);
      } finally {
        follower.close();
      }
    },
  });

  Deno.test({
    name: `[${name}] changed() tells an open menu when another account wrote`,
    ignore,
    async fn() {
      await using subject = await make();
      await subject.register("alice");
      await subject.register("bob");
      await using alice = await logIn(subject.backend, "alice");
      const elsewhere = subject.another();
      await using bob = await logIn(elsewhere, "bob");
      await alice.store.changed();
      assert.equal(await alice.store.changed(), false);
      await bob.store.createRoom("news", bob.user.id);
      assert.equal(await alice.store.changed(), true);
      assert.equal(await alice.store.changed(), false);
      await elsewhere.close();
    },
  });
}
