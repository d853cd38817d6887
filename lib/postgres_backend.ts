// The PostgreSQL backend: every chat account is a login role in one group
// role, the server checks its password (SCRAM) and, with row-level security,
// what it may write. chatroom stores no password. New messages are announced
// with NOTIFY; the follower LISTENs on the account's own connection.
import postgres, { type Sql } from "postgres";
import { ChatError } from "./errors.ts";
import type { Message, User } from "./model.ts";
import { nameKey, nameSkeleton, normalizeName } from "./names.ts";
import { checkNewPassword } from "./password.ts";
import {
  accountRole,
  CHANNEL,
  groupRole,
  PG_MIGRATIONS,
  PG_SCHEMA_VERSION,
} from "./postgres_schema.ts";
import { describeServerError, isConnectionError, PostgresStore } from "./postgres_store.ts";
import { safeNumber } from "./rows.ts";
import { type LookFor, Reported } from "./reported.ts";
import type { Backend, Follower, FollowerHandlers, Session, Store } from "./store.ts";

/** Where a URL points, and as whom. */
export interface PgTarget {
  host: string;
  port: number;
  database: string;
  user?: string;
  password?: string;
  /** Query parameters other than credentials (sslmode, sslrootcert ...). */
  params: URLSearchParams;
}

/**
 * Reads `postgres://[USER[:PASSWORD]@]HOST[:PORT]/DBNAME[?sslmode=...]`,
 * filling what it leaves out from the PG* variables as libpq does.
 *
 * @example
 * ```ts
 * parsePgUrl("postgres://db.example:5433/chat", {}).port; // 5433
 * ```
 */
export function parsePgUrl(url: string, env: Record<string, string | undefined>): PgTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ChatError(`--db ${url} is not a valid URL; write postgres://HOST[:PORT]/DBNAME`);
  }
  const host = decodeURIComponent(parsed.hostname) || env.PGHOST || "localhost";
  const port = Number(parsed.port || env.PGPORT || 5432);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ChatError(`--db ${url} has no valid port`);
  }
  const database = decodeURIComponent(parsed.pathname.slice(1)) || env.PGDATABASE || "";
  if (!database) throw new ChatError(`--db ${url} names no database; write postgres://HOST/DBNAME`);
  return {
    host: host.replace(/^\[(.*)\]$/, "$1"),
    port,
    database,
    user: decodeURIComponent(parsed.username) || env.PGUSER || undefined,
    password: decodeURIComponent(parsed.password) || env.PGPASSWORD || undefined,
    params: parsed.searchParams,
  };
}

/** The URL as shown to the user: without its password. */
export function pgLabel(target: PgTarget): string {
  const host = target.host.includes(":") ? `[${target.host}]` : target.host;
  return `postgres://${
    target.user ? `${encodeURIComponent(target.user)}@` : ""
  }${host}:${target.port}/${encodeURIComponent(target.database)}`;
}

/**
 * The password ~/.pgpass (or $PGPASSFILE) holds for this target, as libpq
 * reads it: `host:port:database:user:password`, `*` matching anything, `\`
 * escaping; a file others can read is ignored.
 */
export function pgpassPassword(
  target: PgTarget,
  user: string,
  env: Record<string, string | undefined>,
): string | undefined {
  const file = env.PGPASSFILE ?? (env.HOME ? `${env.HOME}/.pgpass` : undefined);
  if (!file) return undefined;
  let text: string;
  try {
    const stat = Deno.statSync(file);
    if (!stat.isFile || (stat.mode ?? 0) & 0o077) return undefined;
    text = Deno.readTextFileSync(file);
  } catch {
    return undefined;
  }
  for (const line of text.split("\n").slice(0, 10_000)) {
    if (!line || line.startsWith("#")) continue;
    const fields: string[] = [];
    let field = "";
    for (let i = 0; i < line.length; i++) {
      if (line[i] === "\\" && i + 1 < line.length) field += line[++i];
      else if (line[i] === ":" && fields.length < 4) {
        fields.push(field);
        field = "";
      } else field += line[i];
    }
    fields.push(field);
    if (fields.length !== 5) continue;
    const wanted = [target.host, String(target.port), target.database, user];
    if (wanted.every((value, i) => fields[i] === "*" || fields[i] === value)) return fields[4];
  }
  return undefined;
}

