import assert from "node:assert/strict";
import {
  checkNewPassword,
  DEFAULT_PARAMS,
  hashPassword,
  parseHash,
  verifyPassword,
} from "../lib/password.ts";
import { assertChatError, FAST_SCRYPT } from "./_helpers.ts";

Deno.test("hashPassword() uses at least OWASP's scrypt cost and stores it with the hash", async () => {
  const stored = await hashPassword("correct horse");
  const { params, salt, key } = parseHash(stored);
  assert.deepEqual(params, DEFAULT_PARAMS);
  assert.ok(params.N >= 2 ** 17 && params.r >= 8 && params.p >= 1);
  assert.equal(salt.length, 16);
  assert.equal(key.length, 32);
  assert.ok(!stored.includes("correct horse"));
  assert.equal(await verifyPassword("correct horse", stored), true);
  assert.equal(await verifyPassword("correct horsE", stored), false);
});

Deno.test("hashPassword() salts each hash differently", async () => {
  const a = await hashPassword("same password", FAST_SCRYPT);
  const b = await hashPassword("same password", FAST_SCRYPT);
  assert.notEqual(a, b);
  assert.equal(await verifyPassword("same password", a), true);
  assert.equal(await verifyPassword("same password", b), true);
});

Deno.test("verifyPassword() uses the parameters stored with the hash", async () => {
  const stored = await hashPassword("pässwörd!", FAST_SCRYPT);
  assert.equal(parseHash(stored).params.N, FAST_SCRYPT.N);
  assert.equal(await verifyPassword("pässwörd!", stored), true);
  assert.equal(await verifyPassword("passwort!", stored), false);
});

Deno.test("parseHash() refuses a hash in an unknown format", () => {
  assertChatError(() => parseHash("plaintext"), "unknown format");
  assertChatError(() => parseHash("scrypt$x$8$1$AA==$AA=="), "does not accept");
});

Deno.test("parseHash() refuses costs this program never writes, such as a planted N=2^22", async () => {
  const [, , , , salt, key] = (await hashPassword("correct horse", FAST_SCRYPT)).split("$");
  for (
    const [N, r, p] of [[2 ** 22, 8, 1], [2 ** 9, 8, 1], [3 * 2 ** 10, 8, 1], [2 ** 17, 64, 1], [
      2 ** 17,
      8,
      16,
    ]]
  ) {
    assertChatError(() => parseHash(`scrypt$${N}$${r}$${p}$${salt}$${key}`), "does not accept");
  }
  assertChatError(() => parseHash(`scrypt$1024$8$1$AA==$${key}`), "broken salt");
  assert.equal(parseHash(`scrypt$131072$8$1$${salt}$${key}`).params.N, 2 ** 17);
});

Deno.test("checkNewPassword() enforces a length of 8 to 1024", () => {
  checkNewPassword("12345678");
  assertChatError(() => checkNewPassword("1234567"), "too short");
  assertChatError(() => checkNewPassword("x".repeat(1025)), "too long");
});
