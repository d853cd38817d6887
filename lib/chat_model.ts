// The chat view as one model: every keystroke, paste, resize and batch from the
// worker is an event; `update` returns the next state and the effects the
// runner performs (print, send, run a command). Pure, so it is tested without
// a terminal.
import { COMMANDS } from "./commands.ts";
import { type Draft, editDraft, EMPTY_DRAFT, insert, moveLine } from "./draft.ts";
import { parseInput } from "./input.ts";
import type { KeyEvent } from "./keys.ts";
import {
  HISTORY_PAGE,
  mentionedNames,
  type Message,
  type MessageKind,
  namesIn,
  type Presence,
  type Room,
  type Unread,
  type User,
} from "./model.ts";
import { nameKey } from "./names.ts";
import { inert } from "./sanitize.ts";

/** Something shown above the input line, kept so that a resize can draw it again. */
export type Shown =
  | { kind: "message"; message: Message }
  | { kind: "notice"; text: string }
  /** A quiet line: someone came or went, where unread messages start, a page of history. */
  | { kind: "quiet"; text: string }
  /** The day the messages below it were sent. */
  | { kind: "day"; at: number }
  | { kind: "error"; text: string };

/** How many shown items are kept for redrawing after a resize. */
export const SHOWN_KEPT = 200;
/** How long a first Ctrl-C on an empty line waits for the second. */
export const QUIT_WINDOW_MS = 2000;
/** Most lines kept in the input history. */
const HISTORY_KEPT = 500;

/** Everything the chat view knows. */
export interface ChatState {
  readonly room: Room;
  /** Who is using this view. */
  readonly me: User;
  readonly draft: Draft;
  /** The newest message id shown in this room: batches never show one twice. */
  readonly lastShown: number;
  readonly shown: readonly Shown[];
  /** Lines sent or run, oldest first; the account's, cleared at log-out. */
  readonly history: readonly string[];
  /** Where Up/Down is in `history`, and the draft from before browsing. */
  readonly browsing?: { index: number; saved: Draft };
  /** Until when a second Ctrl-C quits. */
  readonly quitArmedUntil: number;
  /** Messages sent while over the rate limit, oldest first: they go out as it allows. */
  readonly outbox: readonly Outgoing[];
  /** Tab's choices while it cycles: they replace the draft from `start` to the cursor. */
  readonly completing?: { start: number; choices: readonly string[]; index: number };
  /** The oldest message id shown in this room (0 for none): /history shows what came before. */
  readonly oldestShown: number;
  /** The local day of the last message shown, to draw a line when the next is of another. */
  readonly lastDay?: string;
  /** Everyone logged in, as last reported; undefined before the first report. */
  readonly present?: readonly Presence[];
  /** The others in this room, by name, sorted; undefined until known. */
  readonly here?: readonly string[];
  /** The rooms with news, as last reported; undefined before the first report. */
  readonly unread?: readonly Unread[];
  /** Whether a mention rings the terminal bell. */
  readonly bell: boolean;
}

/** A line on its way to the store. */
export interface Outgoing {
  roomId: number;
  text: string;
  as: MessageKind;
  /** The line typed, when a command made it (`/msg bob hi`): what comes back if refused. */
  line?: string;
}

/** What Tab completes: a command, a room name after /join, or a user name. */
export interface Completion {
  what: "command" | "room" | "user";
  prefix: string;
  /** Where the completed word starts in the draft. */
  start: number;
  /** What follows a chosen name: a space, or ": " when addressing someone. */
  suffix: string;
}