/**
 * A SCRAM-SHA-256 verifier for `password`, as PostgreSQL stores it, so the
 * password itself never reaches the server or its logs.
 */
export async function scramVerifier(password: string, iterations = 4096): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(password),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const salted = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    key,
    256,
  );
  const hmacKey = await crypto.subtle.importKey(
    "raw",
    salted,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const hmac = (text: string) =>
    crypto.subtle.sign("HMAC", hmacKey, new TextEncoder().encode(text));
  const stored = await crypto.subtle.digest("SHA-256", await hmac("Client Key"));
  const server = await hmac("Server Key");
  const b64 = (bytes: ArrayBuffer | Uint8Array) =>
    btoa(String.fromCharCode(...new Uint8Array(bytes)));
  return `SCRAM-SHA-256$${iterations}:${b64(salt)}$${b64(stored)}:${b64(server)}`;
}

/** How long a reconnecting client waits between tries: doubling from 100 ms, at most 1 s. */
function backoff(attempt: number): number {
  return Math.min(0.1 * 2 ** attempt, 1);
}

/** How long a statement waits for a lock another session holds. */
const LOCK_TIMEOUT_MS = 3000;

/** A follower's backstop poll, for a notification lost in a reconnect. */
const BACKSTOP_MS = 5000;
/** How long a burst of notifications is gathered before one look at presence and news. */
const LOOK_DELAY_MS = 5;

/** Opens the PostgreSQL backend at `url`; nothing connects until it is needed. */
export function openPostgresBackend(url: string): Promise<PostgresBackend> {
  return Promise.resolve(new PostgresBackend(parsePgUrl(url, Deno.env.toObject())));
}

/** A PostgreSQL database as a {@linkcode Backend}. */
export class PostgresBackend implements Backend {
  readonly target: PgTarget;
  readonly label: string;
  #admin: PostgresStore | undefined;
  #reader: PostgresStore | undefined;
  /** Listeners per connection pool for dropped connections, for the followers. */
  readonly #dropped = new WeakMap<Sql, Set<() => void>>();

  constructor(target: PgTarget) {
    this.target = target;
    this.label = pgLabel(target);
  }

  /** A connection pool as `user` with `password`. */
  connect(user: string | undefined, password: string | undefined, max = 4): PostgresStore {
    const { host, port, database, params } = this.target;
    const listeners = new Set<() => void>();
    const ssl = params.get("sslmode");
    const sql: Sql = postgres({
      host,
      port,
      database,
      username: user,
      password: password ??
        (user ? pgpassPassword(this.target, user, Deno.env.toObject()) : undefined),
      ssl: ssl === "verify-full" || ssl === "require"
        ? (ssl === "require" ? "require" : "verify-full")
        : false,
      max,
      max_lifetime: null, // no recycling: a closed connection means the server went away
      idle_timeout: 0,
      connect_timeout: 5,
      backoff,
      onnotice: () => {},
      onclose: () => listeners.forEach((listener) => listener()),
      connection: {
        search_path: "chatroom",
        application_name: "chatroom",
        // Another member's open transaction can hold a room's lock: wait a little, then say so.
        lock_timeout: LOCK_TIMEOUT_MS,
        statement_timeout: 15_000,
      },
    });
    this.#dropped.set(sql, listeners);
    return new PostgresStore(sql, this.label);
  }

