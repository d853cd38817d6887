// A full disk, simulated with a file-size limit (ulimit -f) on the real program.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { liftLimits, tempDir } from "./_helpers.ts";
import { CHAT_RUN, ROOT, runChat, shellQuote } from "./_run.ts";

/**
 * Runs chatroom under `ulimit -f blocks` (1 KiB blocks), with stdin text. The
 * limit covers every file the process writes, Deno's own caches too, and Deno
 * writes those before our code can handle SIGXFSZ: so the run goes without
 * V8's code cache, after a warm-up run without the limit.
 */
async function runLimited(blocks: number, args: string[], env: Record<string, string>, stdin = "") {
  const [deno, run, ...rest] = CHAT_RUN;
  const argv = [deno, run, "--no-code-cache", ...rest, ...args];
  await new Deno.Command(deno, { args: [run, ...rest, "--version"], cwd: ROOT }).output();
  const command = argv.map(shellQuote).join(" ");
  const child = new Deno.Command("bash", {
    args: ["-c", `ulimit -f ${blocks}; exec ${command}`],
    cwd: ROOT,
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const out = await child.output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("a disk that fills during send: lines after it are reported unsent, nothing stored is lost", async () => {
  using dir = tempDir();
  const db = `${dir.path}/chat.db`;
  const env = { CHATROOM_DB: db, CHATROOM_PASSWORD: "bot-password" };
  assert.equal((await runChat(["register", "--user", "bot"], { env })).code, 0);
  liftLimits(db); // the disk, not the rate limit, is what stops these lines
  const lines = Array.from({ length: 100 }, (_, i) => `${"x".repeat(3000)} ${i}`);

  const run = await runLimited(
    200,
    ["send", "--user", "bot", "--room", "ops"],
    env,
    lines.join("\n") + "\n",
  );
  assert.equal(run.code, 1);
  const errors = run.stderr.trimEnd().split("\n");
  const failed = errors.slice(0, -1);
  assert.ok(failed.length > 0 && failed.length < 100, run.stderr);
  for (const line of failed) {
    assert.match(line, /^chatroom: line \d+: Cannot write .*; is the disk full\?$/);
  }
  assert.equal(errors.at(-1), `chatroom: ${failed.length} of 100 lines were not sent`);

  const raw = new DatabaseSync(db);
  assert.equal(raw.prepare("PRAGMA integrity_check").get()?.integrity_check, "ok");
  const stored = raw.prepare("SELECT text FROM messages ORDER BY id").all().map((r) => r.text);
  raw.close();
  assert.equal(stored.length, 100 - failed.length);
  assert.deepEqual(stored, lines.slice(0, stored.length), "what was stored is whole and in order");
});

Deno.test("a disk with no room for one more message: one line, exit 1, the file untouched", async () => {
  using dir = tempDir();
  const db = `${dir.path}/chat.db`;
  const env = { CHATROOM_DB: db, CHATROOM_PASSWORD: "bot-password" };
  assert.equal((await runChat(["register", "--user", "bot"], { env })).code, 0);
  const before = Deno.readFileSync(db);

  const run = await runLimited(4, ["send", "--user", "bot", "--room", "ops", "hello"], env);
  assert.equal(run.code, 1);
  assert.equal(run.stderr.trimEnd().split("\n").length, 1, run.stderr);
  assert.match(run.stderr, /^chatroom: .*(disk|full|write)/i);
  assert.deepEqual(Deno.readFileSync(db), before);
});
