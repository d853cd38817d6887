// Presence, unread counts, mentions, direct conversations, /me, /topic, history
// and search: the same from both backends, through the store and the follower.
import assert from "node:assert/strict";
import type { Presence, Unread } from "../lib/model.ts";
import { assertRejectsChatError } from "./_helpers.ts";
import { BACKENDS, logIn, members } from "./_subjects.ts";

/** Waits until `ready()` holds, looking every 20 ms; fails with `what` after `ms` (10 s). */
async function until(ready: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const { name, ignore, make } of BACKENDS) {
  Deno.test({
    name: `[${name}] /me and /topic lines: stored with their kind, the topic kept by the room`,
    ignore,
    async fn() {
      await using subject = await make();
      await subject.register("alice");
      await using alice = await logIn(subject.backend, "alice");
      const { store, user } = alice;
      const room = await store.createRoom("general", user.id);
      await store.addMessage(room.id, user.id, "waves", "me");
      await store.addMessage(room.id, user.id, "Release on Friday", "topic");
      await store.addMessage(room.id, user.id, "plain");
      const shown = await store.recentMessages(room.id);
      assert.deepEqual(shown.map((m) => [m.kind, m.text]), [
        ["me", "waves"],
        ["topic", "Release on Friday"],
        ["text", "plain"],
      ]);
      assert.equal((await store.findRoom("general"))?.topic, "Release on Friday");
      assert.equal((await store.listRooms())[0].topic, "Release on Friday");
      await assertRejectsChatError(
        Promise.resolve().then(() => store.addMessage(room.id, user.id, "two\nlines", "topic")),
        "A topic is one line",
      );
      await assertRejectsChatError(
        Promise.resolve().then(() => store.addMessage(room.id, user.id, "x".repeat(301), "topic")),
        "the limit is 300",
      );
      assert.equal((await store.findRoom("general"))?.topic, "Release on Friday");
    },
  });

  Deno.test({
    name: `[${name}] messagesBefore() pages back through history, oldest first`,
    ignore,
    async fn() {
      await using subject = await make();
      await subject.register("alice");
      await using alice = await logIn(subject.backend, "alice");
      const { store, user } = alice;
      const room = await store.createRoom("general", user.id);
      const ids: number[] = [];
      for (let i = 1; i <= 12; i++) ids.push(await store.addMessage(room.id, user.id, `m${i}`));
      const page = await store.messagesBefore(room.id, ids[9], 5);
      assert.deepEqual(page.map((m) => m.text), ["m5", "m6", "m7", "m8", "m9"]);
      const first = await store.messagesBefore(room.id, page[0].id, 5);
      assert.deepEqual(first.map((m) => m.text), ["m1", "m2", "m3", "m4"]);
      assert.deepEqual(await store.messagesBefore(room.id, ids[0], 5), []);
    },
  });

  Deno.test({
    name:
      `[${name}] search: every word, newest first, in a room or all; others' conversations never`,
    ignore,
    async fn() {
      await using subject = await make();
      await using people = await members(subject, "alice", "bob", "carol");
      const [alice, bob, carol] = people;
      const general = await alice.store.createRoom("general", alice.user.id);
      const ops = await alice.store.createRoom("ops", alice.user.id);
      await alice.store.addMessage(general.id, alice.user.id, "the deploy failed at noon");
      await bob.store.addMessage(ops.id, bob.user.id, "Deploy FAILED again, sorry");
      await bob.store.addMessage(ops.id, bob.user.id, "deploy worked");
      const direct = await alice.store.openDirect(alice.user.id, "bob");
      await alice.store.addMessage(direct.id, alice.user.id, "secret: the deploy failed twice");

      const everywhere = await carol.store.search("deploy failed", { userId: carol.user.id });
      assert.deepEqual(everywhere.map((m) => [m.roomName, m.userName, m.text]), [
        ["ops", "bob", "Deploy FAILED again, sorry"],
        ["general", "alice", "the deploy failed at noon"],
      ]);
      const inGeneral = await carol.store.search("failed deploy", {
        userId: carol.user.id,
        roomId: general.id,
      });
      assert.deepEqual(inGeneral.map((m) => m.text), ["the deploy failed at noon"]);
      const forBob = await bob.store.search("failed", { userId: bob.user.id });
      assert.deepEqual(forBob.map((m) => m.roomName), ["@alice", "ops", "general"]);
      assert.deepEqual(
        await carol.store.search('"quotes" AND OR NEAR(', { userId: carol.user.id }),
        [],
        "what is typed is words, never the search engine's syntax",
      );
      await assertRejectsChatError(
        Promise.resolve().then(() => carol.store.search("  !! ", { userId: carol.user.id })),
        "Search for what?",
      );
    },
  });

  Deno.test({
    name:
      `[${name}] direct conversations: one per pair, named for the other, listed to its two only`,
    ignore,
    async fn() {
      await using subject = await make();
      await using people = await members(subject, "alice", "bob", "carol");
      const [alice, bob, carol] = people;
      await alice.store.createRoom("general", alice.user.id);
      const mine = await alice.store.openDirect(alice.user.id, "BOB");
      assert.equal(mine.name, "@bob");
      const theirs = await bob.store.openDirect(bob.user.id, "alice");
      assert.equal(theirs.id, mine.id);
      assert.equal(theirs.name, "@alice");
      await bob.store.addMessage(theirs.id, bob.user.id, "just for you");

      const names = async (session: typeof alice) =>
        (await session.store.listRooms({ userId: session.user.id })).map((r) => r.name).sort();
      assert.deepEqual(await names(alice), ["@bob", "general"]);
      assert.deepEqual(await names(carol), ["general"]);
      assert.deepEqual((await carol.store.listRooms()).map((r) => r.name), ["general"]);
      assert.equal(await carol.store.countRooms(undefined, carol.user.id), 1);
      assert.equal(await alice.store.countRooms(undefined, alice.user.id), 2);
      assert.equal(await carol.store.findRoom(`@${mine.id}`), undefined);
      if (name === "postgres") {
        // The server itself refuses: carol with the room's id in hand reads and writes nothing.
        assert.deepEqual(await carol.store.messagesAfter(mine.id, 0), []);
        await assert.rejects(
          Promise.resolve().then(() => carol.store.addMessage(mine.id, carol.user.id, "hi")),
        );
      }
      await assertRejectsChatError(
        Promise.resolve().then(() => alice.store.openDirect(alice.user.id, "alice")),
        "That is you",
      );
      await assertRejectsChatError(
        Promise.resolve().then(() => alice.store.openDirect(alice.user.id, "nobody")),
        'There is no account named "nobody"',
      );
    },
  });

  Deno.test({
    name: `[${name}] presence: announced, moved and gone; one entry per account and room`,
    ignore,
    async fn() {
      await using subject = await make();
      await using people = await members(subject, "alice", "bob");
      const [alice, bob] = people;
      const general = await alice.store.createRoom("general", alice.user.id);
      const seen = async () =>
        (await alice.store.present()).map((p) => `${p.userName}@${p.roomId ?? "menus"}`);
      await alice.store.announce("a1", alice.user.id, general.id);
      await alice.store.announce("a2", alice.user.id, general.id); // a second terminal
      await bob.store.announce("b1", bob.user.id, null);
      assert.deepEqual(await seen(), [`alice@${general.id}`, "bob@menus"]);
      await bob.store.announce("b1", bob.user.id, general.id);
      await alice.store.depart("a1");
      assert.deepEqual(await seen(), [`alice@${general.id}`, `bob@${general.id}`]);
      await alice.store.depart("a2");
      await bob.store.depart("b1");
      assert.deepEqual(await seen(), []);
    },
  });

  Deno.test({
    name:
      `[${name}] unread: counted past the marker, others' messages only; mentions from any room`,
    ignore,
    async fn() {
      await using subject = await make();
      for (const who of ["alice", "bob", "carol"]) await subject.register(who);
      await using alice = await logIn(subject.backend, "alice");
      await using bob = await logIn(subject.backend, "bob");
      const general = await alice.store.createRoom("general", alice.user.id);
      const ops = await bob.store.createRoom("ops", bob.user.id); // alice was never in it
      const seen = await alice.store.addMessage(general.id, alice.user.id, "hello");
      await alice.store.markRead(alice.user.id, general.id, seen);
      assert.equal(await alice.store.lastRead(alice.user.id, general.id), seen);
      assert.deepEqual(await alice.store.unread(alice.user.id), []);

      await alice.store.addMessage(general.id, alice.user.id, "my own is never news");
      await bob.store.addMessage(general.id, bob.user.id, "one");
      const two = await bob.store.addMessage(general.id, bob.user.id, "two @ALICE, look");
      await bob.store.addMessage(ops.id, bob.user.id, "busy room alice never joined");
      await bob.store.addMessage(ops.id, bob.user.id, "@alice: urgent, @alice!");
      await bob.store.addMessage(ops.id, bob.user.id, "@carol only");
      const counts = (unread: Unread[]) =>
        unread.map((u) => [u.room.name, u.unread, u.mentions]).sort();
      assert.deepEqual(counts(await alice.store.unread(alice.user.id)), [
        ["general", 2, 1],
        ["ops", 1, 1], // a room never visited: only what names you
      ]);
      await alice.store.markRead(alice.user.id, general.id, two);
      await alice.store.markRead(alice.user.id, general.id, seen); // never back
      assert.equal(await alice.store.lastRead(alice.user.id, general.id), two);
      assert.deepEqual(counts(await alice.store.unread(alice.user.id)), [["ops", 1, 1]]);

      const direct = await bob.store.openDirect(bob.user.id, "alice");
      await bob.store.addMessage(direct.id, bob.user.id, "psst");
      assert.deepEqual(counts(await alice.store.unread(alice.user.id)), [
        ["@bob", 1, 0],
        ["ops", 1, 1],
      ]);
    },
  });

  Deno.test({
    name: `[${name}] the bell: on until turned off, per account`,
    ignore,
    async fn() {
      await using subject = await make();
      await using people = await members(subject, "alice", "bob");
      const [alice, bob] = people;
      assert.equal(await alice.store.bell(alice.user.id), true);
      await alice.store.setBell(alice.user.id, false);
      assert.equal(await alice.store.bell(alice.user.id), false);
      assert.equal(await bob.store.bell(bob.user.id), true);
      await alice.store.setBell(alice.user.id, true);
      assert.equal(await alice.store.bell(alice.user.id), true);
    },
  });

  Deno.test({
    name: `[${name}] a watching follower reports arrivals, departures and news from other rooms`,
    ignore,
    async fn() {
      await using subject = await make();
      for (const who of ["alice", "bob"]) await subject.register(who);
      await using alice = await logIn(subject.backend, "alice");
      const elsewhere = subject.another();
      await using bob = await logIn(elsewhere, "bob");
      const general = await alice.store.createRoom("general", alice.user.id);
      const ops = await alice.store.createRoom("ops", alice.user.id);
      await alice.store.markRead(alice.user.id, ops.id, 0);
      let present: Presence[] = [];
      let unread: Unread[] = [];
      const errors: string[] = [];
      const follower = subject.backend.follower(alice.store, {
        onMessages: () => {},
        onError: (message) => errors.push(message),
        onPresence: (now) => present = now,
        onUnread: (now) => unread = now,
      });
      try {
        await follower.ready;
        follower.follow(general.id, 0);
        follower.watch(alice.user.id);
        await bob.store.announce("b1", bob.user.id, general.id);
        await until(() => present.some((p) => p.userName === "bob"), "bob to arrive");
        // What follows is told as it happens, not at the next full look (every 4 s on SQLite,
        // 5 s on PostgreSQL): each deadline is shorter than that.
        const soon = 3_000;
        await bob.store.addMessage(ops.id, bob.user.id, "@alice over here");
        await until(() => unread.length === 1 && unread[0].mentions === 1, "the mention", soon);
        assert.equal(unread[0].room.name, "ops");
        // A message in the followed room is shown, not news; alice reading ops (in another
        // terminal) clears ops's: at once on SQLite, by the backstop on PostgreSQL.
        const last = await bob.store.addMessage(general.id, bob.user.id, "here too");
        await alice.store.markRead(alice.user.id, ops.id, last);
        await until(() => unread.length === 0, "ops to be read", name === "sqlite" ? soon : 10_000);
        await bob.store.announce("b1", bob.user.id, ops.id);
        await until(
          () => present.some((p) => p.userName === "bob" && p.roomName === "ops"),
          "bob to move",
          soon,
        );
        await bob.store.depart("b1");
        await until(() => present.length === 0, "bob to leave", soon);
        assert.deepEqual(errors, []);
      } finally {
        follower.close();
        await elsewhere.close();
      }
    },
  });
}
