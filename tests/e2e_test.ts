// End to end, in real terminals (tmux): two people on one database file.
import assert from "node:assert/strict";
import { tempDir } from "./_helpers.ts";
import { type Bed, BEDS, enter } from "./_beds.ts";
import { PG_ADMIN, tempPg } from "./_postgres.ts";
import { bubbleLine, Screen } from "./_tmux.ts";

/** The chat prompt as captured (capture-pane drops trailing spaces). */
const PROMPT = (room: string) => `${room} ›`;

/** Moves the menu highlight down `downs` times to `label` and picks it. */
async function choose(screen: Screen, label: string, downs = 0): Promise<void> {
  for (let i = 0; i < downs; i++) await screen.press("Down");
  await screen.waitFor(`❯ ${label}`);
  await screen.press("Enter");
}

async function createAccount(screen: Screen, name: string, password: string): Promise<void> {
  await screen.waitFor("Welcome to chatroom");
  await choose(screen, "Create account", 1);
  await screen.waitFor("Choose a user name:");
  await screen.line(name);
  await screen.waitFor("Choose a password");
  await screen.line(password);
  await screen.waitFor("Repeat the password:");
  await screen.line(password);
}

/** Logs in from the first menu, typing `name` (as the user would) and `password`. */
async function logInFromMenu(screen: Screen, name: string, password: string): Promise<void> {
  await choose(screen, "Log in");
  await screen.waitFor("User name:");
  await screen.line(name);
  // SQLite names the account as it was made; PostgreSQL cannot tell before the password is given.
  await screen.waitFor(new RegExp(`Password for ${name}`, "i"));
  await screen.line(password);
}

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

/** A terminal running the program on `bed`'s database; with `as`, that account's password is set. */
function startOn(
  bed: Bed,
  args: string[],
  { as, ...options }: { as?: string; before?: string; after?: string } = {},
): Promise<Screen> {
  return Screen.start(args, bed.env(as), { ...options, task: bed.task });
}

Deno.test("the first menu draws for a file named in other letters, or long enough to wrap", async () => {
  using dir = tempDir();
  // The first menu is drawn before string-width loads: a name it cannot measure without it
  // must wait for it, not fail.
  const files = ["日本語のチャット.db", `${"long-folder-name-".repeat(6)}/chat.db`];
  Deno.mkdirSync(`${dir.path}/${files[1]}`.replace(/\/[^/]*$/, ""), { recursive: true });
  // Both at once: a tmux server whose last session just ended can refuse the next.
  await using first = await Screen.start([], { CHATROOM_DB: `${dir.path}/${files[0]}` });
  await using second = await Screen.start([], { CHATROOM_DB: `${dir.path}/${files[1]}` });
  for (const [screen, file] of [[first, files[0]], [second, files[1]]] as const) {
    await screen.waitFor("Welcome to chatroom");
    assert.match(await screen.text(), new RegExp(file.slice(0, 8)));
    await createAccount(screen, "alice", "alice-password");
    await screen.waitFor("There are no rooms yet");
  }
});

Deno.test("two terminals: accounts from the menu, live messages, draft kept while typing", async () => {
  using dir = tempDir();
  const env = { CHATROOM_DB: `${dir.path}/chat.db` };

  await using a = await Screen.start([], env);
  await createAccount(a, "alice", "alice-password");
  await a.waitFor("There are no rooms yet");
  await choose(a, "+ Create a room");
  await a.waitFor("Room name:");
  await a.line("general");
  await a.waitFor(PROMPT("general"));

  await using b = await Screen.start([], env);
  await createAccount(b, "bob", "bob-password");
  await b.waitFor("Pick a room");
  await choose(b, "general");
  await b.waitFor(PROMPT("general"));

  // Alice is half-way through a line, with the cursor two characters back.
  const draft = "half-typed dr";
  await a.type(draft);
  await a.press("Left", "Left");
  await a.waitFor(PROMPT("general") + " " + draft);
  const before = await a.cursor();
  assert.equal(before.x, (PROMPT("general") + " " + draft).length - 2);

  await b.line("hello from bob");
  const screen = await a.waitFor(bubbleLine("hello from bob"));
  assert.equal(count(screen, "hello from bob"), 1);
  assert.equal(await a.cursorLine(), PROMPT("general") + " " + draft);
  assert.equal((await a.cursor()).x, before.x, "the cursor stays where it was");
  assert.ok(screen.includes("╭─ bob · "), "the bubble names its author");

  // Alice goes on typing where her cursor was, then sends.
  await a.type("X");
  await a.press("End");
  await a.line("aft");
  await b.waitFor(bubbleLine("half-typed Xdraft"));
  const mine = await a.waitFor(bubbleLine("half-typed Xdraft"));
  assert.equal(count(mine, "half-typed Xdraft"), 1, "sent once, shown once");
  const own = mine.split("\n").find((l) => l.includes("half-typed Xdraft"))!;
  assert.equal(own.length, 100, "your own bubbles sit on the right edge");
  assert.equal(await a.cursorLine(), PROMPT("general"), "the input line is empty again");

  await b.line("/quit");
  await b.waitFor("[exit 0]");
});

