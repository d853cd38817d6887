// The runner for menus and questions: reads keys, feeds the pure models in
// menu.ts, and draws them through the terminal, which erases them when they end.
import { displayWidth } from "./width.ts";
import { KeyReader } from "./keys.ts";
import {
  type Answer,
  type Choice,
  menuKey,
  type MenuState,
  menuState,
  menuView,
  questionKey,
  questionState,
  questionView,
} from "./menu.ts";
import { formatTime, padColumns, truncate } from "./render.ts";
import { inert } from "./sanitize.ts";
import type { Room } from "./model.ts";
import type { Awaitable } from "./store.ts";
import type { Terminal } from "./terminal.ts";
import type { InputView } from "./chat_view.ts";

/**
 * How long a menu reads and drops input before it is drawn: keys typed before
 * the menu was on screen (a burst typed ahead in the room just left) must never
 * choose anything in it.
 */
const TYPED_AHEAD_MS = 25;
/** How often an open room menu looks for new rooms and activity. */
export const ROOM_MENU_REFRESH_MS = 1000;

/** One page of the room menu, as the store lists it. */
export interface RoomPage {
  rooms: Room[];
  /** How many rooms there are (or match the search). */
  total: number;
  search?: string;
  /** Unread messages and mentions, by room id (rooms without news are absent). */
  unread?: ReadonlyMap<number, { unread: number; mentions: number }>;
  /** How many people are in each room now, by room id. */
  here?: ReadonlyMap<number, number>;
}

/** What the room menu answers. */
export type RoomChoice = { join: Room } | "find" | "create" | "logout" | "quit";

/**
 * Menus and questions on the given terminal. Every method resolves to
 * `undefined` when the user backs out with Esc or Ctrl-C (or `q`).
 */
export class Menus {
  readonly #terminal: Terminal;
  /** Whether anything came before: the very first menu has nothing typed ahead to drop. */
  #first = true;

  constructor(terminal: Terminal) {
    this.#terminal = terminal;
  }

  /**
   * Runs one menu or question until it answers. `refresh` is called every
   * `ROOM_MENU_REFRESH_MS` and may return a new state to draw.
   */
  #run<S, T>(
    initial: S,
    onKey: (state: S, key: Parameters<typeof menuKey>[1]) => [S, Answer<T>?],
    view: (state: S) => InputView,
    { drop = false, refresh }: {
      drop?: boolean;
      refresh?: (state: S) => Promise<S | undefined>;
    } = {},
  ): Promise<T | undefined> {
    const terminal = this.#terminal;
    const keys = new KeyReader();
    let state = initial;
    let drawn = false;
    let ended = false;
    let refreshing = false;
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setInterval> | undefined;
      let settle: ReturnType<typeof setTimeout> | undefined;
      const draw = () => {
        drawn = true;
        terminal.drawInput(view(state));
      };
      const end = (answer: Answer<T> | undefined) => {
        ended = true;
        clearInterval(timer);
        clearTimeout(settle);
        // Answered or abandoned, the question leaves the screen: what follows says what happened.
        terminal.drawInput({ rows: [""], cursorRow: 0, cursorColumn: 0 });
        stop();
        resolve(answer?.kind === "chosen" ? answer.value : undefined);
      };
      const guarded = <A extends unknown[]>(fn: (...args: A) => void) => (...args: A) => {
        try {
          fn(...args);
        } catch (err) {
          clearInterval(timer);
          clearTimeout(settle);
          stop();
          reject(err);
        }
      };
      const stop = terminal.readKeys(
        guarded((chunk: string) => {
          const events = keys.feed(chunk);
          if (!drawn) return; // typed before the menu was on screen
          for (const key of events) {
            const [next, answer] = onKey(state, key);
            state = next;
            if (answer) return end(answer);
          }
          draw();
        }),
        guarded(() => {
          terminal.redraw("", view(state));
        }),
        guarded(() => end(undefined)),
      );
      if (refresh) {
        timer = setInterval(() => {
          if (refreshing) return;
          refreshing = true;
          refresh(state).then(
            guarded((next: S | undefined) => {
              refreshing = false;
              if (next === undefined || ended) return;
              state = next;
              if (drawn) draw();
            }),
            () => {
              refreshing = false; // a locked or unreachable database: the menu stays as it is
            },
          );
        }, ROOM_MENU_REFRESH_MS);
      }
      if (drop && !this.#first) settle = setTimeout(guarded(draw), TYPED_AHEAD_MS);
      else draw();
      this.#first = false;
    });
  }

  #menu<T>(
    state: MenuState<T>,
    refresh?: (state: MenuState<T>) => Promise<MenuState<T> | undefined>,
  ) {
    return this.#run(
      state,
      menuKey<T>,
      (s) => menuView(s, this.#terminal.columns, this.#terminal.rows),
      { drop: true, refresh },
    );
  }

  #question(title: string, secret: boolean): Promise<string | undefined> {
    return this.#run(
      questionState(inert(title), { secret }),
      questionKey,
      (s) => questionView(s, this.#terminal.columns),
    );
  }

  /** The first menu. */
  start(): Promise<"login" | "register" | "quit" | undefined> {
    return this.#menu(menuState("Welcome to chatroom", [
      { label: "Log in", value: "login" as const },
      { label: "Create account", value: "register" as const },
      { label: "Quit", value: "quit" as const },
    ]));
  }

  /** Asks for a line of text; `q` alone backs out like Esc. */
  async text(message: string): Promise<string | undefined> {
    for (;;) {
      const answer = await this.#question(message, false);
      if (answer === undefined || answer.trim() === "q") return undefined;
      if (answer.trim()) return answer.trim(); // an empty answer asks again
    }
  }

  /** Asks for a password without echoing it; `q` alone backs out like Esc. */
  async secret(message: string): Promise<string | undefined> {
    const answer = await this.#question(message, true);
    return answer === undefined || answer === "q" ? undefined : answer;
  }

  /**
   * The room menu: pick a room, find one by name, create one, log out or
   * quit. `page` is one page of rooms (the most recent, or a search's
   * matches); while the menu is open, `list` is asked again for a fresher one
   * whenever `changed` says the file changed.
   */
  room(
    page: RoomPage,
    options: {
      now: () => number;
      list: () => Promise<RoomPage>;
      changed: () => Awaitable<boolean>;
    },
  ): Promise<RoomChoice | undefined> {
    const refresh = async (state: MenuState<RoomChoice>) => {
      if (!(await options.changed())) return undefined;
      const highlighted = state.choices[state.index].value;
      const next = roomMenu(await options.list(), options.now());
      return menuState(next.title, next.choices, (value) => sameChoice(value, highlighted));
    };
    const { title, choices } = roomMenu(page, options.now());
    return this.#menu(menuState(title, choices), refresh);
  }
}

