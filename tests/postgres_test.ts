// PostgreSQL as the trust boundary: the server refuses what one member writes
// in another's name, orders concurrent senders, and survives a restart under
// load; and the real program on it, through deno task chat:pg.
import assert from "node:assert/strict";
import type postgres from "postgres";
import type { Message } from "../lib/model.ts";
import { groupRole, PG_MIGRATIONS, PG_SCHEMA_VERSION } from "../lib/postgres_schema.ts";
import type { Follower, Session } from "../lib/store.ts";
import { PG_ADMIN, psqlAs, tempPg } from "./_postgres.ts";
import { chatPgRun, runChat, Running } from "./_run.ts";

const ignore = !PG_ADMIN;
const PG_DATA = Deno.env.get("CHATROOM_TEST_PG_DATA");

/** pg_ctl of the newest PostgreSQL Debian installed. */
function pgCtl(): string {
  const versions = [...Deno.readDirSync("/usr/lib/postgresql")].map((e) => e.name)
    .sort((a, b) => Number(a) - Number(b));
  return `/usr/lib/postgresql/${versions.at(-1)}/bin/pg_ctl`;
}

/** Runs `deno task chat:pg ...args`, as a member on another host would. */
function chatPg(args: string[], env: Record<string, string>, stdin?: string) {
  return runChat(args, { env, stdin, task: "chat:pg" });
}

/** Collects what a follower delivers, and waits for a count. */
function collect(follower: () => Follower) {
  const got: Message[] = [];
  const notices: string[] = [];
  let wake = () => {};
  const made = follower();
  made.handlers = {
    onMessages: (_room, messages) => {
      got.push(...messages);
      wake();
    },
    onError: (message) => {
      notices.push(message);
      wake();
    },
  };
  const until = (done: () => boolean, what: string, ms = 30_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      wake = () => {
        if (!done()) return;
        clearTimeout(timer);
        resolve();
      };
      wake();
    });
  return { follower: made, got, notices, until };
}

/** Asserts that the server refuses `query` with an error matching `reason`. */
async function refused(query: () => Promise<unknown>, reason: RegExp): Promise<void> {
  await assert.rejects(query(), (err: Error) => reason.test(err.message), String(query));
}

Deno.test({
  name:
    "a member with psql in hand cannot post as another, change others' rows or drain their limit",
  ignore,
  async fn() {
    await using pg = await tempPg();
    await pg.backend.register("alice", "alice-password");
    await pg.backend.register("bob", "bob-password");
    const alice = await pg.backend.logIn("alice", "alice-password");
    const room = await alice.store.createRoom("general", alice.user.id);
    await alice.store.addMessage(room.id, alice.user.id, "alice's own");
    await pg.backend.logOut(alice);
    // Bob connects with his own credentials, as psql would, and tries everything.
    const bob = await psqlAs(pg, "bob", "bob-password");
    try {
      const aliceId = alice.user.id;
      await refused(
        () =>
          bob`INSERT INTO chatroom.messages (room_id, user_id, text) VALUES (${room.id}, ${aliceId}, 'forged')`,
        /row-level security/,
      );
      await refused(() => bob`UPDATE chatroom.messages SET text = 'edited'`, /permission denied/);
      await refused(() => bob`DELETE FROM chatroom.messages`, /permission denied/);
      await refused(
        () =>
          bob`INSERT INTO chatroom.rooms (name, name_key, skeleton, created_by) VALUES ('x', 'x', 'x', ${aliceId})`,
        /row-level security/,
      );
      await refused(
        () => bob`UPDATE chatroom.users SET name = 'bob' WHERE id = ${aliceId}`,
        /permission denied/,
      );
      await refused(() => bob`SELECT chatroom.spend(${aliceId}, 'message')`, /permission denied/);
      await refused(
        () => bob`SELECT chatroom.create_account('x', 'y', 'z', 'z', 'z')`,
        /permission denied/,
      );
      await refused(() => bob`SELECT * FROM chatroom.allowances`, /permission denied/);
      await refused(
        () =>
          bob`INSERT INTO chatroom.messages (room_id, user_id, text) VALUES (${room.id}, (SELECT chatroom.me()), ${"\x1b[2J"})`,
        /check constraint/,
      );
      await refused(() => bob`CREATE TABLE chatroom.planted (x int)`, /permission denied/);
      // A definer trigger function on a table of his own would run as the owner, on his rows.
      await bob`CREATE TEMP TABLE fake (id bigint, room_id bigint, user_id bigint, text text, sent_at bigint)`;
      await refused(
        () =>
          bob`CREATE TRIGGER steal BEFORE INSERT ON fake FOR EACH ROW EXECUTE FUNCTION chatroom.before_message()`,
        /permission denied for function chatroom.before_message/,
      );
      await refused(
        () =>
          bob`CREATE TRIGGER steal BEFORE INSERT ON fake FOR EACH ROW EXECUTE FUNCTION chatroom.before_room()`,
        /permission denied for function chatroom.before_room/,
      );
      // Rooms whose key is not their name, or whose name has a space, are not rooms.
      for (const [name, key] of [["General", "zz1"], ["general ", "general "], ["decoy", "ops"]]) {
        await refused(
          () =>
            bob`INSERT INTO chatroom.rooms (name, name_key, skeleton, created_by)
            VALUES (${name}, ${key}, ${key + "-skeleton"}, chatroom.me())`,
          /check constraint/,
        );
      }
      await refused(
        () =>
          bob`INSERT INTO chatroom.messages (room_id, user_id, text) VALUES (${room.id}, chatroom.me(), ${"\u3000\ufeff\u00a0"})`,
        /check constraint/,
      );
      // What he may do: post as himself, with the server's clock and numbering.
      const [own] = await bob`INSERT INTO chatroom.messages (id, room_id, user_id, text)
        VALUES (1, ${room.id}, chatroom.me(), 'his own') RETURNING id`.catch(() => [undefined]);
      assert.equal(own, undefined, "he cannot even choose the id");
      await bob`INSERT INTO chatroom.messages (room_id, user_id, text) VALUES (${room.id}, chatroom.me(), 'his own')`;
    } finally {
      await bob.end();
    }
    const [{ texts }] = await pg
      .owner`SELECT array_agg(m.text || ' by ' || u.name ORDER BY m.id) AS texts
      FROM chatroom.messages m JOIN chatroom.users u ON u.id = m.user_id`;
    assert.deepEqual(texts, ["alice's own by alice", "his own by bob"]);
  },
});

