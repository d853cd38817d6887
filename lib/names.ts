import { ChatError } from "./errors.ts";

/** Longest user or room name, in code points after NFC normalisation. */
export const MAX_NAME_LENGTH = 32;

const NAME_PATTERN = /^[\p{L}\p{Nd}][\p{L}\p{M}\p{Nd}_.-]*$/u;

/**
 * Checks a user or room name and returns it NFC-normalised. Names are 1-32
 * letters, digits, `_`, `-` or `.`, starting with a letter or digit.
 *
 * @example
 * ```ts
 * normalizeName("alice", "User name"); // "alice"
 * normalizeName("a b", "User name"); // throws ChatError
 * ```
 */
export function normalizeName(raw: string, what: "User name" | "Room name"): string {
  const name = raw.trim().normalize("NFC");
  if (name.length === 0) throw new ChatError(`${what} is empty`);
  const length = [...name].length;
  if (length > MAX_NAME_LENGTH) {
    throw new ChatError(`${what} is ${length} characters long; the limit is ${MAX_NAME_LENGTH}`);
  }
  if (!NAME_PATTERN.test(name)) {
    throw new ChatError(
      `${what} may only hold letters, digits, "_", "-" and ".", and must start with a letter or digit`,
    );
  }
  return name;
}

/**
 * The key two names collide on: NFC-normalised and case-folded.
 *
 * @example
 * ```ts
 * nameKey("Alice") === nameKey("ALICE"); // true
 * ```
 */
export function nameKey(name: string): string {
  return name.normalize("NFC").toLowerCase().normalize("NFC");
}
