import assert from "node:assert/strict";
import { COMMANDS, helpText, runCommand } from "../lib/commands.ts";
import { parseInput } from "../lib/input.ts";
import { quickUser, tempDir, tempStore } from "./_helpers.ts";

Deno.test("parseInput() tells commands from text", () => {
  assert.deepEqual(parseInput("hello"), { kind: "text", text: "hello" });
  assert.deepEqual(parseInput("  spaced  "), { kind: "text", text: "  spaced  " });
  assert.deepEqual(parseInput(""), { kind: "empty" });
  assert.deepEqual(parseInput("   "), { kind: "empty" });
  assert.deepEqual(parseInput("q"), { kind: "command", name: "leave", args: "" });
  assert.deepEqual(parseInput("/JOIN  lobby "), { kind: "command", name: "join", args: "lobby" });
  assert.deepEqual(parseInput("//etc/passwd"), { kind: "text", text: "/etc/passwd" });
  assert.deepEqual(parseInput("quit it"), { kind: "text", text: "quit it" });
});

Deno.test("helpText() lists every command in the table", () => {
  const help = helpText();
  for (const command of COMMANDS) {
    assert.ok(help.includes(`/${command.name}`), command.name);
    assert.ok(help.includes(command.help), command.help);
  }
  assert.ok(help.includes("/join NAME"));
});

Deno.test("runCommand() turns commands into effects and errors into lines", async (t) => {
  using dir = tempDir();
  const store = tempStore(dir.path);
  const user = await quickUser(store, "alice");
  const room = store.createRoom("general", user.id);
  const context = { store, user, room, now: Date.now(), hotlist: [], bell: true };

  await t.step("/join switches to an existing room or creates one", async () => {
    const [effect] = await runCommand("join", "Lobby", context);
    assert.equal(effect.kind, "join");
    assert.equal(effect.kind === "join" && effect.room.name, "Lobby");
    assert.equal(store.findRoom("lobby")?.name, "Lobby");
    const [again] = await runCommand("join", "LOBBY", context);
    assert.equal(again.kind === "join" && again.room.name, "Lobby");
  });
  await t.step("/join to the room you are in says so", async () => {
    assert.deepEqual(await runCommand("join", "general", context), [
      { kind: "notice", text: "You are in general" },
    ]);
  });
  await t.step("usage errors come from the table", async () => {
    assert.deepEqual(await runCommand("join", "", context), [{
      kind: "error",
      text: "Usage: /join NAME",
    }]);
    assert.deepEqual(await runCommand("quit", "now", context), [
      { kind: "error", text: "/quit takes no arguments" },
    ]);
    assert.deepEqual(await runCommand("nope", "", context), [
      { kind: "error", text: "Unknown command /nope; /help lists the commands" },
    ]);
    const [bad] = await runCommand("join", "no spaces allowed", context);
    assert.equal(bad.kind, "error");
  });
  await t.step("/rooms marks the current room", async () => {
    const [effect] = await runCommand("rooms", "", context);
    assert.equal(effect.kind, "notice");
    const text = effect.kind === "notice" ? effect.text : "";
    assert.match(text, /^general {2}no messages yet {2}\(you are here\)$/m);
    assert.match(text, /^Lobby {2}no messages yet$/m);
  });
  await t.step("/leave, /quit and /help", async () => {
    assert.deepEqual(await runCommand("leave", "", context), [{ kind: "leave" }]);
    assert.deepEqual(await runCommand("quit", "", context), [{ kind: "quit" }]);
    assert.deepEqual(await runCommand("help", "", context), [{ kind: "notice", text: helpText() }]);
  });
  store.close();
});