function sameChoice(a: RoomChoice, b: RoomChoice): boolean {
  return typeof a === "object" && typeof b === "object" ? a.join.id === b.join.id : a === b;
}

/** The room menu's title and choices for one page of rooms. */
function roomMenu(page: RoomPage, now: number): { title: string; choices: Choice<RoomChoice>[] } {
  const { rooms, total, search } = page;
  const names = rooms.map((r) => inert(r.name));
  let width = 10;
  for (const name of names) width = Math.max(width, displayWidth(name));
  const title = search !== undefined
    ? `Rooms whose name holds "${inert(search)}"${
      rooms.length === 0
        ? ": none"
        : total > rooms.length
        ? ` (the first ${rooms.length} of ${total}; type more of the name to narrow it)`
        : ` (${total})`
    }`
    : total === 0
    ? "There are no rooms yet"
    : total > rooms.length
    ? `Pick a room (the ${rooms.length} most recent of ${total})`
    : "Pick a room";
  const choices: Choice<RoomChoice>[] = [
    ...rooms.map((room, i) => {
      const news = page.unread?.get(room.id);
      const here = page.here?.get(room.id) ?? 0;
      const parts = [
        ...(news
          ? [`${news.unread} new${news.mentions ? `, ${news.mentions} naming you` : ""}`]
          : []),
        ...(here ? [`${here} here`] : []),
        room.lastActivity === null
          ? "no messages yet"
          : `last message ${formatTime(room.lastActivity, now)}`,
        ...(room.topic ? [truncate(inert(room.topic), 40)] : []),
      ];
      return {
        label: `${padColumns(names[i], width)}  ${parts.join(" · ")}`,
        value: { join: room },
      };
    }),
    ...(total > rooms.length || search !== undefined
      ? [{ label: "/ Find a room by name", value: "find" as const }]
      : []),
    { label: "+ Create a room", value: "create" as const },
    { label: "Log out", value: "logout" as const },
    { label: "Quit", value: "quit" as const },
  ];
  return { title, choices };
}
