import { chat } from "./chat.ts";
import type { Invocation } from "./cli.ts";
import { ChatError, WaitError } from "./errors.ts";
import { Menus, type RoomPage } from "./menus.ts";
import { Heartbeat } from "./presence.ts";
import { checkNewPassword, MIN_PASSWORD_LENGTH } from "./password.ts";
import { noticeFitsAsIs, renderNotice } from "./render.ts";
import { exportRoom, rooms, type ScriptOutput, search, send, tail } from "./scripts.ts";
import { inert } from "./sanitize.ts";
import { StdinLines } from "./stdin_lines.ts";
import type { Room, User } from "./model.ts";
import {
  type Backend,
  checkNetPermission,
  type Follower,
  isPostgresUrl,
  openBackend,
  type Session,
  type Store,
} from "./store.ts";
import type { Terminal } from "./terminal.ts";
import { colorTheme, plainTheme, type Theme } from "./theme.ts";
import { loadWidths } from "./width.ts";

/** What the program reads from its environment, read once at start. */
export interface Environment {
  db?: string;
  password?: string;
  noColor: boolean;
}

/** The default database file, in the working directory. */
export const DEFAULT_DB = "chatroom.db";

/** The process around the program. */
export interface Process {
  terminal: Terminal;
  /** Settles on Ctrl-C (SIGINT); only `tail` waits for it, so only `tail` handles SIGINT. */
  interrupted: () => Promise<unknown>;
}

/** Runs one command of the program. */
export async function run(invocation: Invocation, env: Environment, io: Process): Promise<void> {
  const path = invocation.db ?? env.db ?? DEFAULT_DB;
  const { terminal } = io;
  const theme = env.noColor || !terminal.output.isTTY ? plainTheme : colorTheme();
  const app = new App(terminal, theme);
  if (invocation.command === "chat") {
    await app.interactive(path, invocation, env.password);
    return;
  }
  await loadWidths();
  const out: ScriptOutput = {
    stdout: terminal.output,
    warn: (line) => console.error(`chatroom: ${inert(line)}`),
  };
  if (invocation.command === "setup") {
    await setup(path, terminal);
    return;
  }
  const stdin = new StdinLines(terminal.input);
  // Only commands that write may create the file: a mistyped --db must not make an empty one.
  const backend = await openBackend(path, {
    create: invocation.command === "register" || invocation.command === "send",
  });
  try {
    switch (invocation.command) {
      case "register": {
        const password = await app.newPassword(env.password, invocation, stdin);
        const user = await backend.register(invocation.user!, password);
        terminal.output.write(`Created account ${user.name}\n`);
        break;
      }
      case "send":
      case "tail": {
        const password = await app.password(invocation.user!, env.password, invocation, stdin);
        const session = await backend.logIn(invocation.user!, password);
        try {
          const { store, user } = session;
          const other = invocation.to ?? invocation.with;
          const target = other === undefined ? { room: invocation.room! } : { with: other };
          if (invocation.command === "send") {
            await send(store, user, target, invocation.text, stdin, out);
          } else {
            const follower = (handlers: Parameters<Backend["follower"]>[1]) =>
              backend.follower(store, handlers);
            const options = { ...invocation, theme, stop: io.interrupted, follower };
            await tail(store, user, target, options, out);
          }
        } finally {
          await backend.logOut(session);
        }
        break;
      }
      case "rooms":
      case "search": {
        // As an account (its direct conversations included), or as nobody in particular.
        const session = invocation.user === undefined ? undefined : await backend.logIn(
          invocation.user,
          await app.password(invocation.user, env.password, invocation, stdin),
        );
        try {
          const store = session?.store ?? await backend.reader();
          if (invocation.command === "rooms") {
            await rooms(store, invocation.json, out, session?.user.id);
          } else {
            await search(store, invocation.text!, { ...invocation, userId: session?.user.id }, out);
          }
        } finally {
          if (session) await backend.logOut(session);
        }
        break;
      }
      case "export":
        await exportRoom(await backend.reader(), invocation.room!, invocation.format, out);
        break;
    }
  } finally {
    stdin.close();
    await backend.close();
  }
}

