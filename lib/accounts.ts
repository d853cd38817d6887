import { ChatError, WaitError } from "./errors.ts";
import { checkNewPassword, hashPassword, type ScryptParams, verifyPassword } from "./password.ts";
import type { User } from "./model.ts";
import type { SqliteStore as Store } from "./sqlite_store.ts";

/**
 * The Unix account this process runs as: wrong passwords are counted per Unix
 * account, so one member's guesses never lock another out. -1 where there is
 * none (Windows).
 */
export function currentUid(): number {
  return Deno.uid() ?? -1;
}

/**
 * Creates an account with a hashed password.
 *
 * @example
 * ```ts
 * const alice = await register(store, "alice", "correct horse");
 * ```
 */
export async function register(
  store: Store,
  rawName: string,
  password: string,
  params?: ScryptParams,
): Promise<User> {
  // Check before hashing so a taken name fails at once; the insert checks again.
  const name = store.checkNewUserName(rawName);
  checkNewPassword(password);
  return store.createUser(name, await hashPassword(password, params));
}

/**
 * Checks a name and password and returns the account. From the third wrong
 * password in a row from one Unix account on, that Unix account must wait a
 * growing while before its next try; others, the owner among them, need not.
 *
 * @example
 * ```ts
 * const alice = await logIn(store, "ALICE", "correct horse"); // names ignore case
 * ```
 */
export async function logIn(
  store: Store,
  name: string,
  password: string,
  uid: number = currentUid(),
): Promise<User> {
  const found = store.findUser(name);
  if (!found) throw new ChatError(`There is no account named "${name.trim()}"`);
  const wait = store.loginWait(found.id, uid);
  if (wait > 0) {
    throw new WaitError(
      `Too many wrong passwords for ${found.name}; try again in ${Math.ceil(wait / 1000)} s`,
      wait,
    );
  }
  if (!(await verifyPassword(password, found.passwordHash))) {
    const delay = store.recordFailedLogin(found.id, uid);
    throw new WaitError(
      `Wrong password for ${found.name}` +
        (delay > 0 ? `; the next try must wait ${Math.ceil(delay / 1000)} s` : ""),
      delay,
    );
  }
  store.resetFailedLogins(found.id, uid);
  return { id: found.id, name: found.name };
}
