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
  /** The room's name; a direct conversation's is "@" and its other member's name. */
  name: string;
  /** When the last message was sent (ms since the epoch), or null for none. */
  lastActivity: number | null;
  /** What the room is about, as someone set it with /topic; null for none. */
  topic: string | null;
  /** A direct conversation's two members, the smaller id first; absent for a room. */
  members?: readonly [User, User];
}

/** What a stored line is: a message, a `/me` action, or a new topic. */
export type MessageKind = "text" | "me" | "topic";

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
  kind: MessageKind;
}

/** A message found by a search, with the name of its room. */
export interface Found extends Message {
  roomName: string;
}

/** Someone logged in: in a room, or in the menus (`roomId` null). */
export interface Presence {
  userId: number;
  userName: string;
  roomId: number | null;
  /** The room's name; null in the menus or in a direct conversation. */
  roomName: string | null;
}

/** A room with news for the reader: messages they have not seen, and how many name them. */
export interface Unread {
  room: Room;
  unread: number;
  mentions: number;
}

/** A client is gone when its last heartbeat is older than this. */
export const PRESENCE_TIMEOUT_MS = 30_000;
/** How often a client says it is still there. */
export const HEARTBEAT_MS = 10_000;
/** Longest topic, in code points. */
export const MAX_TOPIC_LENGTH = 300;
/** Most unread messages counted per room ("999+" past it): counting stays bounded. */
export const MAX_UNREAD_COUNTED = 999;
/** How many messages /history and PageUp show, and the most one /history shows. */
export const HISTORY_PAGE = 20;
export const HISTORY_MAX = 200;
/** Most search results shown. */
export const SEARCH_LIMIT = 20;

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

/**
 * Refuses a topic that breaks the message rules, holds a line break or is
 * longer than {@linkcode MAX_TOPIC_LENGTH}.
 */
export function checkTopic(text: string): void {
  checkMessage(text);
  if (text.includes("\n")) throw new ChatError("A topic is one line. Nothing was set");
  const length = [...text].length;
  if (length > MAX_TOPIC_LENGTH) {
    throw new ChatError(
      `The topic is ${length} characters long; the limit is ${MAX_TOPIC_LENGTH}. Nothing was set`,
    );
  }
}

/**
 * An `@mention`, for matchAll() and replace(): what stands before it (the
 * start, or a character no name holds) and the name as typed.
 */
export const MENTION = /(^|[^\p{L}\p{Nd}_.-])@([\p{L}\p{Nd}][\p{L}\p{M}\p{Nd}_.-]*)/gu;

/** The name a mention means: as typed, without the dots and dashes after it (`@bob.` is bob). */
export function mentionedName(typed: string): string {
  return typed.replace(/[.-]+$/, "");
}

/**
 * The names `@mentioned` in a text, as typed (without the `@`), each once,
 * trailing punctuation dropped: `"hi @Bob, @carol!"` names `Bob` and `carol`.
 */
export function mentionedNames(text: string): string[] {
  if (!text.includes("@")) return []; // most lines name no one
  const names = new Set<string>();
  for (const match of text.matchAll(MENTION)) {
    names.add(mentionedName(match[2]));
    if (names.size >= 20) break; // a line naming more is not asking each of them
  }
  return [...names];
}

/**
 * The words of a search, each holding a letter or digit (at most 10):
 * `"deploy  failed!"` is `["deploy", "failed!"]`.
 */
export function searchWords(words: string): string[] {
  const found = words.split(/\s+/).filter((word) => /[\p{L}\p{Nd}]/u.test(word)).slice(0, 10);
  if (found.length === 0) throw new ChatError("Search for what? Give a word or more");
  return found;
}

/** Asked for a direct conversation not yet made (a reader starts none): with whom, and how. */
export function noConversation(name: string): ChatError {
  return new ChatError(`You have no conversation with ${name} yet; send --to ${name} starts one`);
}

/** The names of those in `roomId` (null: the menus), sorted; `present` has each once per room. */
export function namesIn(present: readonly Presence[], roomId: number | null): string[] {
  return present.filter((p) => p.roomId === roomId).map((p) => p.userName)
    .sort((a, b) => a.localeCompare(b));
}
