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

/** The cheapest N accepted from the file (tests hash with it). */
const MIN_N = 2 ** 10;
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
  const [N, r, p] = parts.slice(1, 4).map((part) => /^[0-9]{1,7}$/.test(part) ? Number(part) : NaN);
  // Anyone who can write the file can store a hash: only costs this program
  // writes are accepted, so a planted N=2^22 cannot make a log-in take a minute and 4 GB.
  const powerOfTwo = (N & (N - 1)) === 0;
  if (!(N >= MIN_N && N <= DEFAULT_PARAMS.N && powerOfTwo && r === 8 && p === 1)) {
    throw new ChatError("Stored password hash has parameters this chatroom does not accept");
  }
  const salt = Buffer.from(parts[4], "base64");
  const key = Buffer.from(parts[5], "base64");
  if (salt.length !== SALT_LENGTH || key.length !== KEY_LENGTH) {
    throw new ChatError("Stored password hash has a broken salt or key");
  }
  return { params: { N, r, p }, salt, key };
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