Deno.test({
  name:
    "another member's open transaction holding a room's lock delays a send by seconds, not for ever",
  ignore,
  async fn() {
    await using pg = await tempPg();
    await pg.backend.register("alice", "alice-password");
    await pg.backend.register("bob", "bob-password");
    const alice = await pg.backend.logIn("alice", "alice-password");
    const bob = await pg.backend.logIn("bob", "bob-password");
    try {
      const room = await alice.store.createRoom("general", alice.user.id);
      const held = (bob.store as unknown as { sql: postgres.Sql }).sql.reserve();
      const connection = await held;
      await connection`BEGIN`;
      await connection`INSERT INTO messages (room_id, user_id, text) VALUES (${room.id}, chatroom.me(), 'held')`;
      await assert.rejects(
        Promise.resolve(alice.store.addMessage(room.id, alice.user.id, "mine")),
        /The server did not answer in time: another session holds what this needs locked/,
      );
      await connection`ROLLBACK`;
      connection.release();
      await alice.store.addMessage(room.id, alice.user.id, "mine, once it is let go");
    } finally {
      await pg.backend.logOut(alice);
      await pg.backend.logOut(bob);
    }
  },
});

Deno.test({
  name: "20 concurrent senders: a follower gets every message once, in the order stored",
  ignore,
  async fn() {
    await using pg = await tempPg();
    const senders: Session[] = [];
    for (let i = 0; i < 20; i++) {
      await pg.backend.register(`s${i}`, `s${i}-password`);
      senders.push(await pg.backend.logIn(`s${i}`, `s${i}-password`));
    }
    await pg.backend.register("reader", "reader-password");
    const reader = await pg.backend.logIn("reader", "reader-password");
    const room = await reader.store.createRoom("load", reader.user.id);
    const { follower, got, until } = collect(() => pg.backend.follower(reader.store));
    try {
      await follower.ready;
      follower.follow(room.id, 0);
      await Promise.all(senders.map(async ({ store, user }, s) => {
        for (let i = 0; i < 50; i++) await store.addMessage(room.id, user.id, `s${s} ${i}`);
      }));
      await until(() => got.length >= 1000, "1000 messages");
      const stored = await reader.store.messagesAfter(room.id, 0, 2000);
      assert.equal(stored.length, 1000);
      assert.deepEqual(got.map((m) => m.id), stored.map((m) => m.id), "all, once, in id order");
      for (let s = 0; s < 20; s++) {
        const mine = got.filter((m) => m.text.startsWith(`s${s} `)).map((m) => m.text);
        assert.deepEqual(mine, Array.from({ length: 50 }, (_, i) => `s${s} ${i}`));
      }
    } finally {
      follower.close();
      for (const session of [...senders, reader]) await pg.backend.logOut(session);
    }
  },
});