/** What happens to the chat view. */
export type ChatEvent =
  | { kind: "key"; key: KeyEvent; now: number }
  | { kind: "messages"; roomId: number; messages: readonly Message[] }
  | { kind: "notice"; text: string }
  | { kind: "error"; text: string }
  /** A message was stored: the next one waiting may go. */
  | { kind: "sent" }
  /** The store refused a message or a command failed: the line goes back into the input line. */
  | { kind: "refused"; text: string; reason: string }
  /** Over the rate limit: the message waits its turn, `waitMs` at least. */
  | {
    kind: "limited";
    roomId: number;
    text: string;
    as: MessageKind;
    line?: string;
    waitMs: number;
  }
  /** The wait for the rate limit is over. */
  | { kind: "flush" }
  /** Entered `room` (at the start, or by /join): its last messages and the reader's marker. */
  | { kind: "joined"; room: Room; history: readonly Message[]; lastRead: number; now: number }
  /** /history asks for `limit` messages before the oldest shown. */
  | { kind: "page"; limit: number }
  /** The page of history /history or PageUp asked for. */
  | { kind: "earlier"; roomId: number; messages: readonly Message[] }
  /** Everyone logged in, as the follower reports it. */
  | { kind: "presence"; present: readonly Presence[] }
  /** The rooms with news for this account, as the follower reports them. */
  | { kind: "unread"; unread: readonly Unread[] }
  /** A command's line to send as a message: `/me` or `/topic`, or `/msg` to a conversation. */
  | { kind: "say"; roomId: number; text: string; as: MessageKind; line?: string }
  /** The bell was turned on or off. */
  | { kind: "bell"; on: boolean }
  /** Names Tab may complete to, found for a `complete` effect. */
  | { kind: "completions"; completion: Completion; names: readonly string[] }
  | { kind: "resize" };

/** What the runner does for the chat view. */
export type ChatEffect =
  | { kind: "show"; items: readonly Shown[] }
  | { kind: "redraw" }
  | { kind: "send"; roomId: number; text: string; as: MessageKind; line?: string }
  | { kind: "command"; name: string; args: string; line: string }
  | { kind: "wake"; afterMs: number }
  | { kind: "follow"; roomId: number; afterId: number }
  | { kind: "complete"; completion: Completion }
  /** Fetch up to `limit` messages of `roomId` before `beforeId`, as an `earlier` event. */
  | { kind: "history"; roomId: number; beforeId: number; limit: number }
  /** The reader has seen `roomId` up to `messageId`. */
  | { kind: "read"; roomId: number; messageId: number }
  /** Ring the terminal bell. */
  | { kind: "ring" }
  | { kind: "leave" }
  | { kind: "quit" };

/**
 * The state on entering `room`, with the account's input history.
 *
 * @example
 * ```ts
 * const state = initialState(room, []);
 * ```
 */
export function initialState(
  room: Room,
  me: User,
  history: readonly string[],
  bell = true,
): ChatState {
  return {
    room,
    me,
    draft: EMPTY_DRAFT,
    lastShown: 0,
    oldestShown: 0,
    shown: [],
    history,
    outbox: [],
    quitArmedUntil: 0,
    bell,
  };
}

/** The local day of `at`, as a key two times of one day share. */
export function dayKey(at: number): string {
  const date = new Date(at);
  return `${date.getFullYear()}-${date.getMonth() + 1}-${date.getDate()}`;
}

/** Whether `message` names `me` with an `@`, by the name rules (case ignored). */
export function mentions(message: Message, me: User): boolean {
  if (message.userId === me.id || message.kind === "topic") return false;
  const named = mentionedNames(message.text);
  if (named.length === 0) return false; // most lines name no one
  const key = nameKey(me.name);
  return named.some((name) => nameKey(name) === key);
}

/** The rooms with news, most urgent first: mentions, then conversations, then the most unread. */
export function hotlist(state: ChatState): Unread[] {
  return (state.unread ?? []).filter((u) => u.room.id !== state.room.id).sort((a, b) =>
    Number(b.mentions > 0) - Number(a.mentions > 0) ||
    Number(b.room.members !== undefined) - Number(a.room.members !== undefined) ||
    b.unread - a.unread || a.room.name.localeCompare(b.room.name)
  );
}

function keep(shown: readonly Shown[], items: readonly Shown[]): readonly Shown[] {
  const all = [...shown, ...items];
  return all.length > SHOWN_KEPT ? all.slice(all.length - SHOWN_KEPT) : all;
}

