import { createInterface } from "node:readline";
import { logIn, register } from "./accounts.ts";
import { chat } from "./chat.ts";
import type { Invocation } from "./cli.ts";
import { ChatError } from "./errors.ts";
import { Follower } from "./follower.ts";
import { Menus } from "./menus.ts";
import { normalizeName } from "./names.ts";
import { checkNewPassword, MIN_PASSWORD_LENGTH } from "./password.ts";
import { renderNotice } from "./render.ts";
import { openStore, type Room, type Store, type User } from "./store.ts";
import type { Terminal } from "./terminal.ts";
import { colorTheme, plainTheme, type Theme } from "./theme.ts";

/** What the program reads from its environment, read once at start. */
export interface Environment {
  db?: string;
  password?: string;
  noColor: boolean;
}

/** The default database file, in the working directory. */
export const DEFAULT_DB = "chatroom.db";

/** Runs `chatroom register` or the interactive program. */
export async function run(
  invocation: Invocation,
  env: Environment,
  terminal: Terminal,
): Promise<void> {
  const path = invocation.db ?? env.db ?? DEFAULT_DB;
  const theme = env.noColor || !terminal.output.isTTY ? plainTheme : colorTheme();
  const app = new App(terminal, theme);
  if (invocation.command === "register") {
    await app.registerCommand(path, invocation.user!, env.password, invocation.passwordStdin);
    return;
  }
  await app.interactive(path, invocation, env.password);
}

class App {
  readonly #terminal: Terminal;
  readonly #theme: Theme;
  readonly #menus: Menus;

  constructor(terminal: Terminal, theme: Theme) {
    this.#terminal = terminal;
    this.#theme = theme;
    this.#menus = new Menus(terminal);
  }

