// send, tail, rooms and export, run as separate processes on one file.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openSqliteStore as openStore } from "../lib/sqlite_store.ts";
import { hotJournal, locksHeld, tempDir } from "./_helpers.ts";
import { BEDS } from "./_beds.ts";
import { runChat, Running } from "./_run.ts";

async function setUp(dir: string) {
  const db = `${dir}/chat.db`;
  for (const name of ["alice", "bot"]) {
    const run = await runChat(["register", "--user", name], {
      env: { CHATROOM_DB: db, CHATROOM_PASSWORD: `${name}-password` },
    });
    assert.equal(run.code, 0, run.stderr);
  }
  return {
    db,
    as: (name: string) => ({ CHATROOM_DB: db, CHATROOM_PASSWORD: `${name}-password` }),
  };
}

const STAMP = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;

Deno.test("chatroom tail in a pipe prints plain lines and exits 0 on Ctrl-C", async () => {
  using dir = tempDir();
  const { as } = await setUp(dir.path);
  const sent = await runChat(["send", "--user", "alice", "--room", "ops", "\x1b[2Jhello"], {
    env: as("alice"),
  });
  assert.match(sent.stderr, /control character \(U\+001B\)/, "our own send refuses escapes");
  // Another member writes the escape straight into the file.
  const db = new DatabaseSync(`${dir.path}/chat.db`);
  db.prepare(
    `INSERT INTO messages (room_id, user_id, text, sent_at) SELECT r.id, u.id, ?, ?
     FROM rooms r, users u WHERE r.name = 'ops' AND u.name = 'alice'`,
  ).run("\x1b[2Jhello", Date.now());
  db.close();
  await using tail = new Running(["tail", "--user", "bot", "--room", "ops"], as("bot"));
  const line = await tail.nextLine();
  const [date, time, ...rest] = line.split(" ");
  assert.match(`${date} ${time}`, STAMP);
  assert.equal(rest.join(" "), "alice: ␛[2Jhello");
  tail.child.kill("SIGINT");
  assert.equal((await tail.child.status).code, 0);
});

Deno.test("chatroom script commands refuse bad usage with exit 2", async (t) => {
  const cases: [string[], string][] = [
    [["send", "--room", "ops", "hi"], "send needs --user NAME"],
    [["tail", "--user", "a"], "tail needs --room ROOM or --with NAME (one of them)"],
    [
      ["tail", "--user", "a", "--room", "b", "--history", "many"],
      '--history takes a whole number of messages, not "many"',
    ],
    [
      ["tail", "--user", "a", "--room", "b", "--history", "-3"],
      "Option '--history' argument is ambiguous; see chatroom --help",
    ],
    [["export", "--room", "a", "--format", "pdf"], '--format takes txt, md, json, not "pdf"'],
    [["rooms", "--room", "a"], "rooms takes no --room"],
    [["--json"], "--json needs a command"],
  ];
  for (const [args, text] of cases) {
    await t.step(args.join(" "), async () => {
      const run = await runChat(args);
      assert.equal(run.code, 2);
      assert.equal(run.stderr, `chatroom: ${text}\n`);
    });
  }
});

