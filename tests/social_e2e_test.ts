// End to end, in real terminals (tmux), on both backends: who is here, news from
// other rooms, mentions and the bell, direct conversations, search and history.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { BEDS, enter, sqliteBed } from "./_beds.ts";
import { locksHeld } from "./_helpers.ts";
import { bubbleLine, Screen } from "./_tmux.ts";

for (const { name, ignore, make } of BEDS) {
  Deno.test({
    name: `[${name}] who is here: joined and left lines, /who, and counts in the room menu`,
    ignore,
    async fn() {
      await using bed = await make();
      for (const who of ["alice", "bob", "carol"]) await bed.register(who);
      await using a = await enter(bed, "alice", "general");
      await a.waitFor("general ›");
      await using b = await enter(bed, "bob", "general");
      await b.waitFor("Here now: alice");
      await a.waitFor("-- bob joined");
      await using c = await enter(bed, "carol", "ops");
      await c.waitFor("ops ›");

      await a.line("/who");
      await a.waitFor(/In general: alice, bob\n +Online elsewhere: carol \(ops\)/);
      await c.line("q");
      await c.waitFor(/general +2 here/); // the room menu counts who is in each room
      await b.line("/join ops");
      await b.waitFor("ops ›");
      await a.waitFor("-- bob left");
      await b.line("/quit");
      await b.waitFor("[exit 0]");
      await a.line("/who");
      await a.waitFor(/In general: alice\n +Online elsewhere: carol \(in the menus\)/);
    },
  });

  Deno.test({
    name:
      `[${name}] a mention from another room: the prompt's hotlist, the bell, the room menu, /next`,
    ignore,
    async fn() {
      await using bed = await make();
      for (const who of ["alice", "bob"]) await bed.register(who);
      await bed.send("bob", "ops", "before alice came");
      await using a = await enter(bed, "alice", "lobby");
      await a.waitFor("lobby ›");
      await a.line("/join ops"); // ops becomes one of her rooms, read up to here
      await a.waitFor(bubbleLine("before alice came"));
      await a.line("/join lobby");
      await a.waitFor("lobby ›");
      assert.equal(await a.format("window_bell_flag"), "0");

      await bed.send("bob", "ops", "anyone?");
      await a.waitFor("lobby [ops 1] ›");
      await bed.send("bob", "ops", "@Alice urgent: the deploy");
      await a.waitFor("lobby [ops 2@] ›");
      assert.equal(await a.format("window_bell_flag"), "1", "the mention rang the bell");

      await a.line("q");
      await a.waitFor(/ops +2 new, 1 naming you/);
      await a.press("Escape"); // back to the first menu... and in again, from the room menu
      await a.waitFor("Welcome to chatroom");
      await a.press("C-c");
      await a.waitFor("[exit 0]");

      await using again = await enter(bed, "alice", "lobby");
      await again.waitFor("lobby [ops 2@] ›");
      await again.press("M-a"); // Alt-A: the most urgent room
      await again.waitFor("ops ›");
      const shown = await again.waitFor(bubbleLine("@Alice urgent: the deploy"));
      assert.match(
        shown,
        /before alice came[^]*── new since you were last here ──[^]*anyone\?/,
        "a line marks where the unread messages start",
      );
    },
  });

  Deno.test({
    name: `[${name}] a direct conversation: /msg and /dm, the hotlist, and a third never sees it`,
    ignore,
    async fn() {
      await using bed = await make();
      for (const who of ["alice", "bob", "carol"]) await bed.register(who);
      await using a = await enter(bed, "alice", "general");
      await using b = await enter(bed, "bob", "general");
      await using c = await enter(bed, "carol", "general");
      for (const screen of [a, b, c]) await screen.waitFor("general ›");

      await a.line("/msg bob the launch code is 0000");
      await a.waitFor("To bob: the launch code is 0000");
      await b.waitFor("general [@alice 1] ›");
      await b.line("/dm alice");
      await b.waitFor("@alice ›");
      await b.waitFor(bubbleLine("the launch code is 0000"));
      await b.line("thanks, keep it quiet");
      await a.waitFor("general [@bob 1] ›");

      await c.line("/search --all launch");
      await c.waitFor('No message in your rooms holds "launch"');
      await c.line("q");
      const menu = await c.waitFor("+ Create a room");
      assert.ok(!menu.includes("@"), `carol's menu lists no conversation: ${menu}`);
      const screen = await c.text(true);
      assert.ok(!screen.includes("0000"), `carol never saw the text: ${screen}`);
      const rooms = await bed.run("carol", ["rooms", "--json"]);
      assert.ok(!rooms.stdout.includes("@"), rooms.stdout);
    },
  });

  Deno.test({
    name: `[${name}] /search finds an old message; /history and PageUp page back`,
    ignore,
    async fn() {
      await using bed = await make();
      await bed.register("alice");
      await bed.register("bob");
      await bed.limit({ burst: 1e9, perSecond: 1e9 }, { burst: 1e9, perSecond: 1e9 });
      const lines = Array.from({ length: 80 }, (_, i) => `note ${i + 1}`);
      lines[2] = "the database password rotates on Mondays";
      const sent = await bed.run(
        "bob",
        ["send", "--user", "bob", "--room", "general"],
        lines.join("\n") + "\n",
      );
      assert.equal(sent.code, 0, sent.stderr);

      await using a = await enter(bed, "alice", "general");
      await a.waitFor(bubbleLine("note 80"));
      await a.line("/search PASSWORD mondays");
      await a.waitFor(
        /1 found in general:\n +#\d+ +general +\d\d:\d\d +bob: the database password/,
      );

      // The chat shows the last 50 (31 to 80); /history 20 shows 11 to 30, PageUp 1 to 10.
      await a.line("/history 20");
      const page = await a.waitFor("── end of the earlier messages; /history shows more ──", {
        scrollback: true,
      });
      assert.match(page, /── 20 earlier messages ──/);
      assert.match(page, /note 11 [^]*note 30 /);
      await a.press("PageUp");
      await a.waitFor("── 10 earlier messages ──", { scrollback: true });
      await a.waitFor(bubbleLine("the database password rotates on Mondays"), { scrollback: true });
      await a.press("PageUp");
      await a.waitFor("── nothing earlier: this is where the room starts ──");
      await a.line("/history lots");
      await a.waitFor('/history takes a number of messages, not "lots"');
    },
  });

  Deno.test({
    name: `[${name}] /me and /topic: quiet lines, the topic on joining and in the menu`,
    ignore,
    async fn() {
      await using bed = await make();
      await bed.register("alice");
      await bed.register("bob");
      await using a = await enter(bed, "alice", "general");
      await using b = await enter(bed, "bob", "general");
      await a.waitFor("general ›");
      await b.waitFor("general ›");
      await a.line("/me waves");
      await a.line("/topic Release on Friday");
      await b.waitFor(/\* alice waves\n-- alice set the topic: Release on Friday/);
      await b.line("/topic");
      await b.waitFor("-- Topic: Release on Friday");
      await b.line("q");
      await b.waitFor(/general .*· Release on Friday/);
      await b.press("Enter");
      await b.waitFor(/You are in general\..*\n-- Topic: Release on Friday/);
      await b.line(`/topic ${"x".repeat(301)}`);
      await b.waitFor("The topic is 301 characters long; the limit is 300. Nothing was set", {
        scrollback: true,
      });
    },
  });
}

