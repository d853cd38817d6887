import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { ChatError } from "./errors.ts";

/** scrypt cost parameters; OWASP's minimum for scrypt is N=2^17, r=8, p=1. */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** The parameters new hashes are made with. */
export const DEFAULT_PARAMS: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };

/** Shortest password accepted for a new account, in code points. */
export const MIN_PASSWORD_LENGTH = 8;
/** Longest password accepted, in code points. */
export const MAX_PASSWORD_LENGTH = 1024;

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  // scrypt needs 128 * N * r bytes; Node's default cap (32 MiB) is below OWASP's minimum.
  const maxmem = 256 * params.N * params.r;
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFC"), salt, KEY_LENGTH, { ...params, maxmem }, (err, key) => {
      if (err) reject(err);
      else resolve(key);
    });
  });
}

/**
 * Rejects a password that is too short or too long for a new account.
 *
 * @example
 * ```ts
 * checkNewPassword("correct horse"); // ok
 * checkNewPassword("short"); // throws ChatError
 * ```
 */
export function checkNewPassword(password: string): void {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) {
    throw new ChatError(`Password is too short; use at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (length > MAX_PASSWORD_LENGTH) {
    throw new ChatError(`Password is too long; the limit is ${MAX_PASSWORD_LENGTH} characters`);
  }
}

/**
 * Hashes a password with scrypt and a random salt. The result stores the
 * parameters with the hash: `scrypt$N$r$p$salt$key` (base64).
 *
 * @example
 * ```ts
 * const stored = await hashPassword("correct horse");
 * await verifyPassword("correct horse", stored); // true
 * ```
 */
export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_PARAMS,
): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await derive(password, salt, params);
  return ["scrypt", params.N, params.r, params.p, salt.toString("base64"), key.toString("base64")]
    .join("$");
}

/**
 * Reads the parameters a stored hash was made with.
 *
 * @example
 * ```ts
 * parseHash(await hashPassword("correct horse")).params; // { N: 131072, r: 8, p: 1 }
 * ```
 */
export function parseHash(stored: string): { params: ScryptParams; salt: Buffer; key: Buffer } {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") {
    throw new ChatError("Stored password hash is in an unknown format");
  }
  const [N, r, p] = parts.slice(1, 4).map(Number);
  if (![N, r, p].every(Number.isSafeInteger)) {
    throw new ChatError("Stored password hash has broken parameters");
  }
  return {
    params: { N, r, p },
    salt: Buffer.from(parts[4], "base64"),
    key: Buffer.from(parts[5], "base64"),
  };
}

/**
 * Compares a password with a stored hash in constant time.
 *
 * @example
 * ```ts
 * await verifyPassword("wrong", await hashPassword("correct horse")); // false
 * ```
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const { params, salt, key } = parseHash(stored);
  const candidate = await derive(password, salt, params);
  return candidate.length === key.length && timingSafeEqual(candidate, key);
}