function show(state: ChatState, items: Shown[]): [ChatState, ChatEffect[]] {
  if (items.length === 0) return [state, []];
  return [{ ...state, shown: keep(state.shown, items) }, [{ kind: "show", items }]];
}

/**
 * Messages of the current room, each once, with a line where the day changes
 * (and, with `lastRead`, where the unread ones start); a late batch from a
 * room left is dropped. A message naming the reader rings the bell.
 */
function messages(
  state: ChatState,
  roomId: number,
  batch: readonly Message[],
  { lastRead = 0, live = true } = {},
): [ChatState, ChatEffect[]] {
  if (roomId !== state.room.id) return [state, []];
  let { lastShown, lastDay, oldestShown, room } = state;
  const items: Shown[] = [];
  let ring = false;
  let marked = false;
  for (const message of batch) {
    if (message.id <= lastShown) continue;
    // One line, as toRoom() makes a stored topic: a line break could forge a line under it.
    if (message.kind === "topic") room = { ...room, topic: inert(message.text) };
    // Before the first message from someone else past the marker: your own are not news.
    if (lastRead > 0 && !marked && message.id > lastRead && message.userId !== state.me.id) {
      marked = true;
      items.push({ kind: "quiet", text: "── new since you were last here ──" });
    }
    const day = dayKey(message.sentAt);
    if (day !== lastDay) items.push({ kind: "day", at: message.sentAt });
    lastDay = day;
    lastShown = message.id;
    if (oldestShown === 0) oldestShown = message.id;
    items.push({ kind: "message", message });
    ring ||= live && mentions(message, state.me);
  }
  const [next, effects] = show({ ...state, room, lastShown, lastDay, oldestShown }, items);
  if (items.length === 0) return [next, effects];
  return [next, [
    ...effects,
    ...(ring && state.bell ? [{ kind: "ring" as const }] : []),
    { kind: "read", roomId, messageId: lastShown },
  ]];
}

/** A page of history, shown below what is on screen between two quiet lines. */
function earlier(
  state: ChatState,
  roomId: number,
  batch: readonly Message[],
): [ChatState, ChatEffect[]] {
  if (roomId !== state.room.id) return [state, []];
  const page = batch.filter((m) => m.id < state.oldestShown || state.oldestShown === 0);
  if (page.length === 0) {
    return show(state, [{
      kind: "quiet",
      text: "── nothing earlier: this is where the room starts ──",
    }]);
  }
  const items: Shown[] = [{
    kind: "quiet",
    text: `── ${page.length} earlier message${page.length === 1 ? "" : "s"} ──`,
  }];
  let lastDay: string | undefined;
  for (const message of page) {
    const day = dayKey(message.sentAt);
    if (day !== lastDay) items.push({ kind: "day", at: message.sentAt });
    lastDay = day;
    items.push({ kind: "message", message });
  }
  items.push({ kind: "quiet", text: "── end of the earlier messages; /history shows more ──" });
  return show({ ...state, oldestShown: page[0].id }, items);
}

/** Who came and went in this room since the last report, as quiet lines. */
function presence(state: ChatState, present: readonly Presence[]): [ChatState, ChatEffect[]] {
  const here = othersHere(present, state);
  const before = state.here;
  const next = { ...state, present, here };
  if (before === undefined) {
    if (here.length === 0) return [next, []];
    return show(next, [{ kind: "quiet", text: `Here now: ${listed(here)}` }]);
  }
  const came = here.filter((name) => !before.includes(name));
  const went = before.filter((name) => !here.includes(name));
  return show(next, [...said(came, "joined"), ...said(went, "left")]);
}

/** Most names one presence line lists; the rest are counted. */
const NAMES_SAID = 5;

