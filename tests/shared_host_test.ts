// Another member of the group, for real: Unix accounts that share a folder the
// way the README sets it up, one of them attacking the other. Needs root (to
// make the accounts); skipped with a printed reason otherwise.
import assert from "node:assert/strict";
import { hotJournal } from "./_helpers.ts";
import { CHAT_RUN, ROOT, shellQuote } from "./_run.ts";

const GROUP = "chatroomtest";
const VICTIM = "chatroomvictim";
const ATTACKER = "chatroomevil";
const isRoot = Deno.uid() === 0;
if (!isRoot) console.log("shared_host_test: skipped, it must run as root to create Unix accounts");

function sh(command: string, args: string[], env: Record<string, string> = {}) {
  const { code, stdout, stderr } = new Deno.Command(command, {
    args,
    env,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}

function must(command: string, args: string[]): string {
  const run = sh(command, args);
  if (run.code !== 0) throw new Error(`${command} ${args.join(" ")}: ${run.stderr}`);
  return run.stdout;
}

/** A group with two accounts, a shared folder (3770) and a copy of Deno's cache both can use. */
function setUp() {
  const base = Deno.makeTempDirSync({ prefix: "chatroom-host-" });
  Deno.chmodSync(base, 0o755);
  if (sh("getent", ["group", GROUP]).code !== 0) must("groupadd", [GROUP]);
  for (const user of [VICTIM, ATTACKER]) {
    if (sh("id", [user]).code !== 0) {
      must("useradd", ["--no-create-home", "--groups", GROUP, "--shell", "/bin/sh", user]);
    }
    const home = `${base}/${user}`;
    Deno.mkdirSync(home);
    must("chown", [`${user}:${user}`, home]);
    Deno.chmodSync(home, 0o700);
  }
  const shared = `${base}/srv`;
  Deno.mkdirSync(shared);
  must("chgrp", [GROUP, shared]);
  Deno.chmodSync(shared, 0o3770); // as the README sets it up: the group's, with the sticky bit
  const denoDir = `${base}/deno-cache`;
  const cache = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`;
  must("cp", ["-r", cache, denoDir]);
  must("chmod", ["-R", "a+rwX", denoDir]);
  return {
    base,
    shared,
    db: `${shared}/chat.db`,
    home: (user: string) => `${base}/${user}`,
    /** Runs chatroom as `user`, with the chat task's permissions. */
    chat(user: string, args: string[], env: Record<string, string> = {}) {
      const vars = Object.entries({
        HOME: `${base}/${user}`,
        DENO_DIR: denoDir,
        NO_COLOR: "1",
        CHATROOM_DB: `${shared}/chat.db`,
        ...env,
      }).map(([k, v]) => `${k}=${v}`);
      return sh("runuser", ["-u", user, "--", "env", "-i", ...vars, ...CHAT_RUN, ...args]);
    },
    /** Runs a shell command as `user`. */
    as(user: string, script: string) {
      const run = sh("runuser", ["-u", user, "--", "sh", "-c", `umask 007; ${script}`]);
      if (run.code !== 0) throw new Error(`as ${user}: ${script}: ${run.stderr}`);
      return run.stdout;
    },
    [Symbol.dispose]() {
      Deno.removeSync(base, { recursive: true });
    },
  };
}

function modeOf(path: string): number {
  return Deno.statSync(path).mode! & 0o7777;
}

function listing(path: string): string[] {
  return [...Deno.readDirSync(path)].map((e) => e.name).sort();
}

Deno.test({
  name: "Another account's link at the wake path does not reach the victim's home",
  ignore: !isRoot,
  fn() {
    using host = setUp();
    const victim = { CHATROOM_PASSWORD: "victim-password" };
    const registered = host.chat(VICTIM, ["register", "--user", "victim"], victim);
    assert.equal(registered.code, 0, registered.stderr);
    host.as(VICTIM, `chmod 660 ${host.db}`);
    const home = host.home(VICTIM);
    host.as(VICTIM, `echo 'echo hi' > ${home}/.bashrc`);
    const before = { mode: modeOf(home), files: listing(home) };

    // The attack from the issue: the wake entry is a link to the victim's home,
    // and the database a copy of mode 0666 moved over the file.
    host.as(ATTACKER, `ln -s ${home} ${host.db}-ping`);
    const sent = host.chat(VICTIM, ["send", "--user", "victim", "--room", "general", "hi"], victim);
    assert.equal(sent.code, 0, sent.stderr);
    host.as(ATTACKER, `cp ${host.db} ${host.shared}/copy && chmod 666 ${host.shared}/copy`);
    // The sticky bit keeps the attacker from moving the copy over the victim's file.
    const moved = sh("runuser", ["-u", ATTACKER, "--", "mv", "-f", `${host.shared}/copy`, host.db]);
    assert.notEqual(moved.code, 0, "the sticky bit refuses the move");
    host.chat(VICTIM, ["send", "--user", "victim", "--room", "general", "again"], victim);

    assert.equal(modeOf(home), before.mode, "the victim's home keeps its mode");
    assert.deepEqual(listing(home), before.files, "nothing was created in the victim's home");
    assert.notEqual(
      sh("runuser", ["-u", ATTACKER, "--", "sh", "-c", `echo evil >> ${home}/.bashrc`]).code,
      0,
      "the attacker still cannot write the victim's .bashrc",
    );
    assert.ok(Deno.lstatSync(`${host.db}-ping`).isSymlink, "the planted link was left alone");
  },
});

Deno.test({
  name: "Another account's FIFO at the wake path is told once; the victim's tail still delivers",
  ignore: !isRoot,
  async fn() {
    using host = setUp();
    const victim = { CHATROOM_PASSWORD: "victim-password" };
    assert.equal(host.chat(VICTIM, ["register", "--user", "victim"], victim).code, 0);
    host.as(VICTIM, `chmod 660 ${host.db}`);
    host.as(ATTACKER, `mkfifo ${host.db}-ping`);
    const sent = host.chat(VICTIM, ["send", "--user", "victim", "--room", "ops", "one"], victim);
    assert.equal(sent.code, 0, sent.stderr);
    // `tail --history 1` prints the message and follows; the FIFO is told on stderr.
    // setpriv runs the program in place (runuser would stay between, and outlive a kill).
    const child = new Deno.Command("setpriv", {
      args: [
        "--reuid",
        VICTIM,
        "--regid",
        VICTIM,
        "--init-groups",
        "env",
        `HOME=${host.home(VICTIM)}`,
        `DENO_DIR=${host.base}/deno-cache`,
        `CHATROOM_DB=${host.db}`,
        "CHATROOM_PASSWORD=victim-password",
        ...CHAT_RUN,
        "tail",
        "--user",
        "victim",
        "--room",
        "ops",
        "--history",
        "1",
      ],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Killed at the deadline at the latest, so a hung reader fails with what it printed.
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const stderrText = new Response(child.stderr).text();
    let seen = "";
    const readUntil = async (text: string) => {
      while (!seen.includes(text)) {
        const { value, done } = await out.read();
        if (done) throw new Error(`tail printed only ${seen}; stderr: ${await stderrText}`);
        seen += value;
      }
    };
    try {
      await readUntil("victim: one");
      const again = host.chat(VICTIM, ["send", "--user", "victim", "--room", "ops", "two"], victim);
      assert.equal(again.code, 0, again.stderr);
      await readUntil("victim: two");
    } finally {
      clearTimeout(timer);
      child.kill("SIGKILL");
      await child.status;
    }
    const stderr = await stderrText;
    assert.equal(stderr.match(/-ping is a FIFO, not chatroom's wake file/g)?.length, 1, stderr);
  },
});

Deno.test({
  name: "Another account's wrong passwords slow that account, never lock the owner out",
  ignore: !isRoot,
  fn() {
    using host = setUp();
    const victim = { CHATROOM_PASSWORD: "victim-password" };
    assert.equal(host.chat(VICTIM, ["register", "--user", "victim"], victim).code, 0);
    host.as(VICTIM, `chmod 660 ${host.db}`);
    const guess = (n: number) =>
      host.chat(ATTACKER, ["send", "--user", "victim", "--room", "ops", "forged"], {
        CHATROOM_PASSWORD: `guess ${n}`,
      });
    const outcomes = [1, 2, 3, 4, 5, 6].map((n) => guess(n).stderr.trim());
    assert.deepEqual(outcomes.slice(0, 2), [
      "chatroom: Wrong password for victim",
      "chatroom: Wrong password for victim",
    ]);
    assert.equal(outcomes[2], "chatroom: Wrong password for victim; the next try must wait 1 s");
    assert.ok(
      outcomes.slice(3).some((line) => line.startsWith("chatroom: Too many wrong passwords")),
      `the guesser is slowed: ${outcomes.join(" | ")}`,
    );
    // Six tries out of six, the owner gets in at once.
    for (let i = 0; i < 6; i++) {
      const own = host.chat(
        VICTIM,
        ["send", "--user", "victim", "--room", "ops", `mine ${i}`],
        victim,
      );
      assert.equal(own.code, 0, own.stderr);
    }
  },
});

Deno.test({
  name: "Another account's link at the database path is not followed into the victim's home",
  ignore: !isRoot,
  fn() {
    using host = setUp();
    const victim = { CHATROOM_PASSWORD: "victim-password" };
    assert.equal(host.chat(VICTIM, ["register", "--user", "victim"], victim).code, 0);
    // The victim keeps a chatroom database of their own at home.
    const notes = `${host.home(VICTIM)}/notes.db`;
    const own = host.chat(VICTIM, ["register", "--user", "me"], { ...victim, CHATROOM_DB: notes });
    assert.equal(own.code, 0, own.stderr);
    const before = Deno.readFileSync(notes);
    const files = listing(host.home(VICTIM));
    // The sticky bit keeps the attacker from moving the victim's file; a new name is theirs.
    host.as(ATTACKER, `ln -s ${notes} ${host.shared}/lure.db`);
    const listed = host.chat(VICTIM, ["rooms"], { CHATROOM_DB: `${host.shared}/lure.db` });
    assert.equal(listed.code, 1);
    assert.match(listed.stderr, /lure\.db is a link another account made/);
    assert.deepEqual(Deno.readFileSync(notes), before, "the victim's own database is untouched");
    assert.deepEqual(listing(host.home(VICTIM)), files, "nothing made beside it");
  },
});

Deno.test({
  name: "Another account's trigger planted in the file is refused in one line, never run",
  ignore: !isRoot,
  fn() {
    using host = setUp();
    const victim = { CHATROOM_PASSWORD: "victim-password" };
    assert.equal(host.chat(VICTIM, ["register", "--user", "victim"], victim).code, 0);
    host.as(VICTIM, `chmod 660 ${host.db}`);
    const send = () =>
      host.chat(VICTIM, ["send", "--user", "victim", "--room", "ops", "hello"], victim);
    assert.equal(send().code, 0);
    // The attacker plants a trigger whose recursive query would never end.
    const plant = `CREATE TRIGGER forever AFTER INSERT ON messages BEGIN
      SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)
      SELECT x FROM c); END`;
    const script = `const { DatabaseSync } = await import("node:sqlite");
      new DatabaseSync(${JSON.stringify(host.db)}).exec(${JSON.stringify(plant)});`;
    host.as(
      ATTACKER,
      `DENO_DIR=${host.base}/deno-cache ${Deno.execPath()} eval ${shellQuote(script)}`,
    );
    for (const run of [send(), host.chat(VICTIM, ["export", "--room", "ops"])]) {
      assert.equal(run.code, 1);
      assert.equal(
        run.stderr.trim().split("\n").length,
        1,
        `one line, no stack trace: ${run.stderr}`,
      );
      assert.match(run.stderr, /holds tables, views or triggers chatroom did not make/);
    }
  },
});

Deno.test({
  name: "Another account's planted journal never makes the victim delete a file of theirs",
  ignore: !isRoot,
  fn() {
    using host = setUp();
    const victim = { CHATROOM_PASSWORD: "victim-password" };
    assert.equal(host.chat(VICTIM, ["register", "--user", "victim"], victim).code, 0);
    host.as(VICTIM, `chmod 660 ${host.db}`);
    const precious = `${host.home(VICTIM)}/precious.txt`;
    host.as(VICTIM, `echo precious > ${precious}`);
    const journal = `${host.base}/journal`;
    Deno.writeFileSync(journal, hotJournal(precious));
    Deno.chmodSync(journal, 0o644);
    const attack = (script: string) => sh("runuser", ["-u", ATTACKER, "--", "sh", "-c", script]);
    const send = () =>
      host.chat(VICTIM, ["send", "--user", "victim", "--room", "ops", "hello"], victim);

    // The owner's empty journal holds the path: the attacker can neither write, remove nor replace it.
    assert.equal(Deno.statSync(`${host.db}-journal`).size, 0);
    assert.notEqual(attack(`cat ${journal} > ${host.db}-journal`).code, 0);
    assert.notEqual(attack(`rm -f ${host.db}-journal`).code, 0);
    assert.notEqual(
      attack(`cp ${journal} ${host.shared}/j && mv -f ${host.shared}/j ${host.db}-journal`).code,
      0,
    );
    assert.equal(send().code, 0, "the victim goes on as before");

    // Had the path been free, a journal of the attacker's own is refused by its owner.
    host.as(VICTIM, `rm ${host.db}-journal`);
    attack(`cp ${journal} ${host.db}-journal`);
    for (const run of [send(), host.chat(VICTIM, ["rooms"])]) {
      assert.equal(run.code, 1);
      assert.match(
        run.stderr,
        /^chatroom: .*chat\.db-journal (holds a journal|belongs to another account)/,
      );
      assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
    }
    assert.equal(Deno.readTextFileSync(precious), "precious\n", "the victim's file is there");

    // A folder others may write without the sticky bit is refused before anything is opened.
    Deno.removeSync(`${host.db}-journal`);
    Deno.chmodSync(host.shared, 0o2770);
    const open = send();
    assert.equal(open.code, 1);
    assert.match(open.stderr, /can be written by other accounts but has no sticky bit.*chmod \+t/);
    assert.equal(Deno.readTextFileSync(precious), "precious\n");
  },
});