/** `chatroom setup`: PostgreSQL only; the file of a SQLite database sets itself up. */
async function setup(path: string, terminal: Terminal): Promise<void> {
  if (!isPostgresUrl(path)) {
    throw new ChatError(
      "setup is for a PostgreSQL database (--db postgres://HOST/DBNAME); a SQLite file sets itself up",
    );
  }
  const { openPostgresBackend } = await import("./postgres_backend.ts");
  const backend = await openPostgresBackend(path);
  checkNetPermission(backend.target.host, backend.target.port);
  try {
    const { from, to } = await backend.setup();
    terminal.output.write(
      from === to
        ? `${backend.label} is up to date (schema ${to})\n`
        : `Set up ${backend.label}: schema ${from} to ${to}\n`,
    );
  } finally {
    await backend.close();
  }
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
    // An error is one line: a line break in a name it quotes cannot forge another.
    this.#terminal.print(renderNotice(inert(text), this.#theme.error, this.#terminal.columns));
  }

  /** The password for a script: CHATROOM_PASSWORD, else stdin's first line, else a prompt. */
  async password(
    name: string,
    envPassword: string | undefined,
    invocation: Invocation,
    stdin: StdinLines,
  ): Promise<string> {
    if (envPassword !== undefined) return envPassword;
    if (invocation.passwordStdin) {
      const line = await stdin.next();
      if (line === undefined) throw new ChatError("--password-stdin: stdin was empty");
      return line;
    }
    if (!this.#terminal.interactive) {
      throw new ChatError("No password: set CHATROOM_PASSWORD or use --password-stdin");
    }
    const password = await this.#menus.secret(`Password for ${name}:`);
    if (password === undefined) throw new ChatError("Cancelled");
    return password;
  }

  /** A new account's password: like {@linkcode password}, but asked twice at a prompt. */
  async newPassword(
    envPassword: string | undefined,
    invocation: Invocation,
    stdin: StdinLines,
  ): Promise<string> {
    if (envPassword !== undefined || invocation.passwordStdin || !this.#terminal.interactive) {
      return await this.password(invocation.user!, envPassword, invocation, stdin);
    }
    const password = await this.#choosePassword();
    if (password === undefined) throw new ChatError("Cancelled; no account was created");
    return password;
  }

  async interactive(path: string, invocation: Invocation, envPassword?: string): Promise<void> {
    const backend = await openBackend(path, { create: true });
    const stopSignals = this.#terminal.exitOnSignals();
    // Deno clears the terminal's current line while it loads the worker (see
    // WorkerFollower.ready), so the follower starts between prompts, never under one.
    // The first menu comes before it: that is what makes start-up quick.
    let session: Session | undefined;
    let follower: Follower | undefined;
    let heartbeat: Heartbeat | undefined;
    const live = async (store: Store) => {
      follower ??= backend.follower(store);
      await follower.ready;
      return follower;
    };
    /** This terminal's presence, from log-in to log-out. */
    const beat = ({ store, user }: Session) => heartbeat ??= new Heartbeat(store, user.id);
    const logOut = async () => {
      follower?.close();
      follower = undefined;
      await heartbeat?.stop();
      heartbeat = undefined;
      if (session) await backend.logOut(session);
      session = undefined;
    };
    try {
      // A wrong CHATROOM_PASSWORD fails here, before anything needs a terminal.
      if (invocation.user && envPassword !== undefined) {
        session = await backend.logIn(invocation.user, envPassword);
      }
      if (!this.#terminal.interactive) {
        throw new ChatError(
          "chatroom needs a terminal; to create an account from a script use chatroom register",
        );
      }
      if (session) await live(session.store);
      // The first menu is ASCII and our symbols: it need not wait for string-width, unless
      // something else comes first (a log-in as --user, a file's name in other letters or
      // long enough to wrap).
      const label = `chatroom: ${inert(backend.label)}`;
      if (invocation.user || !noticeFitsAsIs(label, this.#terminal.columns)) await loadWidths();
      this.#notice(label);
      if (invocation.user && !session) session = await this.#logInAs(backend, invocation.user);
      let room = session && invocation.room
        ? await session.store.findOrCreateRoom(invocation.room, session.user.id)
        : undefined;
      let search: string | undefined; // what the room menu is narrowed to
      let history: string[] = []; // the logged-in account's input history
      for (;;) {
        if (!session) {
          const chosen = this.#menus.start();
          loadWidths().catch(() => {}); // while the first menu waits for a key; told below
          const choice = await chosen;
          await loadWidths();
          if (choice !== "login" && choice !== "register") return;
          session = choice === "login"
            ? await this.#logInFlow(backend)
            : await this.#registerFlow(backend);
          if (session) await live(session.store);
          continue;
        }
        const { store, user } = session;
        if (!room) {
          const list = async (): Promise<RoomPage> => {
            const news = await store.unread(user.id);
            const here = new Map<number, number>(); // present() has each account once a room
            for (const { roomId } of await store.present()) {
              if (roomId !== null) here.set(roomId, (here.get(roomId) ?? 0) + 1);
            }
            return {
              rooms: await store.listRooms({ search, userId: user.id }),
              total: await store.countRooms(search, user.id),
              search,
              unread: new Map(news.map((u) => [u.room.id, u])),
              here,
            };
          };
          await beat(session).in(null);
          await store.changed(); // from here on, the open menu looks again when others change it
          const choice = await this.#menus.room(await list(), {
            now: Date.now,
            list,
            changed: () => store.changed(),
          });
          if (choice === undefined && search !== undefined) {
            search = undefined; // Esc leaves the search, not the program
            continue;
          }
          if (choice === "quit") return;
          if (choice === "find") {
            search = await this.#menus.text("Find rooms whose name holds:");
            continue;
          }
          search = undefined;
          if (choice === "logout" || choice === undefined) { // Esc goes back: to the first menu
            this.#notice(`Logged out ${user.name}`);
            await logOut();
            history = []; // the next account does not see this one's lines
            continue;
          }
          room = choice === "create" ? await this.#createRoomFlow(store, user) : choice.join;
          if (!room) continue;
        }
        const next = await chat({
          store,
          user,
          terminal: this.#terminal,
          follower: await live(store),
          theme: this.#theme,
          now: Date.now,
          history,
          heartbeat: beat(session),
        }, room);
        if (next === "quit") return;
        room = undefined;
      }
    } finally {
      stopSignals();
      try {
        await logOut();
      } finally {
        await backend.close();
      }
    }
  }

  /** `--user NAME` without CHATROOM_PASSWORD: the password is asked for. */
  async #logInAs(backend: Backend, name: string): Promise<Session | undefined> {
    const found = await backend.accountName(name);
    if (found === undefined) {
      throw new ChatError(
        `There is no account named "${name}"; create it with: chatroom register --user ${name}`,
      );
    }
    return await this.#askPassword(backend, found);
  }

  async #logInFlow(backend: Backend): Promise<Session | undefined> {
    for (;;) {
      const name = await this.#menus.text("User name:");
      if (name === undefined) return undefined;
      const found = await backend.accountName(name);
      if (found !== undefined) return await this.#askPassword(backend, found);
      this.#error(`There is no account named "${name}"`);
    }
  }

  /** Asks until the password is right; `undefined` when the user backs out. */
  async #askPassword(backend: Backend, name: string): Promise<Session | undefined> {
    for (;;) {
      const password = await this.#menus.secret(`Password for ${name} (q to go back):`);
      if (password === undefined) return undefined;
      try {
        return await backend.logIn(name, password);
      } catch (err) {
        if (!(err instanceof ChatError)) throw err;
        this.#error(err.message);
        // The next question comes when a try can be made, not to be refused at once.
        if (err instanceof WaitError && err.waitMs > 0) {
          await new Promise((resolve) => setTimeout(resolve, err.waitMs));
        }
      }
    }
  }

  async #registerFlow(backend: Backend): Promise<Session | undefined> {
    let name: string;
    for (;;) {
      const answer = await this.#menus.text("Choose a user name:");
      if (answer === undefined) return undefined;
      try {
        name = await backend.checkNewUserName(answer);
        break;
      } catch (err) {
        if (!(err instanceof ChatError)) throw err;
        this.#error(err.message);
      }
    }
    const password = await this.#choosePassword();
    if (password === undefined) return undefined;
    try {
      const user = await backend.register(name, password);
      this.#notice(`Created account ${user.name}`);
      return await backend.logIn(user.name, password);
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
        return await store.createRoom(name, user.id);
      } catch (err) {
        if (!(err instanceof ChatError)) throw err;
        this.#error(err.message);
      }
    }
  }
}