Deno.test({
  name: "a server restart under load: the follower says so, reconnects, misses and repeats nothing",
  ignore: ignore || !PG_DATA,
  async fn() {
    await using pg = await tempPg();
    await pg.backend.register("alice", "alice-password");
    await pg.backend.register("bob", "bob-password");
    const alice = await pg.backend.logIn("alice", "alice-password");
    const bob = await pg.backend.logIn("bob", "bob-password");
    const room = await alice.store.createRoom("general", alice.user.id);
    const { follower, got, notices, until } = collect(() => pg.backend.follower(bob.store));
    const stored: number[] = [];
    const failed: string[] = [];
    let sending = true;
    const sender = (async () => {
      for (let i = 0; sending; i++) {
        try {
          stored.push(await alice.store.addMessage(room.id, alice.user.id, `m${i}`));
        } catch (err) {
          failed.push((err as Error).message); // reported to the sender, who may send again
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    try {
      await follower.ready;
      follower.follow(room.id, 0);
      await until(() => got.length >= 20, "messages before the restart");
      const restart = new Deno.Command("runuser", {
        args: [
          "-u",
          "postgres",
          "--",
          pgCtl(),
          "-D",
          PG_DATA!,
          "-m",
          "fast",
          "-w",
          "restart",
        ],
        stdout: "null",
        stderr: "piped",
      }).outputSync();
      assert.ok(restart.success, new TextDecoder().decode(restart.stderr));
      await until(() => notices.some((n) => /again/.test(n)), "the reconnection");
      const before = stored.length;
      await until(() => stored.length >= before + 20, "sending again", 30_000);
      sending = false;
      await sender;
      await until(() => got.length >= stored.length, "every stored message");
      assert.deepEqual(got.map((m) => m.id), stored, "each once, in order");
      assert.ok(
        failed.every((m) => /Cannot reach the PostgreSQL server|terminat/.test(m)),
        failed.join("\n"),
      );
      assert.ok(
        notices.some((n) => /Lost the connection to the server; reconnecting/.test(n)),
        notices.join("\n"),
      );
    } finally {
      sending = false;
      await sender;
      follower.close();
      await pg.backend.logOut(alice);
      await pg.backend.logOut(bob);
    }
  },
});

Deno.test({
  name: "the real program on PostgreSQL: setup twice, register, send, tail, rooms, export",
  ignore,
  async fn() {
    await using pg = await tempPg();
    const env = { ...pg.ownerEnv, CHATROOM_DB: pg.url };
    const again = await chatPg(["setup"], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`is up to date \\(schema ${PG_SCHEMA_VERSION}\\)`));
    for (const name of ["alice", "bot"]) {
      const made = await chatPg(["register", "--user", name], {
        ...env,
        CHATROOM_PASSWORD: `${name}-password`,
      });
      assert.equal(made.code, 0, made.stderr);
      assert.equal(made.stdout, `Created account ${name}\n`);
    }
    // Members need no owner's credentials: only the URL and their own password.
    const member = (name: string) => ({
      CHATROOM_DB: pg.url,
      CHATROOM_PG_ADDR: pg.address,
      CHATROOM_PASSWORD: `${name}-password`,
    });
    const sent = await chatPg(
      ["send", "--user", "bot", "--room", "ops"],
      member("bot"),
      "one\ntwo\n",
    );
    assert.equal(sent.code, 0, sent.stderr);
    await using tail = new Running(
      ["tail", "--user", "alice", "--room", "ops", "--json"],
      member("alice"),
      {
        command: chatPgRun(pg.address),
      },
    );
    assert.deepEqual([
      JSON.parse(await tail.nextLine()).text,
      JSON.parse(await tail.nextLine()).text,
    ], ["one", "two"]);
    await chatPg(["send", "--user", "bot", "--room", "ops", "live"], member("bot"));
    assert.equal(JSON.parse(await tail.nextLine()).text, "live");

    const wrong = await chatPg(["send", "--user", "bot", "--room", "ops", "x"], {
      ...member("bot"),
      CHATROOM_PASSWORD: "nope",
    });
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stderr, "chatroom: Wrong password for bot, or no such account\n");
    const rooms = await chatPg(["rooms", "--json"], env);
    assert.equal(rooms.code, 0, rooms.stderr);
    assert.deepEqual(
      JSON.parse(rooms.stdout).map((r: { room: string; messages: number }) => [r.room, r.messages]),
      [["ops", 3]],
    );
    const exported = await chatPg(["export", "--room", "ops", "--format", "json"], env);
    assert.deepEqual(JSON.parse(exported.stdout).map((m: { text: string }) => m.text), [
      "one",
      "two",
      "live",
    ]);
  },
});

Deno.test({
  name: "setup upgrades a schema 1 database in place: its messages stay, the rate limit holds",
  ignore,
  async fn() {
    await using pg = await tempPg();
    // The database as chatroom's first PostgreSQL schema left it, with one message.
    const database = new URL(pg.url).pathname.slice(1);
    await pg.owner.unsafe(
      `DROP SCHEMA chatroom CASCADE; ${PG_MIGRATIONS[0](await groupRole(database))}
      UPDATE chatroom.schema_version SET version = 1`,
    );
    const [{ id: oldId }] = await pg.owner`INSERT INTO chatroom.users
      (name, name_key, skeleton, role, created_at) VALUES ('old', 'old', 'old', 'old', 0) RETURNING id`;
    const [room] = await pg.owner`INSERT INTO chatroom.rooms (name, name_key, skeleton, created_by)
      VALUES ('general', 'general', 'general', ${oldId}) RETURNING id`;
    await pg.owner`INSERT INTO chatroom.messages (room_id, user_id, text)
      VALUES (${room.id}, ${oldId}, 'from schema 1')`;

    const setup = await chatPg(["setup"], { ...pg.ownerEnv, CHATROOM_DB: pg.url });
    assert.equal(setup.code, 0, setup.stderr);
    assert.match(setup.stdout, new RegExp(`schema 1 to ${PG_SCHEMA_VERSION}`));
    await pg
      .owner`INSERT INTO chatroom.settings VALUES ('message_burst', 1), ('messages_per_second', 1)`;
    await pg.backend.register("alice", "alice-password");
    const session = await pg.backend.logIn("alice", "alice-password");
    try {
      await session.store.addMessage(room.id, session.user.id, "after the upgrade");
      await assert.rejects(
        async () => await session.store.addMessage(room.id, session.user.id, "over the burst"),
        (err: Error & { waitMs?: number }) =>
          /sending too fast/.test(err.message) && err.waitMs! > 0 && err.waitMs! <= 1000,
      );
      const shown = await session.store.recentMessages(room.id);
      assert.deepEqual(shown.map((m) => m.text), ["from schema 1", "after the upgrade"]);
      assert.ok(shown[0].id < shown[1].id && shown[0].sentAt <= shown[1].sentAt);
    } finally {
      await pg.backend.logOut(session);
    }
  },
});

Deno.test({
  name:
    "a member with psql in hand learns nothing of a conversation of others: no text, no squatting",
  ignore,
  async fn() {
    await using pg = await tempPg();
    for (const name of ["alice", "bob", "mallory"]) {
      await pg.backend.register(name, `${name}-password`);
    }
    const alice = await pg.backend.logIn("alice", "alice-password");
    await alice.store.createRoom("lobby", alice.user.id);
    const direct = await alice.store.openDirect(alice.user.id, "bob");
    const [secretId] = [
      await alice.store.addMessage(direct.id, alice.user.id, "SECRET 9911 @mallory"),
    ];
    await pg.backend.logOut(alice);
    const mallory = await psqlAs(pg, "mallory", "mallory-password");
    try {
      // The plan of a query on the hidden row is the same whether her guess is right or not:
      // the policy is a look at the row itself, in the same filter as her conditions.
      const plan = async (guess: string) =>
        (await mallory.unsafe(
          `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
           SELECT 1 FROM chatroom.messages WHERE id = ${secretId} AND text COLLATE "C" >= '${guess}'`,
        )).map((row) => row["QUERY PLAN"]).join("\n").replaceAll(guess, "GUESS");
      assert.equal(await plan("SECRET"), await plan("ZZZ"));
      assert.equal((await plan("SECRET")).includes("SubPlan"), false);
      // Nor do the planner's estimates, which come from statistics of every row: none are kept
      // of texts (an attack read a conversation's words from the search index's common words).
      await pg.owner`ANALYZE`;
      const estimate = async (where: string) =>
        (await mallory.unsafe(`EXPLAIN SELECT 1 FROM chatroom.messages WHERE ${where}`))
          .map((row) => row["QUERY PLAN"]).join("\n").replace(/'[^']*'/g, "'…'");
      for (
        const [right, wrong] of [
          [
            "to_tsvector('simple', text) @@ '!secret'::tsquery",
            "to_tsvector('simple', text) @@ '!zzzz'::tsquery",
          ],
          ["text < 'SECRET 9912'", "text < 'AAAA'"],
        ]
      ) {
        assert.equal(await estimate(right), await estimate(wrong), right);
      }
      assert.equal((await mallory`SELECT id FROM chatroom.messages`).length, 0);
      assert.deepEqual((await mallory`SELECT name FROM chatroom.rooms`).map((r) => r.name), [
        "lobby",
      ]);
      assert.equal((await mallory`SELECT * FROM chatroom.search('SECRET', NULL, 20)`).length, 0);
      assert.equal(
        (await mallory`SELECT * FROM chatroom.search('SECRET', ${direct.id}, 20)`).length,
        0,
        "asked for the conversation itself: nothing, before anything is read",
      );
      assert.equal((await mallory`SELECT * FROM chatroom.mentions`).length, 0, "not named there");
      // Writing into it, a topic that fails with the room's row in the detail, or moving in.
      await refused(
        () =>
          mallory`INSERT INTO chatroom.messages (room_id, user_id, text) VALUES (${direct.id}, chatroom.me(), 'hi')`,
        /no such room/,
      );
      await refused(
        () =>
          mallory`INSERT INTO chatroom.messages (room_id, user_id, text, kind)
            VALUES (${direct.id}, chatroom.me(), ${"x".repeat(400)}, 'topic')`,
        /no such room/,
      );
      await refused(
        () =>
          mallory`INSERT INTO chatroom.presence (client, user_id, room_id) VALUES ('m', chatroom.me(), ${direct.id})`,
        /no such room/,
      );
      // A mention of alice on a message of her own that does not name alice.
      const [plain] = await mallory`INSERT INTO chatroom.messages (room_id, user_id, text)
        SELECT id, chatroom.me(), 'nothing to see' FROM chatroom.rooms WHERE name = 'lobby'
        RETURNING id, room_id`;
      await refused(
        () => mallory`INSERT INTO chatroom.mentions VALUES (1, ${plain.room_id}, ${plain.id})`,
        /row-level security/,
      );
      // Taking the name or the skeleton a conversation of two others would have.
      const [{ a, b }] = await pg
        .owner`SELECT dm_a AS a, dm_b AS b FROM chatroom.rooms WHERE dm_a IS NOT NULL`;
      await refused(
        () =>
          mallory`INSERT INTO chatroom.rooms (name, name_key, skeleton, created_by)
            VALUES ('squat', 'squat', ${`@${a}+${Number(b) + 5}`}, chatroom.me())`,
        /check constraint/,
      );
      // A room name that passes for another's: an invisible character in it.
      await refused(
        () =>
          mallory`INSERT INTO chatroom.rooms (name, name_key, skeleton, created_by)
            VALUES (${"lobby\u200b"}, ${"lobby\u200b"}, 'fake', chatroom.me())`,
        /check constraint/,
      );
      // Nor with a conversation of her own, with alice, that has the skeleton of alice and bob's.
      const [{ me }] = await mallory`SELECT chatroom.me() AS me`;
      const own = `@${a}+${me}`;
      await refused(
        () =>
          mallory`INSERT INTO chatroom.rooms (name, name_key, skeleton, created_by, dm_a, dm_b)
            VALUES (${own}, ${own}, ${`@${a}+${Number(me) + 1}`}, ${me}, ${a}, ${me})`,
        /check constraint/,
      );
    } finally {
      await mallory.end();
    }
    const [{ n }] = await pg.owner`SELECT count(*)::int AS n FROM chatroom.mentions`;
    assert.equal(n, 0, "naming someone outside a conversation notes nothing for them");
  },
});