/** `bob joined`, one line each, or for a crowd one line that names a few and counts the rest. */
function said(names: readonly string[], what: string): Shown[] {
  if (names.length <= NAMES_SAID) {
    return names.map((name) => ({ kind: "quiet", text: `${name} ${what}` }));
  }
  const more = names.length - NAMES_SAID;
  return [{
    kind: "quiet",
    text: `${names.slice(0, NAMES_SAID).join(", ")} and ${more} others ${what}`,
  }];
}

/** A few names, and how many more: `alice, bob and 3 others`. */
function listed(names: readonly string[], most = 20): string {
  return names.length <= most
    ? names.join(", ")
    : `${names.slice(0, most).join(", ")} and ${names.length - most} others`;
}

function othersHere(present: readonly Presence[], state: ChatState): string[] {
  return namesIn(present.filter((p) => p.userId !== state.me.id), state.room.id);
}

/** The rooms with news changed: a new mention elsewhere rings the bell (not the first report). */
function unread(state: ChatState, news: readonly Unread[]): [ChatState, ChatEffect[]] {
  const before = state.unread;
  const next = { ...state, unread: news };
  if (before === undefined || !state.bell) return [next, []];
  const rang = news.some((u) =>
    u.room.id !== state.room.id &&
    u.mentions > (before.find((b) => b.room.id === u.room.id)?.mentions ?? 0)
  );
  return [next, rang ? [{ kind: "ring" }] : []];
}

function remember(history: readonly string[], line: string): readonly string[] {
  if (history.at(-1) === line) return history;
  const next = [...history, line];
  return next.length > HISTORY_KEPT ? next.slice(next.length - HISTORY_KEPT) : next;
}

/** Enter: a line is sent or run; a draft with line breaks is always sent as text. */
function submit(state: ChatState): [ChatState, ChatEffect[]] {
  // A draft of more than one line is text, even once the blank lines at its end are dropped.
  const multiline = state.draft.text.includes("\n");
  const text = state.draft.text.replace(/\n\s*$/, "");
  const input = multiline
    ? (text.trim() ? { kind: "text" as const, text } : { kind: "empty" as const })
    : parseInput(text);
  if (input.kind === "empty") return [{ ...state, draft: EMPTY_DRAFT, browsing: undefined }, []];
  const next = {
    ...state,
    draft: EMPTY_DRAFT,
    browsing: undefined,
    history: remember(state.history, text),
  };
  if (input.kind === "text") {
    return say(next, { roomId: state.room.id, text: input.text, as: "text" });
  }
  return [next, [{ kind: "command", name: input.name, args: input.args, line: text }]];
}

/** A line on its way, from an event that carries one (the typed line only when there is one). */
function outgoing(
  { roomId, text, as, line }: { roomId: number; text: string; as: MessageKind; line?: string },
): Outgoing {
  return line === undefined ? { roomId, text, as } : { roomId, text, as, line };
}

/** Sends a line, or queues it behind those waiting for the rate limit. */
function say(state: ChatState, message: Outgoing): [ChatState, ChatEffect[]] {
  if (state.outbox.length > 0) return [{ ...state, outbox: [...state.outbox, message] }, []];
  return [state, [{ kind: "send", ...message }]];
}

/** Asks for the page of history before the oldest message shown. */
function history(state: ChatState, limit: number): [ChatState, ChatEffect[]] {
  if (state.oldestShown === 0) {
    return show(state, [{
      kind: "quiet",
      text: "── nothing earlier: this room has no messages ──",
    }]);
  }
  return [state, [{ kind: "history", roomId: state.room.id, beforeId: state.oldestShown, limit }]];
}

function browse(state: ChatState, step: -1 | 1): ChatState {
  const { history } = state;
  if (history.length === 0) return state;
  const saved = state.browsing?.saved ?? state.draft;
  const index = (state.browsing?.index ?? history.length) + step;
  if (index < 0) return state;
  if (index >= history.length) return { ...state, draft: saved, browsing: undefined };
  const text = history[index];
  return { ...state, draft: { text, cursor: text.length }, browsing: { index, saved } };
}

