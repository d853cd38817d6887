// The chat view as one model: every keystroke, paste, resize and batch from the
// worker is an event; `update` returns the next state and the effects the
// runner performs (print, send, run a command). Pure, so it is tested without
// a terminal.
import { COMMANDS } from "./commands.ts";
import { type Draft, editDraft, EMPTY_DRAFT, insert, moveLine } from "./draft.ts";
import { parseInput } from "./input.ts";
import type { KeyEvent } from "./keys.ts";
import type { Message, Room } from "./model.ts";

/** Something shown above the input line, kept so that a resize can draw it again. */
export type Shown =
  | { kind: "message"; message: Message }
  | { kind: "notice"; text: string }
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
  readonly outbox: readonly { roomId: number; text: string }[];
  /** Tab's choices while it cycles: they replace the draft from `start` to the cursor. */
  readonly completing?: { start: number; choices: readonly string[]; index: number };
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
  | { kind: "limited"; roomId: number; text: string; waitMs: number }
  /** The wait for the rate limit is over. */
  | { kind: "flush" }
  | { kind: "joined"; room: Room; history: readonly Message[] }
  /** Names Tab may complete to, found for a `complete` effect. */
  | { kind: "completions"; completion: Completion; names: readonly string[] }
  | { kind: "resize" };

/** What the runner does for the chat view. */
export type ChatEffect =
  | { kind: "show"; items: readonly Shown[] }
  | { kind: "redraw" }
  | { kind: "send"; roomId: number; text: string }
  | { kind: "command"; name: string; args: string; line: string }
  | { kind: "wake"; afterMs: number }
  | { kind: "follow"; roomId: number; afterId: number }
  | { kind: "complete"; completion: Completion }
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
export function initialState(room: Room, history: readonly string[]): ChatState {
  return {
    room,
    draft: EMPTY_DRAFT,
    lastShown: 0,
    shown: [],
    history,
    outbox: [],
    quitArmedUntil: 0,
  };
}

function keep(shown: readonly Shown[], items: readonly Shown[]): readonly Shown[] {
  const all = [...shown, ...items];
  return all.length > SHOWN_KEPT ? all.slice(all.length - SHOWN_KEPT) : all;
}

function show(state: ChatState, items: Shown[]): [ChatState, ChatEffect[]] {
  if (items.length === 0) return [state, []];
  return [{ ...state, shown: keep(state.shown, items) }, [{ kind: "show", items }]];
}

/** New messages of the current room, each once; a late batch from a room left is dropped. */
function messages(
  state: ChatState,
  roomId: number,
  batch: readonly Message[],
): [ChatState, ChatEffect[]] {
  if (roomId !== state.room.id) return [state, []];
  let lastShown = state.lastShown;
  const items: Shown[] = [];
  for (const message of batch) {
    if (message.id <= lastShown) continue;
    lastShown = message.id;
    items.push({ kind: "message", message });
  }
  return show({ ...state, lastShown }, items);
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
    const message = { roomId: state.room.id, text: input.text };
    // While earlier messages wait for the rate limit, this one waits behind them.
    if (state.outbox.length > 0) return [{ ...next, outbox: [...state.outbox, message] }, []];
    return [next, [{ kind: "send", ...message }]];
  }
  return [next, [{ kind: "command", name: input.name, args: input.args, line: text }]];
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
      const waiting = [{ roomId: event.roomId, text: event.text }, ...state.outbox];
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
      const entered = { ...state, room: event.room, lastShown: 0 };
      const [shown, effects] = show(entered, [{
        kind: "notice",
        text: `You are in ${event.room.name}. /help lists the commands; q leaves the room.`,
      }]);
      const [withHistory, more] = messages(shown, event.room.id, event.history);
      return [withHistory, [...effects, ...more, {
        kind: "follow",
        roomId: event.room.id,
        afterId: withHistory.lastShown,
      }]];
    }
    case "completions":
      return completions(state, event.completion, event.names);
    case "resize":
      return [state, [{ kind: "redraw" }]];
  }
}