  /** The database owner's connection (from the URL, PG* variables or ~/.pgpass), for set-up and accounts. */
  #adminStore(): PostgresStore {
    this.#admin ??= this.connect(this.target.user, this.target.password, 1);
    return this.#admin;
  }

  /**
   * `chatroom setup`: creates or migrates the schema, roles and policies in one
   * transaction under an advisory lock; run again, it changes nothing.
   * Returns the version before and after.
   */
  async setup(): Promise<{ from: number; to: number }> {
    const { sql } = this.#adminStore();
    try {
      return await sql.begin(async (tx) => {
        await tx`SELECT pg_advisory_xact_lock(${0x63686174})`; // "chat"
        const [exists] = await tx`SELECT 1 FROM pg_namespace WHERE nspname = 'chatroom'`;
        const from = exists
          ? safeNumber((await tx`SELECT version FROM chatroom.schema_version`)[0]?.version)
          : 0;
        if (from > PG_SCHEMA_VERSION) {
          throw new ChatError(
            `${this.label} was set up by a newer chatroom (schema ${from}; this one knows up to ${PG_SCHEMA_VERSION})`,
          );
        }
        for (let version = from; version < PG_SCHEMA_VERSION; version++) {
          await tx.unsafe(PG_MIGRATIONS[version](await groupRole(this.target.database)));
          await tx`UPDATE chatroom.schema_version SET version = ${version + 1}`;
        }
        return { from, to: PG_SCHEMA_VERSION };
      });
    } catch (err) {
      throw this.#describe(err);
    }
  }

  #describe(err: unknown): unknown {
    if ((err as { code?: string })?.code === "28P01") {
      return new ChatError(
        `The PostgreSQL server at ${this.label} refused the password${
          this.target.user ? ` for ${this.target.user}` : ""
        }`,
      );
    }
    return describeServerError(err, this.label) ?? err;
  }

  async #version(store: PostgresStore): Promise<void> {
    let version: number;
    try {
      version = safeNumber(
        (await store.sql`SELECT version FROM chatroom.schema_version`)[0]?.version,
      );
    } catch (err) {
      throw this.#describe(err);
    }
    if (version === PG_SCHEMA_VERSION) return;
    throw new ChatError(
      version > PG_SCHEMA_VERSION
        ? `${this.label} was set up by a newer chatroom (schema ${version}); update chatroom`
        : `${this.label} has schema ${version}; its owner brings it up to date with: chatroom setup --db URL`,
    );
  }

  async checkNewUserName(name: string): Promise<string> {
    const ownersJob =
      "Accounts on PostgreSQL are made by the database's owner: ask them to run chatroom register --db URL --user NAME with their PGUSER and PGPASSWORD";
    if (!this.target.user) throw new ChatError(ownersJob); // no role to make it with
    const admin = this.#adminStore();
    try {
      await this.#version(admin);
    } catch (err) {
      if (!(err instanceof ChatError) || !/refused the password/.test(err.message)) throw err;
      throw new ChatError(`${err.message}. ${ownersJob}`);
    }
    return await admin.checkNewName("users", name, "User name");
  }

  async register(rawName: string, password: string): Promise<User> {
    const name = await this.checkNewUserName(rawName);
    checkNewPassword(password);
    const { sql } = this.#adminStore();
    try {
      const [row] = await sql`SELECT chatroom.create_account(
        ${await this.#role(name)}, ${await scramVerifier(password)}, ${name}, ${nameKey(name)},
        ${nameSkeleton(name)}) AS id`;
      return { id: safeNumber(row.id), name };
    } catch (err) {
      if ((err as { code?: string })?.code === "42501") {
        throw new ChatError(
          `Creating accounts takes the database owner's role; run chatroom register with PGUSER (and PGPASSWORD or ~/.pgpass) set to it`,
        );
      }
      if (
        (err as { code?: string })?.code === "42710" || (err as { code?: string })?.code === "23505"
      ) {
        throw new ChatError(`The name "${name}" is taken`);
      }
      throw this.#describe(err);
    }
  }

  /** The login role of the account named `name` in this database. */
  #role(name: string): Promise<string> {
    return accountRole(this.target.database, nameKey(normalizeName(name, "User name")));
  }

  accountName(name: string): Promise<string | undefined> {
    // The server tells only whether name and password go together.
    return Promise.resolve(normalizeName(name, "User name"));
  }

  async logIn(rawName: string, password: string): Promise<Session> {
    const name = normalizeName(rawName, "User name");
    const store = this.connect(await this.#role(name), password);
    try {
      await this.#version(store);
      const [row] = await store.sql`SELECT id, substr(name, 1, 64) AS name FROM users
        WHERE id = chatroom.me()`;
      if (!row) throw new ChatError(`There is no account named "${name}"`);
      return { user: { id: safeNumber(row.id), name: String(row.name) }, store };
    } catch (err) {
      await store.close().catch(() => {});
      if (err instanceof ChatError && /refused the password/.test(err.message)) {
        throw new ChatError(`Wrong password for ${name}, or no such account`);
      }
      throw err;
    }
  }

  async logOut(session: Session): Promise<void> {
    await session.store.close();
  }

  async reader(): Promise<Store> {
    this.#reader ??= this.connect(this.target.user, this.target.password, 1);
    await this.#version(this.#reader);
    return this.#reader;
  }

  follower(store: Store, handlers?: FollowerHandlers): Follower {
    const pg = store as PostgresStore;
    return new PostgresFollower(pg, this.#dropped.get(pg.sql) ?? new Set(), handlers);
  }

  async close(): Promise<void> {
    await Promise.all([this.#admin?.close(), this.#reader?.close()]);
    this.#admin = this.#reader = undefined;
  }
}

/**
 * Follows a room over PostgreSQL: LISTENs on the account's connection, and on
 * each notification for the followed room reads what came after the last
 * message delivered. When the connection drops it says so once, and when the
 * listen is back it catches up from there: nothing lost, nothing twice.
 */
export class PostgresFollower implements Follower {
  readonly ready: Promise<void>;
  readonly #store: PostgresStore;
  readonly #dropped: Set<() => void>;
  #handlers: FollowerHandlers | undefined;
  #unheard: string[] = [];
  #roomId: number | undefined;
  #afterId = 0;
  #generation = 0;
  #checking = false;
  #again = false;
  #lost = false;
  #closed = false;
  #unlisten: (() => Promise<void>) | undefined;
  readonly #timer: ReturnType<typeof setInterval>;
  /** The account whose presence and news are reported, and what was last reported. */
  #watching: number | undefined;
  readonly #reported = new Reported();
  #looking: ReturnType<typeof setTimeout> | undefined;
  readonly #onDrop = () => this.#drop();

  constructor(store: PostgresStore, dropped: Set<() => void>, handlers?: FollowerHandlers) {
    this.#store = store;
    this.#dropped = dropped;
    this.#handlers = handlers;
    dropped.add(this.#onDrop);
    this.ready = store.sql.listen(CHANNEL, (payload) => this.#notified(payload), () => {
      if (this.#lost) {
        this.#lost = false;
        this.#error("Connected to the server again; catching up");
      }
      this.poll();
    }).then(
      (meta) => {
        this.#unlisten = meta.unlisten;
      },
      (err) => this.#error((describeServerError(err, store.path) ?? err as Error).message),
    );
    this.#timer = setInterval(() => {
      this.poll();
      // Heartbeats time out, and the account's other terminal reads rooms, without a notification.
      this.#lookSoon({ presence: true, unread: true });
    }, BACKSTOP_MS);
  }

  get handlers(): FollowerHandlers | undefined {
    return this.#handlers;
  }

  set handlers(handlers: FollowerHandlers | undefined) {
    this.#handlers = handlers;
    if (handlers) { for (const message of this.#unheard.splice(0)) handlers.onError(message); }
  }

  #error(message: string): void {
    if (this.#handlers) this.#handlers.onError(message);
    else if (this.#unheard.length < 5) this.#unheard.push(message);
  }

  #drop(): void {
    if (this.#closed || this.#lost) return;
    this.#lost = true;
    this.#error("Lost the connection to the server; reconnecting...");
  }

  #notified(payload: string): void {
    let note: { room?: unknown; presence?: unknown } | undefined;
    try {
      note = JSON.parse(payload);
    } catch {
      return;
    }
    if (note?.presence === true) this.#lookSoon({ presence: true }); // arrived, moved or left
    else if (note?.room === this.#roomId) this.poll();
    else this.#lookSoon({ unread: true }); // a message elsewhere may be news
  }

  watch(userId: number | undefined): void {
    this.#watching = userId;
    this.#reported.reset();
    this.#lookSoon({});
  }

  /** Set when a notification came while a look was under way: one more look after it. */
  #lookAgain = false;

  /** One look at who is here and at the rooms with news, for a burst of notifications. */
  #lookSoon(what: Partial<LookFor>): void {
    this.#reported.due(what);
    if (this.#watching === undefined || this.#closed) return;
    if (this.#looking !== undefined) {
      this.#lookAgain = true;
      return;
    }
    this.#looking = setTimeout(() => {
      this.#lookAround().catch((err) => this.#error(String((err as Error)?.message ?? err)))
        .finally(() => {
          this.#looking = undefined;
          if (this.#lookAgain) {
            this.#lookAgain = false;
            this.#lookSoon({});
          }
        });
    }, LOOK_DELAY_MS);
  }

  async #lookAround(): Promise<void> {
    const userId = this.#watching;
    if (userId === undefined) return;
    const due = this.#reported.take();
    if (!due.presence && !due.unread) return;
    try {
      const present = due.presence ? await this.#store.present() : undefined;
      const unread = due.unread ? await this.#store.unread(userId) : undefined;
      if (userId !== this.#watching || this.#closed) return;
      this.#reported.report({ present, unread }, {
        onPresence: (now) => this.#handlers?.onPresence?.(now),
        onUnread: (now) => this.#handlers?.onUnread?.(now),
      });
    } catch (err) {
      this.#reported.due(due); // read again at the next look
      if (isConnectionError(err) || err instanceof ChatError) return; // the drop is told once
      throw err;
    }
  }

  follow(roomId: number, afterId: number): void {
    this.#roomId = roomId;
    this.#afterId = afterId;
    this.#generation++;
    this.poll();
    this.#lookSoon({ unread: true }); // the room left is news again, the one entered no more
  }

  unfollow(): void {
    this.#roomId = undefined;
    this.#generation++;
  }

  /** Reads what came after the last message delivered; one read at a time, again if asked meanwhile. */
  poll(): void {
    if (this.#checking) {
      this.#again = true;
      return;
    }
    if (this.#roomId === undefined || this.#closed) return;
    this.#checking = true;
    this.#check().finally(() => {
      this.#checking = false;
      if (this.#again) {
        this.#again = false;
        this.poll();
      }
    });
  }

  async #check(): Promise<void> {
    for (;;) {
      const roomId = this.#roomId;
      const generation = this.#generation;
      if (roomId === undefined) return;
      let messages: Message[];
      try {
        messages = await this.#store.messagesAfter(roomId, this.#afterId, 500);
      } catch (err) {
        if (isConnectionError(err) || err instanceof ChatError) return; // the drop is told once
        throw err;
      }
      if (generation !== this.#generation || this.#closed) return; // re-targeted meanwhile
      if (messages.length === 0) return;
      this.#afterId = messages[messages.length - 1].id;
      this.#handlers?.onMessages(roomId, messages);
      if (messages.length < 500) return;
    }
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    clearTimeout(this.#looking);
    this.#dropped.delete(this.#onDrop);
    this.#unlisten?.().catch(() => {});
  }
}