/** What Tab would complete at the cursor, if anything. */
export function completionAt(draft: Draft): Completion | undefined {
  const before = draft.text.slice(0, draft.cursor);
  let match = /^\/(\S*)$/.exec(before);
  if (match) return { what: "command", prefix: match[1], start: 1, suffix: " " };
  match = /^\/(?:msg|dm)\s+(\S*)$/i.exec(before);
  if (match) {
    return { what: "user", prefix: match[1], start: before.length - match[1].length, suffix: " " };
  }
  match = /^\/join\s+(\S*)$/i.exec(before);
  if (match) {
    return { what: "room", prefix: match[1], start: before.length - match[1].length, suffix: "" };
  }
  match = /(^|\s)@(\S*)$/.exec(before);
  if (match) {
    return { what: "user", prefix: match[2], start: before.length - match[2].length, suffix: " " };
  }
  match = /^([^\s/@]+)$/.exec(before);
  if (match) return { what: "user", prefix: match[1], start: 0, suffix: ": " };
  return undefined;
}

/** Puts choice `index` in place of what Tab is completing. */
function choose(state: ChatState, start: number, choices: readonly string[], index: number) {
  const { text, cursor } = state.draft;
  const draft = insert(
    { text: text.slice(0, start) + text.slice(cursor), cursor: start },
    choices[index],
  );
  return { ...state, draft, completing: { start, choices, index } };
}

function tab(state: ChatState): [ChatState, ChatEffect[]] {
  const cycling = state.completing;
  if (cycling) {
    return [
      choose(state, cycling.start, cycling.choices, (cycling.index + 1) % cycling.choices.length),
      [],
    ];
  }
  const completion = completionAt(state.draft);
  if (!completion) return [state, []];
  if (completion.what === "command") {
    const names = COMMANDS.map((c) => c.name).filter((name) =>
      name.startsWith(completion.prefix.toLowerCase())
    );
    return completions(state, completion, names);
  }
  return [state, [{ kind: "complete", completion }]];
}

function completions(
  state: ChatState,
  completion: Completion,
  names: readonly string[],
): [ChatState, ChatEffect[]] {
  // Only if the draft is still what Tab was pressed on.
  if (names.length === 0 || completionAt(state.draft)?.start !== completion.start) {
    return [state, []];
  }
  const choices = names.map((name) => name + completion.suffix);
  return [choose(state, completion.start, choices, 0), []];
}

function key(state: ChatState, event: KeyEvent, now: number): [ChatState, ChatEffect[]] {
  if (event.kind === "key" && event.name === "tab") return tab(state);
  state = { ...state, completing: undefined };
  if (event.kind === "text" || event.kind === "paste") {
    // A paste goes into the draft whole, line breaks included, and waits for Enter.
    return [{ ...state, draft: insert(state.draft, event.text), quitArmedUntil: 0 }, []];
  }
  const typing = { ...state, quitArmedUntil: 0 };
  switch (event.name) {
    case "enter":
      return submit(typing);
    case "ctrl-c":
      if (state.draft.text) return [{ ...typing, draft: EMPTY_DRAFT, browsing: undefined }, []];
      if (now < state.quitArmedUntil) return [state, [{ kind: "quit" }]];
      return show(
        { ...state, quitArmedUntil: now + QUIT_WINDOW_MS },
        [{ kind: "notice", text: "Press Ctrl-C again to quit (or type q to leave the room)" }],
      );
    case "ctrl-d":
      if (!state.draft.text) return [state, [{ kind: "quit" }]];
      break;
    case "up":
    case "down": {
      // In a draft of several lines, Up and Down move between them; past its first or last
      // line (or while already going through the history) they recall earlier lines.
      const step = event.name === "up" ? -1 : 1;
      const moved = state.browsing ? undefined : moveLine(state.draft, step);
      if (moved) return [{ ...typing, draft: moved }, []];
      return [browse(typing, step), []];
    }
    case "ctrl-l":
      return [typing, [{ kind: "redraw" }]];
    case "page-up":
      return history(typing, HISTORY_PAGE);
    case "alt-a":
      return [typing, [{ kind: "command", name: "next", args: "", line: state.draft.text }]];
  }
  const draft = editDraft(state.draft, event.name);
  return [draft ? { ...typing, draft } : typing, []];
}

