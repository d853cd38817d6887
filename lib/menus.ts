import input from "@inquirer/input";
import password from "@inquirer/password";
import select from "@inquirer/select";
import stringWidth from "string-width";
import { formatTime, padColumns } from "./render.ts";
import { inert } from "./sanitize.ts";
import type { Room } from "./store.ts";
import type { Terminal } from "./terminal.ts";

/** Thrown by inquirer on Ctrl-C, and on our abort when Esc is pressed. */
function isCancel(err: unknown): boolean {
  const name = (err as Error)?.name;
  return name === "ExitPromptError" || name === "AbortPromptError";
}

/**
 * Menus and questions, drawn by inquirer on the given terminal. Every method
 * resolves to `undefined` when the user backs out with Esc or Ctrl-C.
 */
export class Menus {
  readonly #terminal: Terminal;

  constructor(terminal: Terminal) {
    this.#terminal = terminal;
  }

  async #ask<T>(
    prompt: (
      context: {
        input: NodeJS.ReadStream;
        output: NodeJS.WriteStream;
        signal: AbortSignal;
        clearPromptOnDone: boolean;
      },
    ) => Promise<T>,
  ): Promise<T | undefined> {
    const abort = new AbortController();
    const stop = this.#terminal.onEscape(() => abort.abort());
    try {
      return await prompt({
        input: this.#terminal.input,
        output: this.#terminal.output,
        signal: abort.signal,
        // A question answered or abandoned leaves the screen: what follows says what happened.
        clearPromptOnDone: true,
      });
    } catch (err) {
      if (isCancel(err)) return undefined;
      throw err;
    } finally {
      stop();
    }
  }

  /** The first menu. */
  start(): Promise<"login" | "register" | "quit" | undefined> {
    return this.#ask((context) =>
      select({
        message: "Welcome to chatroom",
        choices: [
          { name: "Log in", value: "login" as const },
          { name: "Create account", value: "register" as const },
          { name: "Quit", value: "quit" as const },
        ],
      }, context)
    );
  }

  /** Asks for a line of text; `q` alone backs out like Esc. */
  async text(message: string): Promise<string | undefined> {
    const answer = await this.#ask((context) =>
      input({ message: inert(message), required: true }, context)
    );
    return answer === undefined || answer.trim() === "q" ? undefined : answer.trim();
  }

  /** Asks for a password without echoing it; `q` alone backs out like Esc. */
  async secret(message: string): Promise<string | undefined> {
    const answer = await this.#ask((context) => password({ message: inert(message) }, context));
    return answer === undefined || answer === "q" ? undefined : answer;
  }

  /**
   * The room menu: pick a room, find one by name, create one, log out or
   * quit. `rooms` is one page (the most recent, or a search's matches); `total`
   * is how many rooms there are (or match the search).
   */
  room(
    rooms: Room[],
    options: { total: number; now: number; search?: string },
  ): Promise<{ join: Room } | "find" | "create" | "logout" | "quit" | undefined> {
    const names = rooms.map((r) => inert(r.name));
    let width = 10;
    for (const name of names) width = Math.max(width, stringWidth(name));
    const { total, now, search } = options;
    const message = search !== undefined
      ? `Rooms whose name holds "${inert(search)}"${
        rooms.length === 0
          ? ": none"
          : total > rooms.length
          ? ` (the first ${rooms.length} of ${total}; type more of the name to narrow it)`
          : ""
      }`
      : total === 0
      ? "There are no rooms yet"
      : total > rooms.length
      ? `Pick a room (the ${rooms.length} most recent of ${total})`
      : "Pick a room";
    return this.#ask((context) =>
      select<{ join: Room } | "find" | "create" | "logout" | "quit">({
        message,
        pageSize: 12,
        choices: [
          ...rooms.map((room, i) => ({
            name: `${padColumns(names[i], width)}  ${
              room.lastActivity === null
                ? "no messages yet"
                : `last message ${formatTime(room.lastActivity, now)}`
            }`,
            value: { join: room },
          })),
          ...(total > rooms.length || search !== undefined
            ? [{ name: "/ Find a room by name", value: "find" as const }]
            : []),
          { name: "+ Create a room", value: "create" as const },
          { name: "Log out", value: "logout" as const },
          { name: "Quit", value: "quit" as const },
        ],
      }, context)
    );
  }
}
