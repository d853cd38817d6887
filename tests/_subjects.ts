// The backends a contract test runs on, each a fresh database with its accounts
// made cheaply: SQLite in a temporary folder, PostgreSQL when CHATROOM_TEST_PG is set.
import { PostgresBackend } from "../lib/postgres_backend.ts";
import { SqliteBackend } from "../lib/sqlite_backend.ts";
import type { Backend, Session } from "../lib/store.ts";
import { NO_LIMIT, quickUser, tempDir } from "./_helpers.ts";
import { PG_ADMIN, tempPg } from "./_postgres.ts";

export interface Subject extends AsyncDisposable {
  backend: Backend;
  /** Makes an account with password `${name}-password` (cheaply where the backend hashes). */
  register(name: string): Promise<void>;
  /** Puts the default rate limits back. */
  limit(): Promise<void>;
  /** Another client of the same database, as another process would be. */
  another(): Backend;
}

export const BACKENDS: { name: string; ignore: boolean; make(): Promise<Subject> }[] = [
  {
    name: "sqlite",
    ignore: false,
    make() {
      const dir = tempDir();
      const backend = new SqliteBackend(`${dir.path}/chat.db`, { create: true });
      backend.store.setRate("message", NO_LIMIT);
      backend.store.setRate("room", NO_LIMIT);
      return Promise.resolve({
        backend,
        register: async (name) => void await quickUser(backend.store, name),
        limit: () => {
          backend.store.setRate("message", { burst: 20, perSecond: 5 });
          return Promise.resolve();
        },
        another: () => new SqliteBackend(`${dir.path}/chat.db`, { create: false }),
        async [Symbol.asyncDispose]() {
          await backend.close();
          dir[Symbol.dispose]();
        },
      });
    },
  },
  {
    name: "postgres",
    ignore: !PG_ADMIN,
    async make() {
      const pg = await tempPg();
      return {
        backend: pg.backend,
        register: async (name) => void await pg.backend.register(name, `${name}-password`),
        limit: async () => {
          await pg.owner`UPDATE chatroom.settings SET value = 20 WHERE name = 'message_burst'`;
          await pg.owner`UPDATE chatroom.settings SET value = 5 WHERE name = 'messages_per_second'`;
        },
        another: () => new PostgresBackend(pg.backend.target),
        [Symbol.asyncDispose]: () => pg[Symbol.asyncDispose](),
      };
    },
  },
];

export async function logIn(
  backend: Backend,
  name: string,
  password = `${name}-password`,
): Promise<Session & AsyncDisposable> {
  const session = await backend.logIn(name, password);
  return { ...session, [Symbol.asyncDispose]: () => backend.logOut(session) };
}

/**
 * Makes the accounts `names` on `subject` and logs each in: their sessions,
 * in order, logged out together when disposed.
 *
 * @example
 * ```ts
 * await using people = await members(subject, "alice", "bob");
 * const [alice, bob] = people;
 * ```
 */
export async function members(
  subject: Subject,
  ...names: string[]
): Promise<Session[] & AsyncDisposable> {
  const sessions: Session[] = [];
  for (const name of names) {
    await subject.register(name);
    sessions.push(await subject.backend.logIn(name, `${name}-password`));
  }
  return Object.assign(sessions, {
    async [Symbol.asyncDispose]() {
      for (const session of [...sessions].reverse()) await subject.backend.logOut(session);
    },
  });
}
