// Where the benchmark runs: a SQLite file in a temporary folder, or a database
// of its own on a PostgreSQL server (`deno task bench --db postgres://...`,
// the server's owner URL). Every figure is measured the same way on both.
import { DatabaseSync } from "node:sqlite";
import { register } from "../lib/accounts.ts";
import type { Room, User } from "../lib/model.ts";
import { openSqliteStore } from "../lib/sqlite_store.ts";
import type { Session, Store } from "../lib/store.ts";
import { tempPg } from "../tests/_postgres.ts";
import { CHAT_RUN, chatPgRun } from "../tests/_run.ts";

/** Every bench account's password. */
export const PASSWORD = "bench-password";
/** Bench accounts hash with cheap scrypt on SQLite: logins are not what is measured here. */
const FAST_SCRYPT = { N: 2 ** 10, r: 8, p: 1 };

/** A database to measure, with its accounts and the command lines that use it. */
export interface Bed extends AsyncDisposable {
  /** The backend, for the machine line. */
  label: string;
  /** The account `name`, made on first use. */
  user(name: string): Promise<User>;
  /** A store acting as `name`. */
  as(name: string): Promise<Store>;
  /** A connection of its own, as another client's, to time reads with. */
  reader(): Promise<Store>;
  /** What the program's processes run with (every account has PASSWORD). */
  env: Record<string, string>;
  /** The program's `deno run ...` line. */
  chat: string[];
  /**
   * `bench/receiver.ts`'s database argument, its `deno run` line, and the
   * environment of receiver `i` (each its own account, as people are).
   */
  receiver: { db: string; command: string[]; env(i: number): Promise<Record<string, string>> };
  /** Puts `count` messages from `userId` into `room`, around the program. */
  seed(room: Room, userId: number, count: number): Promise<void>;
}

/** A SQLite file in a new temporary folder, removed on disposal. */
export function sqliteBed(): Bed {
  const dir = Deno.makeTempDirSync({ prefix: "chatroom-bench-" });
  const db = `${dir}/bench.db`;
  const store = openSqliteStore(db);
  // The bench sends far faster than people do; the rate limits are what it is not measuring.
  store.setRate("message", { burst: 1e9, perSecond: 1e9 });
  store.setRate("room", { burst: 1e9, perSecond: 1e9 });
  const users = new Map<string, User>();
  return {
    label: "SQLite via node:sqlite",
    async user(name) {
      let found = users.get(name);
      if (!found) users.set(name, found = await register(store, name, PASSWORD, FAST_SCRYPT));
      return found;
    },
    as: () => Promise.resolve(store),
    reader: () => Promise.resolve(openSqliteStore(db)),
    env: { CHATROOM_DB: db, CHATROOM_PASSWORD: PASSWORD },
    chat: CHAT_RUN,
    receiver: {
      db,
      command: [
        Deno.execPath(),
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-sys=uid",
      ],
      env: () => Promise.resolve({}),
    },
    seed(room, userId, count) {
      const raw = new DatabaseSync(db);
      raw.exec("BEGIN");
      const insert = raw.prepare(
        "INSERT INTO messages (room_id, user_id, text, sent_at) VALUES (?, ?, ?, ?)",
      );
      // Its words too, as the store writes them with each message: search is measured on these.
      const words = raw.prepare("INSERT INTO messages_fts (rowid, text) VALUES (?, ?)");
      const now = Date.now();
      for (let i = 0; i < count; i++) {
        const text = `seeded message number ${i} with some ordinary words in it`;
        words.run(insert.run(room.id, userId, text, now).lastInsertRowid, text);
      }
      raw.exec("COMMIT");
      raw.close();
      return Promise.resolve();
    },
    [Symbol.asyncDispose]() {
      store.close();
      Deno.removeSync(dir, { recursive: true });
      return Promise.resolve();
    },
  };
}

/** A new database on the PostgreSQL server whose owner URL is `ownerUrl`, dropped on disposal. */
export async function postgresBed(ownerUrl: string): Promise<Bed> {
  const pg = await tempPg(ownerUrl, "chatroom_bench");
  const { backend, owner: sql, address, url } = pg;
  const [{ version }] = await sql`SELECT current_setting('server_version') AS version`;
  const users = new Map<string, User>();
  const sessions = new Map<string, Session>();
  const bed: Bed = {
    label: `PostgreSQL ${version} on ${address}`,
    async user(name) {
      let found = users.get(name);
      if (!found) users.set(name, found = await backend.register(name, PASSWORD));
      return found;
    },
    async as(name) {
      await bed.user(name);
      let session = sessions.get(name);
      if (!session) sessions.set(name, session = await backend.logIn(name, PASSWORD));
      return session.store;
    },
    reader: () => bed.as("reader"),
    env: { CHATROOM_DB: url, CHATROOM_PG_ADDR: address, CHATROOM_PASSWORD: PASSWORD },
    chat: chatPgRun(address),
    receiver: {
      db: url,
      command: [Deno.execPath(), "run", `--allow-net=${address}`, "--allow-env", "--allow-read"],
      async env(i) {
        await bed.user(`receiver${i}`);
        return { CHATROOM_USER: `receiver${i}`, CHATROOM_PASSWORD: PASSWORD };
      },
    },
    async seed(room, userId, count) {
      // As the owner, around the trigger (per row it would take the room's lock and spend a
      // token): numbered from the same sequence, as the trigger numbers them.
      await sql.begin(async (tx) => {
        await tx`ALTER TABLE chatroom.messages DISABLE TRIGGER before_message`;
        await tx`INSERT INTO chatroom.messages (id, room_id, user_id, text, sent_at)
          SELECT nextval('chatroom.message_ids'), ${room.id}, ${userId},
            'seeded message number ' || i || ' with some ordinary words in it', chatroom.now_ms()
          FROM generate_series(1, ${count}) AS i`;
        await tx`ALTER TABLE chatroom.messages ENABLE TRIGGER before_message`;
        await tx`UPDATE chatroom.rooms SET last_sent_at = chatroom.now_ms() WHERE id = ${room.id}`;
      });
      await sql`ANALYZE chatroom.messages`;
    },
    async [Symbol.asyncDispose]() {
      for (const session of sessions.values()) await backend.logOut(session);
      await pg[Symbol.asyncDispose]();
    },
  };
  return bed;
}
