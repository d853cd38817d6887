// Menus and questions as pure models: a key goes in, the next state and maybe
// an answer come out; a view lays the state out as rows. The runner that reads
// keys and draws is in menus.ts.
import { displayWidth, graphemes } from "./width.ts";
import { type InputView, inputView } from "./chat_view.ts";
import { type Draft, editDraft, EMPTY_DRAFT, insert } from "./draft.ts";
import type { KeyEvent } from "./keys.ts";

/** What a menu or question ends with: a choice or an answer, or going back a step. */
export type Answer<T> = { kind: "chosen"; value: T } | { kind: "back" };

/** One line of a menu. */
export interface Choice<T> {
  label: string;
  value: T;
}

/** A menu: a title, its choices, and which one is highlighted. */
export interface MenuState<T> {
  readonly title: string;
  readonly choices: readonly Choice<T>[];
  readonly index: number;
}

/** The hint under every menu. */
export const MENU_HINT = "↑↓ move · Enter choose · Esc back";

/** How far PageUp and PageDown move. */
const PAGE = 10;

/**
 * A menu with `choices`, highlighting the one `same` finds (the highlight of a
 * menu drawn again with fresher choices stays on the same thing), else the first.
 *
 * @example
 * ```ts
 * const menu = menuState("Welcome", [{ label: "Quit", value: "quit" }]);
 * ```
 */
export function menuState<T>(
  title: string,
  choices: readonly Choice<T>[],
  same?: (value: T) => boolean,
): MenuState<T> {
  if (choices.length === 0) throw new RangeError("A menu needs a choice");
  const found = same ? choices.findIndex((choice) => same(choice.value)) : -1;
  return { title, choices, index: Math.max(0, found) };
}

/**
 * The menu after `key`, and its answer when the key gives one: Enter chooses,
 * Esc, Ctrl-C and `q` go back; arrows move, round the ends.
 *
 * @example
 * ```ts
 * const [next, answer] = menuKey(menu, { kind: "key", name: "enter" });
 * // answer: { kind: "chosen", value: "quit" }
 * ```
 */
export function menuKey<T>(state: MenuState<T>, key: KeyEvent): [MenuState<T>, Answer<T>?] {
  const last = state.choices.length - 1;
  const to = (index: number): [MenuState<T>] => [{ ...state, index }];
  if (key.kind !== "key") {
    // Text chooses nothing: a typed-ahead line or a paste must never pick a room.
    return key.kind === "text" && key.text === "q" ? [state, { kind: "back" }] : [state];
  }
  switch (key.name) {
    case "enter":
      return [state, { kind: "chosen", value: state.choices[state.index].value }];
    case "escape":
    case "ctrl-c":
      return [state, { kind: "back" }];
    case "up":
      return to(state.index === 0 ? last : state.index - 1);
    case "down":
    case "tab":
      return to(state.index === last ? 0 : state.index + 1);
    case "home":
      return to(0);
    case "end":
      return to(last);
    case "page-up":
      return to(Math.max(0, state.index - PAGE));
    case "page-down":
      return to(Math.min(last, state.index + PAGE));
    default:
      return [state];
  }
}

/** `text` cut to at most `columns` display columns, with `…` where it was cut. */
function fit(text: string, columns: number): string {
  if (displayWidth(text) <= columns) return text;
  let out = "";
  let used = 0;
  for (const { segment } of graphemes(text)) {
    const width = displayWidth(segment);
    if (used + width > columns - 1) break;
    out += segment;
    used += width;
  }
  return out + "…";
}

/**
 * The menu's rows for a terminal `width` columns wide and `height` rows high:
 * the title, a window of choices around the highlighted one, and the hint.
 * Rows never reach the last column, so no terminal wraps them.
 *
 * @example
 * ```ts
 * menuView(menu, 80, 24).rows; // ["? Welcome", "❯ Quit", "↑↓ move · Enter choose · Esc back"]
 * ```
 */
export function menuView<T>(state: MenuState<T>, width: number, height: number): InputView {
  const columns = Math.max(2, width - 1);
  const shown = Math.max(1, Math.min(state.choices.length, height - 3));
  const start = Math.min(
    Math.max(0, state.index - Math.floor(shown / 2)),
    state.choices.length - shown,
  );
  const rows = [fit(`? ${state.title}`, columns)];
  for (let i = start; i < start + shown; i++) {
    rows.push(fit(`${i === state.index ? "❯" : " "} ${state.choices[i].label}`, columns));
  }
  const more = state.choices.length - shown;
  rows.push(fit(more > 0 ? `${more} more · ${MENU_HINT}` : MENU_HINT, columns));
  return { rows, cursorRow: 1 + state.index - start, cursorColumn: 0 };
}

/** A question answered on one line; a secret one shows nothing of what is typed. */
export interface QuestionState {
  readonly title: string;
  readonly draft: Draft;
  readonly secret: boolean;
}

/**
 * A new question.
 *
 * @example
 * ```ts
 * const question = questionState("User name:", { secret: false });
 * ```
 */
export function questionState(title: string, { secret = false } = {}): QuestionState {
  return { title, draft: EMPTY_DRAFT, secret };
}

/**
 * The question after `key`, and its answer when the key gives one: Enter
 * answers, Esc and Ctrl-C go back (Ctrl-D too, on an empty line); the rest
 * edits the line as in the chat view. A pasted line break becomes a space.
 *
 * @example
 * ```ts
 * const [next] = questionKey(question, { kind: "text", text: "alice" });
 * ```
 */
export function questionKey(state: QuestionState, key: KeyEvent): [QuestionState, Answer<string>?] {
  if (key.kind !== "key") {
    return [{ ...state, draft: insert(state.draft, key.text.replace(/\n/g, " ")) }];
  }
  switch (key.name) {
    case "enter":
      return [state, { kind: "chosen", value: state.draft.text }];
    case "escape":
    case "ctrl-c":
      return [state, { kind: "back" }];
    case "ctrl-d":
      if (!state.draft.text) return [state, { kind: "back" }];
      break;
    case "newline":
      return [state];
  }
  const draft = editDraft(state.draft, key.name);
  return [draft ? { ...state, draft } : state];
}

/**
 * The question's rows: `? TITLE ` and what was typed (nothing, for a secret).
 *
 * @example
 * ```ts
 * questionView(question, 80).rows; // ["? User name: alice"]
 * ```
 */
export function questionView(state: QuestionState, width: number): InputView {
  return inputView(`? ${state.title} `, state.secret ? EMPTY_DRAFT : state.draft, width);
}
