// The program needs no network, no subprocesses and no FFI, and runs without them;
// of the system's details it reads only its own Unix account id.
import assert from "node:assert/strict";
import { tempDir } from "./_helpers.ts";
import { ROOT, runChat } from "./_run.ts";

const tasks = JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`)).tasks as Record<
  string,
  string
>;

Deno.test("deno task chat, install and compile deny network, subprocesses and FFI and never prompt", () => {
  for (const name of ["chat", "install", "compile"]) {
    const flags = tasks[name].split(" ");
    for (const flag of ["--deny-net", "--deny-run", "--deny-ffi", "--no-prompt"]) {
      assert.ok(flags.includes(flag), `${name} lacks ${flag}`);
    }
    for (const flag of flags) {
      assert.ok(
        !/^(-A|--allow-all|--allow-net|--allow-run|--allow-ffi)/.test(flag),
        `${name} grants ${flag}`,
      );
      // Only the Unix account's id, to count wrong passwords per account.
      if (flag.startsWith("--allow-sys")) assert.equal(flag, "--allow-sys=uid", `${name}: ${flag}`);
    }
  }
});

Deno.test("chatroom works end to end with network, subprocesses and FFI denied", async () => {
  // runChat goes through `deno task chat`, so every step below runs with the denials.
  using dir = tempDir();
  const env = { CHATROOM_DB: `${dir.path}/chat.db`, CHATROOM_PASSWORD: "alice-password" };
  for (
    const args of [
      ["register", "--user", "alice"],
      ["send", "--user", "alice", "--room", "ops", "hello"],
      ["rooms"],
    ]
  ) {
    const run = await runChat(args, { env });
    assert.equal(run.code, 0, `${args.join(" ")}: ${run.stderr}`);
  }
  const exported = await runChat(["export", "--room", "ops", "--format", "json"], { env });
  assert.equal(JSON.parse(exported.stdout)[0].text, "hello");
});

/** A task's permission flags, in order. */
const permissions = (task: string) =>
  tasks[task].split(" ").filter((flag) => /^--(allow|deny|no-prompt)/.test(flag));

Deno.test("the installed commands run with exactly the flags of deno task chat and chat:pg", () => {
  assert.deepEqual(permissions("install"), permissions("chat"));
  assert.deepEqual(permissions("install:pg"), permissions("chat:pg"));
});

Deno.test("deno task chat:pg reaches only $CHATROOM_PG_ADDR, and writes no file", () => {
  const flags = tasks["chat:pg"].split(" ");
  for (
    const flag of ["--allow-net=$CHATROOM_PG_ADDR", "--deny-write", "--deny-run", "--deny-ffi"]
  ) {
    assert.ok(flags.includes(flag), `chat:pg lacks ${flag}`);
  }
  for (const flag of flags) {
    assert.ok(
      !/^(-A|--allow-all|--allow-write|--allow-run|--allow-ffi|--allow-sys)/.test(flag),
      flag,
    );
  }
});

Deno.test("deno task chat refuses a PostgreSQL URL in one line that says what to run", async () => {
  const run = await runChat(["rooms", "--db", "postgres://127.0.0.1:5999/chat"]);
  assert.equal(run.code, 1);
  assert.equal(
    run.stderr,
    "chatroom: Reaching PostgreSQL at 127.0.0.1:5999 needs network access to it, which this run does not have; use: CHATROOM_PG_ADDR=127.0.0.1:5999 deno task chat:pg ...\n",
  );
});
