// The chat's model, whatever stores it: accounts, rooms, messages and the
// limits every backend enforces.
import { ChatError } from "./errors.ts";

/** Longest message accepted, in code points. */
export const MAX_MESSAGE_LENGTH = 4000;
/** How many messages a room shows when you join it. */
export const HISTORY_ON_JOIN = 50;
/**
 * Most characters of one message a reader gets. Messages we write are far
 * shorter; a longer one was planted in the file, and export writes it whole.
 */
export const SHOWN_TEXT_LIMIT = 16_384;
/** Most rooms one list of rooms holds; menus search past it. */
export const ROOM_LIST_LIMIT = 50;

/** A chat account, without its password hash. */
export interface User {
  id: number;
  name: string;
}

/** A room as listed in the room menu. */
export interface Room {
  id: number;
  name: string;
  /** When the last message was sent (ms since the epoch), or null for none. */
  lastActivity: number | null;
}

/** A stored chat message. */
export interface Message {
  id: number;
  roomId: number;
  userId: number;
  userName: string;
  /** The text, or its first {@linkcode SHOWN_TEXT_LIMIT} characters. */
  text: string;
  /** How many characters of the stored text `text` leaves out (0 for a whole text). */
  more: number;
  /** Milliseconds since the epoch. */
  sentAt: number;
}

/**
 * How fast one account may send messages or create rooms: a burst of `burst`,
 * then one every `1 / perSecond` seconds.
 */
export interface Rate {
  burst: number;
  perSecond: number;
}

/** The limits new databases start with; the file's `settings` table may change them. */
export const DEFAULT_LIMITS: Readonly<Record<"message" | "room", Rate>> = {
  message: { burst: 20, perSecond: 5 },
  room: { burst: 10, perSecond: 1 / 30 },
};

/**
 * Refuses a message that is empty or longer than {@linkcode MAX_MESSAGE_LENGTH}.
 *
 * @example
 * ```ts
 * checkMessage("hello"); // ok
 * checkMessage("x".repeat(4001)); // throws ChatError
 * ```
 */
export function checkMessage(text: string): void {
  if (text.trim().length === 0) throw new ChatError("Message is empty");
  // SQLite would store a NUL, but readers would show only the text before it.
  // deno-lint-ignore no-control-regex -- finding control characters is the point
  const control = /[\x00-\x08\x0b-\x1f\x7f]/.exec(text);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).padStart(2, "0").toUpperCase();
    throw new ChatError(
      `Message holds a control character (U+00${code}); only tabs and line breaks are allowed. Nothing was sent`,
    );
  }
  const length = [...text].length;
  if (length > MAX_MESSAGE_LENGTH) {
    throw new ChatError(
      `Message is ${length} characters long; the limit is ${MAX_MESSAGE_LENGTH}. Nothing was sent`,
    );
  }
}