/**
 * The next state of the chat view, and what to do.
 *
 * @example
 * ```ts
 * const [next, effects] = update(state, { kind: "key", key: { kind: "key", name: "enter" }, now: Date.now() });
 * ```
 */
export function update(state: ChatState, event: ChatEvent): [ChatState, ChatEffect[]] {
  switch (event.kind) {
    case "key":
      return key(state, event.key, event.now);
    case "messages":
      return messages(state, event.roomId, event.messages);
    case "page":
      return history(state, event.limit);
    case "earlier":
      return earlier(state, event.roomId, event.messages);
    case "presence":
      return presence(state, event.present);
    case "unread":
      return unread(state, event.unread);
    case "say":
      return say(state, outgoing(event));
    case "bell":
      return [{ ...state, bell: event.on }, []];
    case "notice":
    case "error":
      return show(state, [{ kind: event.kind, text: event.text }]);
    case "sent":
    case "flush": {
      const [first, ...rest] = state.outbox;
      if (!first) return [state, []];
      return [{ ...state, outbox: rest }, [{ kind: "send", ...first }]];
    }
    case "limited": {
      const waiting = [outgoing(event), ...state.outbox];
      const wake: ChatEffect = { kind: "wake", afterMs: event.waitMs };
      if (state.outbox.length > 0) return [{ ...state, outbox: waiting }, [wake]];
      // Said once per burst; the text is kept, in order, and sent when allowed.
      const [next, effects] = show({ ...state, outbox: waiting }, [{
        kind: "notice",
        text: "You are sending faster than the rate limit; what you send waits its turn",
      }]);
      return [next, [...effects, wake]];
    }
    case "refused": {
      // The refused text comes back unless something new was typed meanwhile,
      // and whatever waits behind it still goes.
      const draft = state.draft.text
        ? state.draft
        : { text: event.text, cursor: event.text.length };
      const [next, effects] = show({ ...state, draft }, [{ kind: "error", text: event.reason }]);
      const [first, ...rest] = next.outbox;
      if (!first) return [next, effects];
      return [{ ...next, outbox: rest }, [...effects, { kind: "send", ...first }]];
    }
    case "joined": {
      const { room } = event;
      const entered: ChatState = {
        ...state,
        room,
        lastShown: 0,
        oldestShown: 0,
        lastDay: dayKey(event.now), // a first message of today needs no line saying so
        here: state.present ? othersHere(state.present, { ...state, room }) : undefined,
      };
      const lines: Shown[] = [{
        kind: "notice",
        text: room.members
          ? `You are in your conversation with ${
            room.name.slice(1)
          }. /help lists the commands; q leaves it.`
          : `You are in ${room.name}. /help lists the commands; q leaves the room.`,
      }];
      if (room.topic) lines.push({ kind: "notice", text: `Topic: ${room.topic}` });
      if (entered.here?.length) {
        lines.push({ kind: "quiet", text: `Here now: ${listed(entered.here)}` });
      }
      const [shown, effects] = show(entered, lines);
      // The first of the history gets its day unless it is today's.
      const history = event.history;
      const [withHistory, more] = messages(
        history.length && dayKey(history[0].sentAt) !== shown.lastDay
          ? { ...shown, lastDay: undefined }
          : shown,
        room.id,
        history,
        { lastRead: event.lastRead, live: false },
      );
      return [withHistory, [...effects, ...more, {
        kind: "follow",
        roomId: room.id,
        afterId: withHistory.lastShown,
      }]];
    }
    case "completions":
      return completions(state, event.completion, event.names);
    case "resize":
      return [state, [{ kind: "redraw" }]];
  }
}
