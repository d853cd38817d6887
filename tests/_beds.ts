// One database per test, a SQLite file or a PostgreSQL database, and how the
// real program is run on it: the suites that run on both backends take a Bed.
import type { MessageKind, Rate } from "../lib/model.ts";
import { openSqliteStore } from "../lib/sqlite_store.ts";
import { tempDir } from "./_helpers.ts";
import { PG_ADMIN, tempPg } from "./_postgres.ts";
import { CHAT_RUN, chatPgRun, type Run, runChat } from "./_run.ts";
import { Screen } from "./_tmux.ts";

export interface Bed extends AsyncDisposable {
  /** "sqlite" or "postgres", for test names and the few places the backends differ. */
  name: "sqlite" | "postgres";
  /** The `deno task` the program runs under, as a user of this backend runs it. */
  task: "chat" | "chat:pg";
  /** That task's `deno run ...` line, for processes the test kills. */
  command: string[];
  /** The program's environment: the database, and `name`'s password when given. */
  env(name?: string): Record<string, string>;
  /** The environment of one who may read everything (`rooms`, `export`). */
  readerEnv: Record<string, string>;
  /** Makes an account with password `${name}-password`. */
  register(name: string): Promise<void>;
  /** Runs the program as `name` (with that account's password), or as nobody. */
  run(name: string | undefined, args: string[], stdin?: string): Promise<Run>;
  /** `chatroom send` as `name` into `room`; fails the test unless it exits 0. */
  send(name: string, room: string, text: string): Promise<void>;
  /** The texts of a room, oldest first, as export gives them; none for a room not there. */
  texts(room: string): Promise<string[]>;
  /** Sets the message and room rate limits. */
  limit(message: Rate, room: Rate): Promise<void>;
  /** Stores a line as `user` in `room` through the store, as the chat view does. */
  say(user: string, room: string, text: string, kind: MessageKind): Promise<void>;
}

/** The limits a new database has. */
export const DEFAULT_LIMITS = {
  message: { burst: 20, perSecond: 5 },
  room: { burst: 10, perSecond: 1 / 30 },
};

function bed(
  base: Omit<Bed, "run" | "send" | "texts">,
): Bed {
  const run = (name: string | undefined, args: string[], stdin?: string) =>
    runChat(args, {
      env: name === undefined ? base.env() : base.env(name),
      stdin,
      task: base.task,
    });
  return {
    ...base,
    run,
    async send(name, room, text) {
      const sent = await run(name, ["send", "--user", name, "--room", room, text]);
      if (sent.code !== 0) throw new Error(`send as ${name}: ${sent.stderr}`);
    },
    async texts(room) {
      const { code, stdout, stderr } = await runChat(
        ["export", "--room", room, "--format", "json"],
        {
          env: base.readerEnv,
          task: base.task,
        },
      );
      if (code !== 0 && stderr.includes("There is no room named")) return [];
      if (code !== 0) throw new Error(`export failed: ${stderr}`);
      return JSON.parse(stdout).map((m: { text: string }) => m.text);
    },
  };
}

export async function sqliteBed(): Promise<Bed> {
  const dir = tempDir();
  const db = `${dir.path}/chat.db`;
  const env = (name?: string): Record<string, string> =>
    name === undefined
      ? { CHATROOM_DB: db }
      : { CHATROOM_DB: db, CHATROOM_PASSWORD: `${name}-password` };
  const made = bed({
    name: "sqlite",
    task: "chat",
    command: CHAT_RUN,
    env,
    readerEnv: env(),
    async register(name) {
      const { code, stderr } = await runChat(["register", "--user", name], { env: env(name) });
      if (code !== 0) throw new Error(`register ${name}: ${stderr}`);
    },
    limit(message, room) {
      const store = openSqliteStore(db);
      store.setRate("message", message);
      store.setRate("room", room);
      store.close();
      return Promise.resolve();
    },
    say(user, room, text, kind) {
      const store = openSqliteStore(db);
      try {
        const found = store.findRoom(room)!;
        store.addMessage(found.id, store.findUser(user)!.id, text, kind);
      } finally {
        store.close();
      }
      return Promise.resolve();
    },
    [Symbol.asyncDispose]: () => Promise.resolve(dir[Symbol.dispose]()),
  });
  await made.limit(DEFAULT_LIMITS.message, DEFAULT_LIMITS.room);
  return made;
}

export async function postgresBed(): Promise<Bed> {
  const pg = await tempPg();
  const env = (name?: string): Record<string, string> => ({
    CHATROOM_DB: pg.url,
    CHATROOM_PG_ADDR: pg.address,
    ...(name === undefined ? {} : { CHATROOM_PASSWORD: `${name}-password` }),
  });
  const made = bed({
    name: "postgres",
    task: "chat:pg",
    command: chatPgRun(pg.address),
    env,
    readerEnv: { ...pg.ownerEnv, CHATROOM_DB: pg.url },
    register: async (name) => void await pg.backend.register(name, `${name}-password`),
    async limit(message, room) {
      for (
        const [name, value] of [
          ["message_burst", message.burst],
          ["messages_per_second", message.perSecond],
          ["room_burst", room.burst],
          ["rooms_per_second", room.perSecond],
        ] as const
      ) {
        await pg.owner`UPDATE chatroom.settings SET value = ${value} WHERE name = ${name}`;
      }
    },
    async say(user, room, text, kind) {
      const session = await pg.backend.logIn(user, `${user}-password`);
      try {
        const found = await session.store.findRoom(room);
        await session.store.addMessage(found!.id, session.user.id, text, kind);
      } finally {
        await pg.backend.logOut(session);
      }
    },
    [Symbol.asyncDispose]: () => pg[Symbol.asyncDispose](),
  });
  await made.limit(DEFAULT_LIMITS.message, DEFAULT_LIMITS.room);
  return made;
}

/** The backends a suite runs on: PostgreSQL when CHATROOM_TEST_PG names a server. */
export const BEDS = [
  { name: "sqlite", ignore: false, make: sqliteBed },
  { name: "postgres", ignore: !PG_ADMIN, make: postgresBed },
];

/** A terminal where `name` is logged in and in `room`, on `bed`'s database. */
export function enter(bed: Bed, name: string, room: string): Promise<Screen> {
  return Screen.start(["--user", name, "--room", room], bed.env(name), { task: bed.task });
}