for (const { name, ignore, make } of BEDS) {
  Deno.test({
    name: `[${name}] switching rooms with /join and with q and the menu`,
    ignore,
    async fn() {
      await using bed = await make();
      await bed.register("alice");
      await bed.register("bob");

      await using a = await enter(bed, "alice", "general");
      await using b = await enter(bed, "bob", "general");
      await a.waitFor(PROMPT("general"));
      await b.waitFor(PROMPT("general"));

      await a.line("/join lobby");
      await a.waitFor(PROMPT("lobby"));
      await a.waitFor("You are in lobby");

      await b.line("only for general");
      await b.waitFor(bubbleLine("only for general"));
      await b.line("/join lobby");
      await b.waitFor(PROMPT("lobby"));
      await b.line("now in lobby");

      const inLobby = await a.waitFor(bubbleLine("now in lobby"));
      assert.ok(!inLobby.includes("only for general"), "nothing from the room you left");

      // Up recalls the last line; a message over the limit is refused and kept in the input line.
      await b.press("Up");
      await b.waitFor(`${PROMPT("lobby")} now in lobby`);
      await b.press("C-u");
      await b.line("y".repeat(4001));
      const refused = await b.waitFor(
        "Message is 4001 characters long; the limit is 4000. Nothing was sent",
        { scrollback: true }, // the draft put back fills more than the screen
      );
      assert.ok(refused.includes("yyyy"));
      // The refused text is back in the input line: one character less and it goes through.
      await b.press("End", "BSpace", "Enter");
      await a.waitFor(/│ y{40,} *│/);
      assert.equal((await bed.texts("lobby")).at(-1), "y".repeat(4000));

      await a.line("q");
      await a.waitFor("Pick a room");
      await choose(a, "general", 1); // lobby is listed first: it was active last
      await a.waitFor(PROMPT("general"));
      await a.waitFor(bubbleLine("only for general")); // its history

      await a.line("/quit");
      await a.waitFor("[exit 0]");
    },
  });

  Deno.test({
    name:
      `[${name}] the room menu shows new rooms while open, and a burst typed ahead picks nothing`,
    ignore,
    async fn() {
      await using bed = await make();
      await bed.register("alice");
      await bed.register("bob");
      await using a = await enter(bed, "alice", "general");
      await a.waitFor(PROMPT("general"));
      // q, Enter and a line typed ahead, in one burst: the line reaches the menu before it is drawn.
      await a.type("q\rtyped ahead\r");
      await a.waitFor("❯ general");
      await a.press("Down");
      await a.waitFor("❯ + Create a room");
      assert.ok(!(await a.text()).includes("You are in general.\n"), "no room was joined");

      await bed.send("bob", "news", "made elsewhere");
      const menu = await a.waitFor(/news +last message/);
      assert.match(menu, /❯ \+ Create a room/, "the highlight stays where it was");
      await a.press("Up", "Up");
      await choose(a, "news");
      await a.waitFor(bubbleLine("made elsewhere"));
      assert.deepEqual(
        await bed.texts("general"),
        [],
        "the typed-ahead line was never sent or run",
      );
    },
  });
}

for (const { name, ignore, make } of BEDS) {
  Deno.test({
    name:
      `[${name}] a pasted block is one draft, sent as one bubble on Enter; a resize keeps bubbles whole`,
    ignore,
    async fn() {
      await using bed = await make();
      await bed.register("alice");
      await bed.register("bob");
      await using a = await enter(bed, "alice", "general");
      await a.waitFor(PROMPT("general"));
      await a.paste("line one\nq\nline three");
      await a.waitFor("line three");
      await a.type("X");
      await a.waitFor("line threeX");
      assert.equal(count(await a.text(), "Pick a room"), 0, "the q line did not leave the room");
      await a.press("Enter");
      const sent = await a.waitFor(bubbleLine("line threeX"));
      assert.match(sent, /│ line one +│\n.*│ q +│\n.*│ line threeX +│/);

      // A draft that wraps over three rows, then the window narrows and a message arrives.
      await a.type("word ".repeat(35).trim());
      await a.resize(40, 30);
      await a.waitFor(/general › word word/);
      await bed.send("bob", "general", "after the resize");
      const screen = await a.waitFor(bubbleLine("after the resize"));
      const rows = screen.split("\n");
      const top = rows.findIndex((row) => row.startsWith("╭─ bob"));
      assert.match(rows[top + 2], /^╰─+╯$/, "the bubble keeps its bottom border");
      for (const row of rows) assert.ok([...row].length <= 40, `fits 40 columns: ${row}`);
      await a.press("C-c");
      await a.waitFor(/general ›$/m);
      await a.press("C-c");
      await a.waitFor("Press Ctrl-C again to quit");
      await a.press("C-c");
      await a.waitFor("[exit 0]");
      const after = await a.text();
      assert.match(after, /\n\[exit 0\]/, "the shell starts on a line of its own");
    },
  });
}