  #notice(text: string): void {
    this.#terminal.print(renderNotice(text, this.#theme.notice, this.#terminal.columns));
  }

  #error(text: string): void {
    this.#terminal.print(renderNotice(text, this.#theme.error, this.#terminal.columns));
  }

  async registerCommand(
    path: string,
    rawName: string,
    envPassword: string | undefined,
    passwordStdin: boolean,
  ): Promise<void> {
    const name = normalizeName(rawName, "User name");
    const store = openStore(path);
    try {
      if (store.findUser(name)) throw new ChatError(`The name "${name}" is taken`);
      let password = envPassword;
      if (password === undefined && passwordStdin) password = await readStdinLine();
      if (password === undefined) {
        if (!this.#terminal.interactive) {
          throw new ChatError("No password: set CHATROOM_PASSWORD or use --password-stdin");
        }
        password = await this.#choosePassword();
        if (password === undefined) throw new ChatError("Cancelled; no account was created");
      }
      const user = await register(store, name, password);
      this.#terminal.output.write(`Created account ${user.name}\n`);
    } finally {
      store.close();
    }
  }

  async interactive(path: string, invocation: Invocation, envPassword?: string): Promise<void> {
    const store = openStore(path);
    // Start the worker before drawing anything (see Follower.ready).
    const follower = new Follower(path, { onMessages: () => {}, onError: () => {} });
    try {
      await follower.ready;
      // A wrong CHATROOM_PASSWORD fails here, before anything needs a terminal.
      let user = invocation.user && envPassword !== undefined
        ? await logIn(store, invocation.user, envPassword)
        : undefined;
      if (!this.#terminal.interactive) {
        throw new ChatError(
          "chatroom needs a terminal; to create an account from a script use chatroom register",
        );
      }
      this.#notice(`chatroom: ${store.path}`);
      if (invocation.user && !user) user = await this.#logInAs(store, invocation.user);
      let room = user && invocation.room
        ? store.findOrCreateRoom(invocation.room, user.id)
        : undefined;
      for (;;) {
        if (!user) {
          const choice = await this.#menus.start();
          if (choice === "login") user = await this.#logInFlow(store);
          else if (choice === "register") user = await this.#registerFlow(store);
          else return;
          continue;
        }
        if (!room) {
          const choice = await this.#menus.room(store.listRooms(), Date.now());
          if (choice === "quit" || choice === undefined) return;
          if (choice === "logout") {
            this.#notice(`Logged out ${user.name}`);
            user = undefined;
            continue;
          }
          room = choice === "create" ? await this.#createRoomFlow(store, user) : choice.join;
          if (!room) continue;
        }
        const next = await chat({
          store,
          user,
          terminal: this.#terminal,
          follower,
          theme: this.#theme,
          now: Date.now,
        }, room);
        if (next === "quit") return;
        room = undefined;
      }
    } finally {
      follower.close();
      store.close();
    }
  }

  /** `--user NAME` without CHATROOM_PASSWORD: the password is asked for. */
  async #logInAs(store: Store, name: string): Promise<User | undefined> {
    const found = store.findUser(name);
    if (!found) {
      throw new ChatError(
        `There is no account named "${name}"; create it with: chatroom register --user ${name}`,
      );
    }
    return await this.#askPassword(store, found.name);
  }

  async #logInFlow(store: Store): Promise<User | undefined> {
    for (;;) {
      const name = await this.#menus.text("User name:");
      if (name === undefined) return undefined;
      const found = store.findUser(name);
      if (found) return await this.#askPassword(store, found.name);
      this.#error(`There is no account named "${name}"`);
    }
  }

  /** Asks until the password is right; `undefined` when the user backs out. */
  async #askPassword(store: Store, name: string): Promise<User | undefined> {
    for (;;) {
      const password = await this.#menus.secret(`Password for ${name} (q to go back):`);
      if (password === undefined) return undefined;
      try {
        return await logIn(store, name, password);
      } catch (err) {
        if (!(err instanceof ChatError)) throw err;
        this.#error(`${err.message}; try again`);
      }
    }
  }

  async #registerFlow(store: Store): Promise<User | undefined> {
    let name: string;
    for (;;) {
      const answer = await this.#menus.text("Choose a user name:");
      if (answer === undefined) return undefined;
      try {
        name = normalizeName(answer, "User name");
        if (store.findUser(name)) throw new ChatError(`The name "${name}" is taken`);
        break;
      } catch (err) {
        if (!(err instanceof ChatError)) throw err;
        this.#error(err.message);
      }
    }
    const password = await this.#choosePassword();
    if (password === undefined) return undefined;
    try {
      const user = await register(store, name, password);
      this.#notice(`Created account ${user.name}`);
      return user;
    } catch (err) {
      if (!(err instanceof ChatError)) throw err;
      this.#error(err.message); // taken by another terminal meanwhile
      return undefined;
    }
  }

  /** Asks for a new password twice; `undefined` when the user backs out. */
  async #choosePassword(): Promise<string | undefined> {
    for (;;) {
      const password = await this.#menus.secret(
        `Choose a password (at least ${MIN_PASSWORD_LENGTH} characters):`,
      );
      if (password === undefined) return undefined;
      try {
        checkNewPassword(password);
      } catch (err) {
        if (!(err instanceof ChatError)) throw err;
        this.#error(err.message);
        continue;
      }
      const again = await this.#menus.secret("Repeat the password:");
      if (again === undefined) return undefined;
      if (again === password) return password;
      this.#error("The passwords differ; try again");
    }
  }

  async #createRoomFlow(store: Store, user: User): Promise<Room | undefined> {
    for (;;) {
      const name = await this.#menus.text("Room name:");
      if (name === undefined) return undefined;
      try {
        return store.createRoom(name, user.id);
      } catch (err) {
        if (!(err instanceof ChatError)) throw err;
        this.#error(err.message);
      }
    }
  }
}

/** Reads the first line of stdin (for --password-stdin). */
async function readStdinLine(): Promise<string> {
  const reader = createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of reader) return line;
    throw new ChatError("--password-stdin: stdin was empty");
  } finally {
    reader.close();
  }
}