Deno.test("a follower keeps SQLite's locks while other processes write and exit", async () => {
  // Watching SQLite's own files made the watcher open and close them, which
  // drops every POSIX lock the process holds on them; another process then
  // truncated the shared memory and the follower died of SIGBUS.
  using dir = tempDir();
  const { db, as } = await setUp(dir.path);
  await runChat(["send", "--user", "alice", "--room", "ops", "first"], { env: as("alice") });
  await using tail = new Running(
    ["tail", "--user", "alice", "--room", "ops", "--json"],
    as("alice"),
  );
  assert.equal(JSON.parse(await tail.nextLine()).text, "first");
  assert.ok(locksHeld(tail.child.pid, `${db}-shm`) > 0, "the follower holds the -shm lock");
  // And the shared lock on the file itself, by which the last connection to close knows it is
  // the last: without it, sqlite3 closing elsewhere removes the -wal and -shm under us.
  assert.ok(locksHeld(tail.child.pid, db) > 0, "the follower holds the database's shared lock");

  for (let i = 1; i <= 3; i++) {
    const run = await runChat(["send", "--user", "bot", "--room", "ops", `write ${i}`], {
      env: as("bot"),
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(await tail.nextLine()).text, `write ${i}`);
    assert.ok(locksHeld(tail.child.pid, `${db}-shm`) > 0, `the lock survives write ${i}`);
    assert.ok(locksHeld(tail.child.pid, db) > 0, `the shared lock survives write ${i}`);
  }
});

Deno.test("a journal planted while a follower runs is never read: nothing it names is deleted", async () => {
  // SQLite plays back a journal it finds when it opens a file, and deletes the
  // "super-journal" it names; in WAL mode it never looks again once open.
  using dir = tempDir();
  const { db, as } = await setUp(dir.path);
  await runChat(["send", "--user", "alice", "--room", "ops", "first"], { env: as("alice") });
  await using tail = new Running(
    ["tail", "--user", "alice", "--room", "ops", "--json"],
    as("alice"),
  );
  assert.equal(JSON.parse(await tail.nextLine()).text, "first");
  const writer = openStore(db); // open before the plant, like the follower
  const precious = `${dir.path}/precious.txt`;
  Deno.writeTextFileSync(precious, "precious\n");
  Deno.removeSync(`${db}-journal`);
  Deno.writeFileSync(`${db}-journal`, hotJournal(precious));
  await runChat(["send", "--user", "bot", "--room", "ops", "second"], { env: as("bot") })
    .then((run) => assert.match(run.stderr, /chat\.db-journal holds a journal/));
  writer.addMessage(writer.findRoom("ops")!.id, writer.findUser("bot")!.id, "third");
  writer.close();
  assert.equal(JSON.parse(await tail.nextLine()).text, "third");
  assert.equal(Deno.readTextFileSync(precious), "precious\n");
});

const STAMP_RE = String.raw`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`;

for (const { name, ignore, make } of BEDS) {
  Deno.test({
    name: `[${name}] chatroom send: TEXT as one message, creating the room, printing nothing`,
    ignore,
    async fn() {
      await using bed = await make();
      await bed.register("bot");
      const run = await bed.run("bot", [
        "send",
        "--user",
        "bot",
        "--room",
        "ops",
        "deploy",
        "done",
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, "");
      assert.equal(run.stderr, "");
      assert.deepEqual(await bed.texts("ops"), ["deploy done"]);
    },
  });

  Deno.test({
    name: `[${name}] chatroom send: each stdin line, password from stdin, bad lines reported`,
    ignore,
    async fn() {
      await using bed = await make();
      await bed.register("bot");
      const long = "x".repeat(4001);
      const run = await bed.run(
        undefined,
        ["send", "--user", "bot", "--room", "ops", "--password-stdin"],
        `bot-password\none\n\n  \ntwo\n${long}\nthree\n`,
      );
      assert.equal(run.code, 1);
      assert.deepEqual(run.stderr.trimEnd().split("\n"), [
        "chatroom: line 5: Message is 4001 characters long; the limit is 4000. Nothing was sent",
        "chatroom: 1 of 6 lines were not sent",
      ]);
      assert.deepEqual(await bed.texts("ops"), ["one", "two", "three"]);
    },
  });

  Deno.test({
    name: `[${name}] chatroom send: lines over the rate wait their turn, said once, none lost`,
    ignore,
    async fn() {
      await using bed = await make();
      await bed.register("alice");
      await bed.register("bot");
      const lines = Array.from({ length: 30 }, (_, i) => `burst ${i + 1}`);
      const run = await bed.run(
        "bot",
        ["send", "--user", "bot", "--room", "ops"],
        lines.join("\n") + "\n",
      );
      assert.equal(run.code, 0, run.stderr);
      // A burst of 20 goes at once; the rest wait for the rate of 5 a second.
      assert.equal(
        run.stderr,
        "chatroom: line 21: over the rate limit; the rest wait their turn\n",
      );
      assert.deepEqual(await bed.texts("ops"), lines);
      // The limit is per account: alice is not slowed by bot's burst.
      const other = await bed.run("alice", ["send", "--user", "alice", "--room", "ops", "hello"]);
      assert.equal(other.code, 0, other.stderr);
      const over = await bed.run("bot", ["send", "--user", "bot", "--room", "ops", "one more"]);
      assert.equal(over.code, 0, "one token has come back since: " + over.stderr);
    },
  });

  Deno.test({
    name: `[${name}] chatroom send: a wrong password sends nothing`,
    ignore,
    async fn() {
      await using bed = await make();
      await bed.register("bot");
      const run = await runChat(["send", "--user", "bot", "--room", "ops", "hi"], {
        env: { ...bed.env(), CHATROOM_PASSWORD: "not-the-password" },
        task: bed.task,
      });
      assert.equal(run.code, 1);
      assert.match(run.stderr, /^chatroom: Wrong password for bot(, or no such account)?\n$/);
      assert.deepEqual(await bed.texts("ops"), []);
    },
  });

  Deno.test({
    name: `[${name}] chatroom tail --json: history, then live messages from a long-lived send pipe`,
    ignore,
    async fn() {
      await using bed = await make();
      await bed.register("alice");
      await bed.register("bot");
      for (const text of ["old 1", "old 2", "old 3"]) {
        await bed.run("alice", ["send", "--user", "alice", "--room", "ops", text]);
      }
      await using tail = new Running(
        ["tail", "--user", "alice", "--room", "ops", "--history", "2", "--json"],
        bed.env("alice"),
        { command: bed.command },
      );
      const first = JSON.parse(await tail.nextLine());
      assert.deepEqual(Object.keys(first), ["id", "room", "user", "text", "sent_at"]);
      assert.equal(first.text, "old 2");
      assert.equal(first.room, "ops");
      assert.equal(first.user, "alice");
      assert.ok(Math.abs(first.sent_at - Date.now()) < 60_000, "sent_at is in ms since the epoch");
      assert.equal(JSON.parse(await tail.nextLine()).text, "old 3");

      // One send process stays open; each line must reach tail before the next is written.
      await using sender = new Running(["send", "--user", "bot", "--room", "ops"], bed.env("bot"), {
        withStdin: true,
        command: bed.command,
      });
      for (let i = 1; i <= 5; i++) {
        await sender.write(`live ${i}`);
        const got = JSON.parse(await tail.nextLine());
        assert.equal(got.text, `live ${i}`);
        assert.equal(got.user, "bot");
      }
      const done = await sender.finish();
      assert.equal(done.code, 0, done.stderr);
    },
  });

  Deno.test({
    name: `[${name}] chatroom tail and export refuse a room that does not exist`,
    ignore,
    async fn() {
      await using bed = await make();
      await bed.register("bot");
      const run = await bed.run("bot", ["tail", "--user", "bot", "--room", "nowhere"]);
      assert.equal(run.code, 1);
      assert.equal(run.stderr, 'chatroom: There is no room named "nowhere"\n');
      const empty = await runChat(["export", "--room", "nowhere"], {
        env: bed.readerEnv,
        task: bed.task,
      });
      assert.equal(empty.code, 1);
      assert.equal(empty.stderr, 'chatroom: There is no room named "nowhere"\n');
    },
  });

  Deno.test({
    name: `[${name}] chatroom rooms: counts and last activity, as a table and as JSON`,
    ignore,
    async fn() {
      await using bed = await make();
      await bed.register("bot");
      for (const [room, text] of [["ops", "a"], ["ops", "b"], ["lobby", "c"]]) {
        await bed.run("bot", ["send", "--user", "bot", "--room", room, text]);
      }
      const options = { env: bed.readerEnv, task: bed.task };
      const json = await runChat(["rooms", "--json"], options);
      assert.equal(json.code, 0, json.stderr);
      const rows = JSON.parse(json.stdout);
      assert.deepEqual(rows.map((r: { room: string; messages: number }) => [r.room, r.messages]), [
        ["lobby", 1],
        ["ops", 2],
      ]);
      assert.ok(rows.every((r: { last_activity: number }) => typeof r.last_activity === "number"));

      const table = await runChat(["rooms"], options);
      const lines = table.stdout.trimEnd().split("\n");
      assert.equal(lines[0], "ROOM   MESSAGES  LAST ACTIVITY");
      assert.match(lines[1], new RegExp(`^lobby {9}1 {2}${STAMP_RE}$`));
      assert.match(lines[2], new RegExp(`^ops {11}2 {2}${STAMP_RE}$`));
    },
  });

  Deno.test({
    name: `[${name}] chatroom export: the whole history as txt, md and json`,
    ignore,
    async fn() {
      await using bed = await make();
      await bed.register("bot");
      const sent = Array.from({ length: 1203 }, (_, i) => `message ${i + 1}`);
      await bed.limit({ burst: 1e9, perSecond: 1e9 }, { burst: 1e9, perSecond: 1e9 });
      await bed.run(
        "bot",
        ["send", "--user", "bot", "--room", "ops"],
        sent.join("\n") + "\nline\nbreak *bold*\n",
      );
      const options = { env: bed.readerEnv, task: bed.task };

      const json = await runChat(["export", "--room", "ops", "--format", "json"], options);
      assert.equal(json.code, 0, json.stderr);
      const all = JSON.parse(json.stdout);
      assert.equal(all.length, 1205);
      assert.deepEqual(all.slice(0, 1203).map((m: { text: string }) => m.text), sent);
      assert.deepEqual(Object.keys(all[0]), ["id", "room", "user", "text", "sent_at"]);

      const txt = await runChat(["export", "--room", "OPS"], options);
      const lines = txt.stdout.trimEnd().split("\n");
      assert.equal(lines.length, 1205);
      assert.match(lines[0], new RegExp(`^${STAMP_RE} bot: message 1$`));

      const md = await runChat(["export", "--room", "ops", "--format", "md"], options);
      const mdLines = md.stdout.trimEnd().split("\n");
      assert.equal(mdLines[0], "# ops");
      assert.match(mdLines.at(-1)!, /^- \*\*bot\*\* · .*: break \\\*bold\\\*$/);
    },
  });

  Deno.test({
    name:
      `[${name}] a message with line breaks: indented continuation lines in tail and export, \\n in json`,
    ignore,
    async fn() {
      await using bed = await make();
      await bed.register("alice");
      await bed.register("bot");
      const text = "first line\n  indented\n2026-01-01 00:00:00 bob: forged";
      const sent = await bed.run("alice", ["send", "--user", "alice", "--room", "ops", text]);
      assert.equal(sent.code, 0, sent.stderr);
      const options = { env: bed.readerEnv, task: bed.task };

      const txt = await runChat(["export", "--room", "ops"], options);
      assert.match(
        txt.stdout,
        new RegExp(
          `^${STAMP_RE} alice: first line\n    indented\n  2026-01-01 00:00:00 bob: forged\n$`,
        ),
        "every line after the first starts with two spaces: a line that starts with a date is a message",
      );
      await using tail = new Running(["tail", "--user", "bot", "--room", "ops"], bed.env("bot"), {
        command: bed.command,
      });
      assert.match(await tail.nextLine(), new RegExp(`^${STAMP_RE} alice: first line$`));
      assert.equal(await tail.nextLine(), "    indented");
      assert.equal(await tail.nextLine(), "  2026-01-01 00:00:00 bob: forged");

      const md = await runChat(["export", "--room", "ops", "--format", "md"], options);
      assert.match(
        md.stdout,
        new RegExp(
          `^# ops\n\n- \\*\\*alice\\*\\* · ${STAMP_RE}: first line\\\\\n    indented\\\\\n  2026-01-01`,
        ),
        "a hard line break (a backslash) inside the list item, continued indented",
      );
      const json = await runChat(["export", "--room", "ops", "--format", "json"], options);
      assert.equal(JSON.parse(json.stdout)[0].text, text);
    },
  });

  Deno.test({
    name: `[${name}] chatroom tail --after resumes after a message id, without gaps or repeats`,
    ignore,
    async fn() {
      await using bed = await make();
      await bed.register("alice");
      await bed.register("bot");
      await bed.run("bot", ["send", "--user", "bot", "--room", "ops"], "one\ntwo\nthree\nfour\n");
      const ids = (await runChat(["export", "--room", "ops", "--format", "json"], {
        env: bed.readerEnv,
        task: bed.task,
      })).stdout;
      const [, second, third, fourth] = JSON.parse(ids).map((m: { id: number }) => m.id);
      await using tail = new Running(
        ["tail", "--user", "alice", "--room", "ops", "--after", String(second), "--json"],
        bed.env("alice"),
        { command: bed.command },
      );
      assert.deepEqual(
        [JSON.parse(await tail.nextLine()), JSON.parse(await tail.nextLine())]
          .map((m) => [m.id, m.text]),
        [[third, "three"], [fourth, "four"]],
      );
      await bed.run("bot", ["send", "--user", "bot", "--room", "ops", "five"]);
      assert.equal(JSON.parse(await tail.nextLine()).text, "five");
    },
  });
}

for (const { name, ignore, make } of BEDS) {
  Deno.test({
    name:
      `[${name}] direct conversations from scripts: send --to, tail --with, rooms --user; others see none`,
    ignore,
    async fn() {
      await using bed = await make();
      for (const who of ["alice", "bob", "carol"]) await bed.register(who);
      // Reading starts no conversation: there is none to follow yet.
      const none = await bed.run("carol", ["tail", "--user", "carol", "--with", "alice"]);
      assert.equal(none.code, 1);
      assert.match(none.stderr, /You have no conversation with alice yet; send --to alice/);
      await bed.run("alice", ["send", "--user", "alice", "--to", "bob", "for bob only"]);
      await using tail = new Running(
        ["tail", "--user", "bob", "--with", "alice", "--json"],
        bed.env("bob"),
        { command: bed.command },
      );
      const got = JSON.parse(await tail.nextLine());
      assert.deepEqual([got.room, got.user, got.text], ["@alice", "alice", "for bob only"]);
      await bed.run("carol", ["send", "--user", "carol", "--room", "general", "public"]);

      const listed = async (who?: string) => {
        const run = who === undefined
          ? await runChat(["rooms", "--json"], { env: bed.readerEnv, task: bed.task })
          : await bed.run(who, ["rooms", "--user", who, "--json"]);
        assert.equal(run.code, 0, run.stderr);
        return JSON.parse(run.stdout).map((r: { room: string }) => r.room).sort();
      };
      assert.deepEqual(await listed("bob"), ["@alice", "general"]);
      assert.deepEqual(await listed("alice"), ["@bob", "general"]);
      assert.deepEqual(await listed("carol"), ["general"]);
      assert.deepEqual(await listed(), ["general"]);

      const usage = await bed.run("alice", [
        "send",
        "--user",
        "alice",
        "--room",
        "x",
        "--to",
        "bob",
      ]);
      assert.equal(usage.code, 2);
      assert.equal(usage.stderr, "chatroom: send needs --room ROOM or --to NAME (one of them)\n");
    },
  });

  Deno.test({
    name:
      `[${name}] chatroom search: newest first, --room, --json; a conversation only for its two`,
    ignore,
    async fn() {
      await using bed = await make();
      for (const who of ["alice", "bob"]) await bed.register(who);
      await bed.run(
        "alice",
        ["send", "--user", "alice", "--room", "ops"],
        "the build is red\nall green\n",
      );
      await bed.run("bob", ["send", "--user", "bob", "--room", "dev", "build red again"]);
      await bed.run("bob", ["send", "--user", "bob", "--to", "alice", "red build, quietly"]);
      const options = { env: bed.readerEnv, task: bed.task };

      const all = await runChat(["search", "RED", "build"], options);
      assert.equal(all.code, 0, all.stderr);
      const lines = all.stdout.trimEnd().split("\n");
      assert.equal(lines.length, 2, all.stdout);
      assert.match(lines[0], new RegExp(`^#\\d+ dev ${STAMP_RE} bob: build red again$`));
      assert.match(lines[1], new RegExp(`^#\\d+ ops ${STAMP_RE} alice: the build is red$`));

      const inOps = await runChat(["search", "--room", "ops", "--json", "build"], options);
      const found = inOps.stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
      assert.deepEqual(found.map((m) => [m.room, m.text]), [["ops", "the build is red"]]);

      const asAlice = await bed.run("alice", ["search", "--user", "alice", "quietly"]);
      assert.match(asAlice.stdout, /^#\d+ @bob .* bob: red build, quietly\n$/);
      const none = await runChat(["search", "nothing-like-it"], options);
      assert.deepEqual([none.code, none.stdout], [0, ""]);
      const bad = await runChat(["search", "--room", "nowhere", "red"], options);
      assert.equal(bad.stderr, 'chatroom: There is no room named "nowhere"\n');
    },
  });

  Deno.test({
    name: `[${name}] /me and topic lines in tail and export: * alice waves, alice set the topic`,
    ignore,
    async fn() {
      await using bed = await make();
      await bed.register("alice");
      const first = await bed.run("alice", ["send", "--user", "alice", "--room", "ops", "first"]);
      assert.equal(first.code, 0, first.stderr);
      // The chat view's /me and /topic, as its store writes them.
      await bed.say("alice", "ops", "waves", "me");
      await bed.say("alice", "ops", "Release on Friday", "topic");
      const options = { env: bed.readerEnv, task: bed.task };
      const txt = await runChat(["export", "--room", "ops"], options);
      assert.match(
        txt.stdout,
        new RegExp(
          `^${STAMP_RE} alice: first\n${STAMP_RE} \\* alice waves\n${STAMP_RE} alice set the topic: Release on Friday\n$`,
        ),
      );
      const json = await runChat(["export", "--room", "ops", "--format", "json"], options);
      assert.deepEqual(JSON.parse(json.stdout).map((m: { kind?: string }) => m.kind), [
        undefined,
        "me",
        "topic",
      ]);
      const md = await runChat(["export", "--room", "ops", "--format", "md"], options);
      assert.match(md.stdout, /- \d{4}-.* \* \*\*alice\*\* waves\n/);
    },
  });
}

Deno.test("chatroom tail takes --history or --after, not both", async () => {
  const both = await runChat(
    ["tail", "--user", "a", "--room", "ops", "--after", "1", "--history", "3"],
  );
  assert.equal(both.code, 2);
  assert.equal(both.stderr, "chatroom: tail takes --history or --after, not both\n");
});