for (const { name, ignore, make } of BEDS) {
  Deno.test({
    name:
      `[${name}] over the rate limit, messages wait their turn; a refused /join stays in the input line`,
    ignore,
    async fn() {
      await using bed = await make();
      await bed.register("alice");
      // The third message waits half a second; one room, then a long wait.
      await bed.limit({ burst: 2, perSecond: 2 }, { burst: 1, perSecond: 0.001 });
      await using screen = await enter(bed, "alice", "general");
      await screen.waitFor(PROMPT("general"));
      await screen.type("one");
      await screen.press("Enter");
      await screen.type("two");
      await screen.press("Enter");
      await screen.type("three");
      await screen.press("Enter");
      await screen.waitFor("what you send waits its turn");
      const shown = await screen.waitFor(bubbleLine("three"));
      assert.ok(shown.indexOf("│ two") < shown.indexOf("│ three"), "in the order typed");
      assert.equal(
        await screen.cursorLine(),
        PROMPT("general"),
        "nothing merged into the input line",
      );

      await screen.line("/join elsewhere");
      await screen.waitFor(/You are creating rooms too fast; wait \d+ s and try again/);
      await screen.waitFor(`${PROMPT("general")} /join elsewhere`);
      assert.equal(await screen.cursorLine(), `${PROMPT("general")} /join elsewhere`);
    },
  });
}