Deno.test("a burst of output larger than the terminal takes at once is drawn whole, and typing goes on", async () => {
  await using bed = await sqliteBed();
  await bed.register("alice");
  await bed.register("bob");
  await using a = await enter(bed, "alice", "general");
  await a.waitFor("general ›");
  // Another member writes 2,000 long messages into the file at once: batches of some 400 KB.
  const db = new DatabaseSync(bed.env().CHATROOM_DB);
  db.exec("BEGIN");
  const insert = db.prepare(
    `INSERT INTO messages (room_id, user_id, text, sent_at) SELECT r.id, u.id, ?, ?
     FROM rooms r, users u WHERE r.name = 'general' AND u.name = 'bob'`,
  );
  for (let i = 1; i <= 2000; i++) insert.run(`burst ${i} ${"word ".repeat(150)}`, Date.now());
  db.exec("COMMIT");
  db.close();
  await a.waitFor(/│ burst 2000 word/, { timeoutMs: 30_000 });
  await a.type("still here");
  await a.waitFor("general › still here");
});

Deno.test("logging out and in again keeps SQLite's shared lock on the file: sqlite3 elsewhere removes nothing", async () => {
  await using bed = await sqliteBed();
  await bed.register("alice");
  const db = bed.env().CHATROOM_DB;
  await using a = await Screen.start(["--user", "alice", "--room", "general"], bed.env("alice"));
  await a.waitFor("general ›");
  const pid = await a.programPid();
  assert.ok(locksHeld(pid, db) > 0, "the chat view holds the database's shared lock");
  // Out to the first menu (the watch worker ends) and in again (a new one starts).
  await a.line("q");
  await a.waitFor("Pick a room");
  await a.press("Escape");
  await a.waitFor(/Logged out alice\n\? Welcome to chatroom/);
  await a.press("Enter");
  await a.waitFor("User name:");
  await a.line("alice");
  await a.waitFor("Password for alice");
  await a.line("alice-password");
  await a.waitFor("❯ general");
  assert.ok(locksHeld(pid, db) > 0, "the lock outlives the worker that ended at log-out");
});
