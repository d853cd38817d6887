// Everything that reaches a terminal is inert: names written straight into the
// file, argv values echoed in errors, and every export format.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { quickUser, tempDir, tempStore } from "./_helpers.ts";
import { runChat } from "./_run.ts";

// ESC, BEL, CSI (C1), a bidi override and a line separator.
// deno-lint-ignore no-control-regex -- finding control characters is the point
const RAW = /[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

Deno.test("export, rooms and error lines show hostile names inert", async (t) => {
  using dir = tempDir();
  const store = tempStore(dir.path);
  const alice = await quickUser(store, "alice");
  const room = store.createRoom("general", alice.id);
  store.addMessage(room.id, alice.id, "hello \u202eevil\u009b2J");
  store.close();
  // Another member writes names straight into the file.
  const db = new DatabaseSync(`${dir.path}/chat.db`);
  db.prepare("UPDATE rooms SET name = ? WHERE id = ?").run(
    "general\n[Type](http://x)\x1b]0;T\x07",
    room.id,
  );
  db.prepare("UPDATE users SET name = ? WHERE id = ?").run("al\x1b[2Jice\u202e", alice.id);
  db.close();
  const env = { CHATROOM_DB: `${dir.path}/chat.db` };

  for (const format of ["txt", "md", "json"]) {
    await t.step(`export --format ${format}`, async () => {
      const run = await runChat(["export", "--room", "general", "--format", format], { env });
      assert.equal(run.code, 0, run.stderr);
      assert.doesNotMatch(run.stdout, RAW);
      if (format === "md") {
        const heading = run.stdout.split("\n")[0];
        assert.ok(heading.startsWith("# general␊"), heading);
        assert.ok(heading.includes("\\[Type\\]\\(http://x\\)"), heading);
      }
      if (format === "json") {
        const [message] = JSON.parse(run.stdout);
        assert.equal(message.text, "hello \u202eevil\u009b2J", "JSON keeps the text, escaped");
        assert.match(run.stdout, /\\u202e/);
      }
    });
  }
  await t.step("rooms", async () => {
    const run = await runChat(["rooms"], { env });
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stdout, RAW);
    assert.equal(run.stdout.trim().split("\n").length, 2, "one header and one room line");
  });
  await t.step("an argv value echoed in an error", async () => {
    const run = await runChat(["export", "--room", "x\x1b]0;T\x07\nforged"], { env });
    assert.equal(run.code, 1);
    assert.doesNotMatch(run.stderr, RAW);
    assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
    assert.match(run.stderr, /There is no room named "x␛\]0;T␇␊forged"/);
  });
});