for (const { name, ignore, make } of BEDS) {
  Deno.test({
    name: `[${name}] history survives a restart; wrong passwords and taken names are refused`,
    ignore,
    async fn() {
      await using bed = await make();
      await bed.register("alice");
      {
        await using first = await enter(bed, "alice", "general");
        await first.waitFor(PROMPT("general"));
        await first.line("remember me");
        await first.waitFor(bubbleLine("remember me"));
        await first.line("/quit");
        await first.waitFor("[exit 0]");
      }

      await using again = await startOn(bed, []);
      await again.waitFor("Welcome to chatroom");
      await logInFromMenu(again, "alice", "wrong-password");
      await again.waitFor(/Wrong password for alice/);
      await again.line("q");
      // Back at the menu, and the abandoned password prompt is gone from the screen.
      await again.waitFor(/Wrong password for alice.*\n\? Welcome to chatroom/);

      await logInFromMenu(again, "ALICE", "alice-password");
      await again.waitFor("Pick a room");
      await choose(again, "general");
      await again.waitFor(bubbleLine("remember me"));
      await again.line("/leave");
      await again.waitFor("Pick a room");
      await choose(again, "Log out", 2);
      // Keys typed before a menu is drawn are dropped (never a choice): wait for it, as a user does.
      await again.waitFor(/Logged out alice\n\? Welcome to chatroom/);
      await choose(again, "Create account", 1);
      await again.waitFor("Choose a user name:");
      await again.line("Alice");
      // PostgreSQL: only the database's owner makes accounts, and a member's chatroom says so.
      await again.waitFor(
        name === "sqlite" ? 'The name "Alice" is taken' : "Accounts on PostgreSQL are made by",
      );
      await again.press("Escape");
      await again.waitFor(/(is taken|PGPASSWORD)\n\? Welcome to chatroom/); // Esc: back to the menu
      await choose(again, "Quit", 2);
      await again.waitFor("[exit 0]");
    },
  });

  Deno.test({
    name:
      `[${name}] Esc and Ctrl-C go back a step in menus; Tab completes; Ctrl-D on an empty line quits`,
    ignore,
    async fn() {
      await using bed = await make();
      await bed.register("alice");
      await bed.register("bob");
      await using screen = await startOn(bed, ["--user", "alice"], { as: "alice" });
      await screen.waitFor("There are no rooms yet");
      await screen.press("Escape");
      await screen.waitFor(/Logged out alice\n\? Welcome to chatroom/);
      await logInFromMenu(screen, "alice", "alice-password");
      await screen.waitFor("There are no rooms yet");
      await screen.press("C-c");
      await screen.waitFor(/Logged out alice\n\? Welcome to chatroom/);
      await logInFromMenu(screen, "alice", "alice-password");
      await choose(screen, "+ Create a room");
      await screen.waitFor("Room name:");
      await screen.line("general");
      await screen.waitFor(PROMPT("general"));
      // Tab: a command, then a user name at the start of the line, cycling.
      await screen.type("/jo");
      await screen.press("Tab");
      await screen.waitFor(`${PROMPT("general")} /join`);
      await screen.press("C-u");
      await screen.type("b");
      await screen.press("Tab");
      await screen.waitFor(`${PROMPT("general")} bob:`);
      await screen.type("typed ahead");
      await screen.press("Enter");
      await screen.waitFor(bubbleLine("bob: typed ahead"));
      await screen.press("C-d");
      await screen.waitFor("[exit 0]");
    },
  });

  Deno.test({
    name: `[${name}] SIGTERM and SIGHUP give the terminal back; a half-typed line is never sent`,
    ignore,
    async fn(t) {
      await using bed = await make();
      await bed.register("alice");
      const ttyModes = `stty -a | grep -o -- '-\\?icanon\\|-\\?echo ' | tr '\\n' ' '; echo;`;
      for (const signal of ["SIGTERM", "SIGHUP"] as const) {
        await t.step(`${signal} at the password prompt`, async () => {
          await using screen = await startOn(bed, ["--user", "alice"], { after: ttyModes });
          await screen.waitFor("Password for alice");
          await screen.type("half a passw"); // the prompt has the terminal in raw mode
          await screen.signal(signal);
          const exitCode = signal === "SIGTERM" ? 143 : 129;
          const shown = await screen.waitFor(new RegExp(`\\[exit ${exitCode}\\]\\n.*echo`));
          assert.match(shown, /\[exit \d+\]\nicanon echo/, "line mode and echo are back");
        });
      }
      const inGeneral = ["--user", "alice", "--room", "general"];
      await t.step("SIGTERM in the chat view", async () => {
        await using screen = await startOn(bed, inGeneral, {
          as: "alice",
          after: ttyModes,
        });
        await screen.waitFor(PROMPT("general"));
        await screen.type("a draft");
        await screen.signal("SIGTERM");
        const shown = await screen.waitFor(/\[exit 143\]\n.*echo/);
        assert.match(
          shown,
          /general › a draft\n\[exit 143\]\nicanon echo/,
          "the shell starts a line",
        );
      });
      await t.step("a closed window, with SIGHUP ignored so the input just ends", async () => {
        const screen = await startOn(bed, inGeneral, {
          as: "alice",
          before: "trap '' HUP; ",
        });
        await screen.waitFor(PROMPT("general"));
        await screen.type("half typed");
        await screen.press("C-d");
        await screen.waitFor("general › half typed");
        const pid = await screen.programPid();
        await screen.close();
        const deadline = Date.now() + 20_000;
        while (exists(`/proc/${pid}`)) {
          if (Date.now() > deadline) throw new Error("the program outlived its window");
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        assert.deepEqual(await bed.texts("general"), []);
      });
    },
  });
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "two terminals on a PostgreSQL server: accounts by the owner, live messages, draft kept",
  ignore: !PG_ADMIN,
  async fn() {
    await using pg = await tempPg();
    for (const name of ["alice", "bob"]) await pg.backend.register(name, `${name}-password`);
    const member = (name: string) => ({
      CHATROOM_DB: pg.url,
      CHATROOM_PG_ADDR: pg.address,
      CHATROOM_PASSWORD: `${name}-password`,
    });
    await using a = await Screen.start(["--user", "alice", "--room", "general"], member("alice"), {
      task: "chat:pg",
    });
    await a.waitFor(PROMPT("general"));
    await a.waitFor(`chatroom: postgres://${pg.address}/`);
    await using b = await Screen.start([], { CHATROOM_DB: pg.url, CHATROOM_PG_ADDR: pg.address }, {
      task: "chat:pg",
    });
    await logInFromMenu(b, "bob", "bob-password");
    await b.waitFor("Pick a room");
    await choose(b, "general");
    await b.waitFor(PROMPT("general"));
    await a.type("half-typed");
    await b.line("hello over the network");
    const screen = await a.waitFor(bubbleLine("hello over the network"));
    assert.match(screen, /general › half-typed$/m, "alice's draft is intact");
    await a.press("Enter");
    await b.waitFor(bubbleLine("half-typed"));
    await a.line("/quit");
    await a.waitFor("[exit 0]");
  },
});
