import assert from "node:assert/strict";
import process from "node:process";
import { parseCommandLine, takeEnvPassword } from "../lib/cli.ts";
import { UsageError } from "../lib/errors.ts";
import { openSqliteStore as openStore } from "../lib/sqlite_store.ts";
import { tempDir } from "./_helpers.ts";
import { type Run, runChat } from "./_run.ts";

/** One line on stderr, no stack trace, the given exit code. */
function assertOneLineError(run: Run, code: number, text: string): void {
  assert.equal(run.code, code, `exit code; stderr: ${run.stderr}`);
  const lines = run.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line expected, got:\n${run.stderr}`);
  assert.ok(lines[0].startsWith("chatroom: "), lines[0]);
  assert.ok(lines[0].includes(text), `"${lines[0]}" does not contain "${text}"`);
}

Deno.test("chatroom --help and --version", async () => {
  const help = await runChat(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /chatroom register --user NAME/);
  assert.match(help.stdout, /CHATROOM_PASSWORD/);
  const version = await runChat(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^chatroom \d+\.\d+\.\d+\n$/);
});

Deno.test("chatroom refuses bad usage with exit 2", async (t) => {
  const cases: [string[], string][] = [
    [["--colour"], "Unknown option '--colour'"],
    [
      ["--user", "a", "--password", "secret"],
      "Unknown option '--password': passwords are never taken from the command line; set CHATROOM_PASSWORD",
    ], // never in argv
    [["register"], "register needs --user NAME"],
    [["frobnicate"], 'Unknown command "frobnicate"'],
    [["--user"], "--user"],
  ];
  for (const [args, text] of cases) {
    await t.step(args.join(" "), async () => assertOneLineError(await runChat(args), 2, text));
  }
});

Deno.test("chatroom register creates accounts from a script", async (t) => {
  using dir = tempDir();
  const env = { CHATROOM_DB: `${dir.path}/chat.db` };

  await t.step("password from CHATROOM_PASSWORD", async () => {
    const run = await runChat(["register", "--user", "alice"], {
      env: { ...env, CHATROOM_PASSWORD: "alice-password" },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "Created account alice\n");
  });
  await t.step("password from one line of stdin", async () => {
    const run = await runChat(["register", "--user", "bob", "--password-stdin"], {
      env,
      stdin: "bob-password\nignored\n",
    });
    assert.equal(run.code, 0, run.stderr);
    const store = openStore(env.CHATROOM_DB);
    assert.ok(store.findUser("bob"));
    assert.ok(!store.findUser("bob")!.passwordHash.includes("bob-password"));
    store.close();
  });
  await t.step("a taken name, ignoring case", async () => {
    const run = await runChat(["register", "--user", "ALICE"], {
      env: { ...env, CHATROOM_PASSWORD: "whatever-password" },
    });
    assertOneLineError(run, 1, 'The name "ALICE" is taken');
  });
  await t.step("an invalid name", async () => {
    const run = await runChat(["register", "--user", "bad name"], {
      env: { ...env, CHATROOM_PASSWORD: "whatever-password" },
    });
    assertOneLineError(run, 1, "User name may only hold");
  });
  await t.step("a short password", async () => {
    const run = await runChat(["register", "--user", "carol"], {
      env: { ...env, CHATROOM_PASSWORD: "short" },
    });
    assertOneLineError(run, 1, "Password is too short");
  });
  await t.step("no password and no terminal", async () => {
    const run = await runChat(["register", "--user", "dave"], { env });
    assertOneLineError(run, 1, "No password");
  });
});

Deno.test("chatroom with a wrong CHATROOM_PASSWORD prints one line and exits 1", async () => {
  using dir = tempDir();
  const env = { CHATROOM_DB: `${dir.path}/chat.db` };
  await runChat(["register", "--user", "alice"], {
    env: { ...env, CHATROOM_PASSWORD: "alice-password" },
  });
  const wrong = await runChat(["--user", "alice"], {
    env: { ...env, CHATROOM_PASSWORD: "not-her-password" },
  });
  assertOneLineError(wrong, 1, "Wrong password for alice");
  const nobody = await runChat(["--user", "zed"], {
    env: { ...env, CHATROOM_PASSWORD: "whatever" },
  });
  assertOneLineError(nobody, 1, 'There is no account named "zed"');
});

Deno.test("chatroom without a terminal says so in one line", async () => {
  using dir = tempDir();
  const run = await runChat([], { env: { CHATROOM_DB: `${dir.path}/chat.db` } });
  assertOneLineError(run, 1, "chatroom needs a terminal");
});

Deno.test("chatroom refuses an unusable database in one line and leaves it untouched", async () => {
  using dir = tempDir();
  const junk = `${dir.path}/junk.db`;
  const bytes = new TextEncoder().encode("not a database\n".repeat(300));
  Deno.writeFileSync(junk, bytes);
  const run = await runChat(["register", "--user", "alice", "--db", junk], {
    env: { CHATROOM_PASSWORD: "alice-password" },
  });
  assertOneLineError(run, 1, `${junk} is not an SQLite database`);
  assert.deepEqual(Deno.readFileSync(junk), bytes);

  const folder = await runChat(["--db", dir.path], { env: { CHATROOM_PASSWORD: "x" } });
  assertOneLineError(folder, 1, "is a directory, not a database file");
});

Deno.test("takeEnvPassword() reads CHATROOM_PASSWORD once and removes it from the process", async () => {
  Deno.env.set("CHATROOM_PASSWORD", "s3cret-password");
  assert.equal(takeEnvPassword(process.env), "s3cret-password");
  assert.equal(Deno.env.get("CHATROOM_PASSWORD"), undefined);
  assert.equal(takeEnvPassword(process.env), undefined, "only once");
  // A worker started afterwards, like the watch worker, cannot see it either.
  const worker = new Worker(
    `data:text/javascript,postMessage(String(Deno.env.get("CHATROOM_PASSWORD")))`,
    { type: "module" },
  );
  const seen = await new Promise((resolve) => worker.onmessage = (e) => resolve(e.data));
  worker.terminate();
  assert.equal(seen, "undefined");
});

Deno.test("parseCommandLine() takes only plain decimal numbers for --history and --after", () => {
  const tail = ["tail", "--user", "a", "--room", "r"];
  for (const bad of ["", " 2 ", "0x2", "1e0", "-1", "2.0", "+3"]) {
    for (const option of ["--history", "--after"]) {
      assert.throws(
        () => parseCommandLine([...tail, option, bad]),
        UsageError,
        `${option} "${bad}"`,
      );
    }
  }
  assert.equal(parseCommandLine([...tail, "--after", "0"]).after, 0);
  assert.equal(parseCommandLine([...tail, "--history", "25"]).history, 25);
});

Deno.test("rooms and export with a mistyped --db say it is missing and create nothing", async () => {
  using dir = tempDir();
  for (const args of [["rooms"], ["export", "--room", "general"]]) {
    const run = await runChat(["--db", `${dir.path}/typo.db`, ...args]);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /^chatroom: There is no database at .*typo\.db; check --db or CHATROOM_DB/,
    );
    assert.deepEqual([...Deno.readDirSync(dir.path)], []);
  }
});
