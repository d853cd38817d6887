import assert from "node:assert/strict";
import { nameKey, normalizeName } from "../lib/names.ts";
import { assertChatError } from "./_helpers.ts";

Deno.test("normalizeName() accepts letters, digits, _ - . and NFC-normalises", () => {
  assert.equal(normalizeName("alice", "User name"), "alice");
  assert.equal(normalizeName("  Bob_2.x-y ", "User name"), "Bob_2.x-y");
  assert.equal(normalizeName("Zoe\u0301", "User name"), "Zo\u00e9");
  assert.equal(normalizeName("名前", "Room name"), "名前");
  assert.equal(normalizeName("a".repeat(32), "User name"), "a".repeat(32));
});

Deno.test("normalizeName() refuses bad names with a clear message", async (t) => {
  const cases: [string, string][] = [
    ["", "User name is empty"],
    ["   ", "User name is empty"],
    ["a".repeat(33), "User name is 33 characters long; the limit is 32"],
    ["a b", 'User name may only hold letters, digits, "_", "-" and "."'],
    ["-dash", "must start with a letter or digit"],
    ["evil\x1b[2J", 'User name may only hold letters, digits, "_", "-" and "."'],
    ["emoji😀", 'User name may only hold letters, digits, "_", "-" and "."'],
  ];
  for (const [input, message] of cases) {
    await t.step(JSON.stringify(input), () => {
      assertChatError(() => normalizeName(input, "User name"), message);
    });
  }
});

Deno.test("nameKey() folds case after NFC", () => {
  assert.equal(nameKey("Alice"), nameKey("ALICE"));
  assert.equal(nameKey("ZO\u00c9"), nameKey("zoe\u0301"));
  assert.notEqual(nameKey("alice"), nameKey("alice2"));
});
