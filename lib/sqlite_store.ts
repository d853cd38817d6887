import { DatabaseSync, type StatementSync } from "node:sqlite";
import { dirname } from "node:path";
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  lstatSync,
  openSync,
  readSync,
  realpathSync,
  type Stats,
  statSync,
} from "node:fs";
import { ChatError, WaitError } from "./errors.ts";
import {
  checkMessage,
  checkTopic,
  DEFAULT_LIMITS,
  type Found,
  HISTORY_ON_JOIN,
  MAX_TOPIC_LENGTH,
  MAX_UNREAD_COUNTED,
  mentionedNames,
  type Message,
  type MessageKind,
  noConversation,
  type Presence,
  PRESENCE_TIMEOUT_MS,
  type Rate,
  type Room,
  ROOM_LIST_LIMIT,
  SEARCH_LIMIT,
  searchWords,
  SHOWN_TEXT_LIMIT,
  type Unread,
  type User,
} from "./model.ts";
import {
  checkNewName,
  nameKey,
  type NameKind,
  nameLikePattern,
  nameSkeleton,
  normalizeName,
  shownName,
} from "./names.ts";
import { MIGRATIONS, SCHEMA_VERSION } from "./schema.ts";
import { safeNumber, toFound, toMessage, toPresence, toRoom, toUnread } from "./rows.ts";
import type { Store } from "./store.ts";
import { notPlainFile, WakeSignal } from "./wake.ts";

/** How long a writer waits for another terminal's write to finish. */
const BUSY_TIMEOUT_MS = 10_000;

/** Options for {@linkcode openSqliteStore}. */
export interface StoreOptions {
  /** The clock messages and accounts are stamped with. */
  now?: () => number;
  /**
   * Whether a missing file may be created (default true). Commands that only
   * read pass false, so a mistyped path is an error, not a new empty database.
   */
  create?: boolean;
  /**
   * The device and inode another thread of this process found at the path
   * (the watch worker gets the chat view's): the file is then not opened
   * through a descriptor of this thread's. A thread that ends (a Worker
   * terminated at log-out) closes its descriptors, and closing one drops every
   * POSIX lock the process holds on the file, SQLite's shared lock included.
   */
  identity?: string;
}

// SQLite result codes we turn into user-facing messages.
const SQLITE_READONLY = 8;
const SQLITE_CANTOPEN = 14;
const SQLITE_NOTADB = 26;
const SQLITE_FULL = 13;
const SQLITE_CORRUPT = 11;
const SQLITE_IOERR = 10;
const SQLITE_BUSY = 5;

function sqliteCode(err: unknown): number | undefined {
  const code = (err as { errcode?: unknown })?.errcode;
  return typeof code === "number" ? code & 0xff : undefined;
}

function describe(path: string, err: unknown): ChatError {
  const reason = (err as { errstr?: string })?.errstr ?? (err as Error)?.message ?? String(err);
  const code = sqliteCode(err);
  if (code === SQLITE_IOERR || code === SQLITE_READONLY || code === SQLITE_CANTOPEN) {
    const found = diagnose(path);
    if (found) return found;
  }
  switch (code) {
    case SQLITE_NOTADB:
      return new ChatError(`${path} is not an SQLite database`);
    case SQLITE_READONLY:
      return new ChatError(`${path} is read-only`);
    case SQLITE_CANTOPEN:
      return new ChatError(
        `Cannot open ${path}: ${reason} (its folder must be writable too, and so must ${path}-journal, where SQLite keeps its journal)`,
      );
    case SQLITE_FULL:
      return new ChatError(`The disk holding ${path} is full`);
    case SQLITE_IOERR:
      return new ChatError(`Cannot write ${path}: ${reason}; is the disk full?`);
    case SQLITE_CORRUPT:
      return new ChatError(`${path} is damaged (${reason})`);
    case SQLITE_BUSY:
      return new ChatError(
        `${path} is locked by another program (waited ${BUSY_TIMEOUT_MS / 1000} s); try again`,
      );
    default:
      return new ChatError(`Database error in ${path}: ${reason}`);
  }
}

/** This process's Unix account, or undefined where it cannot be known (without --allow-sys=uid). */
function ownUid(): number | undefined {
  try {
    return Deno.uid() ?? undefined;
  } catch {
    return undefined;
  }
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Names what is wrong with the database or SQLite's files beside it, when
 * something visible is: a deleted database, or something other than a plain
 * file where SQLite keeps its journal (or, in WAL mode, its -wal and -shm files).
 */
function diagnose(path: string, { exists = true } = {}): ChatError | undefined {
  if (path === ":memory:") return undefined;
  if (exists && !lstatOrUndefined(path)) return new ChatError(`${path} was deleted or moved away`);
  for (const suffix of SQLITE_SUFFIXES) {
    const problem = plantedAt(path + suffix);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * Refuses to open the database unless SQLite's journal path holds the empty
 * placeholder that only the database's owner (or this account) can write: a
 * journal SQLite finds when it opens the file is played back, and the file it
 * names as its super-journal deleted. With the sticky bit on the folder, the
 * placeholder cannot be removed or replaced by anyone else.
 */
function checkJournalPath(path: string, dbOwner: number): ChatError | undefined {
  const journal = `${path}-journal`;
  const stat = lstatOrUndefined(journal);
  if (!stat) {
    return new ChatError(
      `${journal} is missing: the database's owner makes it (an empty file only they can write) by running chatroom once; until then chatroom does not open the database`,
    );
  }
  const me = ownUid();
  if (stat.uid !== dbOwner && stat.uid !== me) {
    return new ChatError(
      `${journal} belongs to another account (uid ${stat.uid}), not the database's owner, so SQLite would read whatever they write into it; the folder's owner (or root) should remove it`,
    );
  }
  if (stat.mode & 0o022) {
    return new ChatError(
      `${journal} can be written by others (mode ${
        (stat.mode & 0o777).toString(8)
      }), so SQLite would read whatever they write into it; its owner should run: chmod 600 ${journal}`,
    );
  }
  return undefined;
}

/**
 * Refuses a database whose folder others may write without the sticky bit:
 * anyone there could put a journal in place of the placeholder, and make
 * chatroom delete files of yours through SQLite. A group-writable folder is
 * shared unless its group is its owner's own (a "user private group").
 */
function checkFolder(path: string): ChatError | undefined {
  const folder = dirname(realPathOr(path));
  let stat: Stats;
  try {
    stat = statSync(folder);
  } catch {
    return undefined; // SQLite says what is wrong with it
  }
  const shared = (stat.mode & 0o002) !== 0 ||
    ((stat.mode & 0o020) !== 0 && stat.gid !== primaryGroup(stat.uid));
  if (!shared || stat.mode & 0o1000) return undefined;
  return new ChatError(
    `${folder} can be written by other accounts but has no sticky bit, so any of them could make chatroom delete files of yours through SQLite's journal; its owner should run: chmod +t ${folder}`,
  );
}

function realPathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** The primary group of Unix account `uid`, read from /etc/passwd (undefined when not found). */
function primaryGroup(uid: number): number | undefined {
  try {
    for (const line of Deno.readTextFileSync("/etc/passwd").split("\n").slice(0, 100_000)) {
      const fields = line.split(":");
      if (fields[2] === String(uid)) return Number(fields[3]);
    }
  } catch {
    // no such file (not Linux): a group-writable folder counts as shared
  }
  return undefined;
}

/**
 * Whether bytes 18 and 19 of the database's header say WAL mode, read through
 * a descriptor of ours before SQLite reads the file. chatroom keeps every file
 * it makes in WAL mode and never switches an existing one: the switch from a
 * rollback journal removes the journal placeholder.
 */
function headerSaysWal(path: string): boolean {
  try {
    const fd = databaseDescriptor(path);
    const header = new Uint8Array(20);
    // Not an SQLite file at all: SQLite says so.
    if (readSync(fd, header, 0, 20, 0) < 20) return true;
    if (new TextDecoder().decode(header.subarray(0, 16)) !== "SQLite format 3\0") return true;
    return header[18] === 2 && header[19] === 2;
  } catch {
    return true; // unreadable: SQLite says why
  }
}

/**
 * Descriptors of database files this thread has looked into, by device and
 * inode, kept open for good. Closing any descriptor of a file drops every
 * POSIX lock the process holds on it, SQLite's shared lock included: the
 * watch worker's look at the file left the chat view's connection without it,
 * and sqlite3 closing elsewhere then took itself for the last connection and
 * removed the -wal and -shm under running clients (found in a trial).
 */
const DESCRIPTORS = new Map<string, number>();

/** A descriptor of the file at `path` that is never closed (a FIFO or folder is, at once). */
function databaseDescriptor(path: string): number {
  try {
    const stat = statSync(path);
    const known = DESCRIPTORS.get(`${stat.dev}:${stat.ino}`);
    if (known !== undefined) return known;
  } catch {
    // the open below says why
  }
  // Never waits on a FIFO planted at the path.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const stat = fstatSync(fd);
  if (!stat.isFile()) {
    closeSync(fd); // not a database SQLite could have open: no lock of its to drop
    throw new ChatError(`${path} is not a regular file`);
  }
  const key = `${stat.dev}:${stat.ino}`;
  // Swapped in between the look and the open: that one stays open too, unused.
  if (!DESCRIPTORS.has(key)) DESCRIPTORS.set(key, fd);
  return DESCRIPTORS.get(key)!;
}

/** What switches a file back to WAL mode, for the user to run in sqlite3. */
const TO_WAL = "PRAGMA journal_mode=WAL";

function notInWal(path: string): ChatError {
  return new ChatError(
    `${path} is an SQLite database not in WAL mode: not one chatroom made, or one switched by hand. chatroom will not switch it itself; if it is yours, with every chatroom closed, run: sqlite3 ${path} "${TO_WAL}"`,
  );
}

/** The files SQLite keeps beside a database. */
const SQLITE_SUFFIXES = ["-journal", "-wal", "-shm"];

/**
 * What is wrong with what stands where SQLite keeps one of its files, if
 * anything. A FIFO there would block SQLite for good: it opens the journal to
 * read it whenever it finds one, on every read.
 */
function plantedAt(path: string): ChatError | undefined {
  const stat = lstatOrUndefined(path);
  const problem = stat && notPlainFile(stat);
  if (problem) {
    return new ChatError(
      `${path} is ${problem}, not SQLite's own file; remove it (with every chatroom closed) and try again`,
    );
  }
  // In WAL mode SQLite makes no journal, but reads one it finds when it opens the file: a
  // planted one is played back, and the file it names as its "super-journal" deleted.
  if (stat && path.endsWith("-journal") && stat.size > 0) {
    return new ChatError(
      `${path} holds a journal, but chatroom keeps the database in WAL mode and never writes one: someone put it there. chatroom will not open the database while it is there (SQLite would play it back); look at it, then remove it`,
    );
  }
  return undefined;
}

/** The device and inode a path names now, following links; undefined when it names nothing. */
function fileIdentity(path: string): string | undefined {
  try {
    const stat = statSync(path);
    return `${stat.dev}:${stat.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * Creates a missing database file readable by its owner only (when `create`),
 * and refuses a path that is not a usable database file, or beside which
 * something other than SQLite's own files stands.
 */
function prepareFile(path: string, create: boolean, readHeader = true): boolean {
  if (path === ":memory:") return false;
  if (path === "") throw new ChatError("The database path is empty; give --db a file name");
  const folder = checkFolder(path);
  if (folder) throw folder;
  const link = lstatOrUndefined(path);
  const me = ownUid();
  if (link?.isSymbolicLink() && (me === undefined || link.uid !== me)) {
    // Another account's link could point anywhere, a database in your home included.
    throw new ChatError(
      `${path} is a link another account made; chatroom follows only your own links to a database`,
    );
  }
  let stat;
  try {
    stat = statSync(path);
  } catch {
    if (!create) {
      throw new ChatError(
        `There is no database at ${path}; check --db or CHATROOM_DB (chatroom register creates one)`,
      );
    }
    const planted = diagnose(path, { exists: false });
    if (planted) throw planted;
    let fd;
    try {
      // Never through a link, and only a file that was not there: ours, so its mode is ours to set.
      fd = openSync(
        path,
        constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        0o600,
      );
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === "ENOENT"
        ? `there is no folder ${dirname(path)}`
        : code === "ENOTDIR"
        ? `${dirname(path)} is not a folder`
        : (err as Error).message;
      throw new ChatError(`Cannot create ${path}: ${why}`);
    }
    try {
      fchmodSync(fd, 0o600); // the umask may have taken bits away, never added them
    } finally {
      closeSync(fd);
    }
    return true;
  }
  if (stat.isDirectory()) throw new ChatError(`${path} is a directory, not a database file`);
  if (!stat.isFile()) throw new ChatError(`${path} is not a regular file`);
  if ((stat.mode & 0o222) === 0) throw new ChatError(`${path} is read-only`);
  // We create new files ourselves; an empty one that is already there is not ours to fill.
  if (stat.size === 0) {
    throw new ChatError(
      `${path} is an empty file, not a chatroom database; remove it to start anew`,
    );
  }
  const planted = diagnose(path);
  if (planted) throw planted;
  // (Without our read, SQLite's own answer below is the check: a file out of WAL mode is refused.)
  if (readHeader && !headerSaysWal(path)) throw notInWal(path);
  return false;
}

/**
 * Puts an empty file only this account can write where SQLite would look for
 * a journal, when nothing is there. SQLite in WAL mode never writes one, but
 * opening the database it reads one it finds, plays it back and deletes the
 * file it names as its super-journal: anyone's file. With the sticky bit on
 * the folder, nobody else can then put one there. Made by the database's owner.
 */
function holdJournalPath(path: string): void {
  try {
    const fd = openSync(
      `${path}-journal`,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
    try {
      fchmodSync(fd, 0o600);
    } finally {
      closeSync(fd);
    }
  } catch {
    // There already (checked by diagnose()), or the folder is read-only: nothing to hold.
  }
}

/**
 * The chat database: accounts, rooms and messages in one SQLite file that
 * several processes share. Every method is a single statement or an
 * immediate transaction, so concurrent writers wait instead of failing.
 */
export class SqliteStore implements Store {
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #now: () => number;
  readonly #statements = new Map<string, StatementSync>();
  readonly #wake: WakeSignal;
  /** The device and inode of the file the connection opened. */
  readonly #identity: string | undefined;
  constructor(path: string, db: DatabaseSync, now: () => number, identity?: string) {
    this.path = path;
    this.#db = db;
    this.#now = now;
    this.#wake = new WakeSignal(path);
    this.#identity = identity;
  }

  /** The device and inode of the file this store opened, for another thread's store. */
  get identity(): string | undefined {
    return this.#identity;
  }

  /**
   * Fails when the path no longer names the file this connection has open:
   * someone moved another file over it or deleted it. Writing on would go into
   * a file nobody else reads, or mix two databases' journals.
   */
  checkFile(): void {
    if (this.#identity === undefined || fileIdentity(this.path) === this.#identity) return;
    throw new ChatError(
      `${this.path} was replaced or removed while chatroom had it open; nothing more is written to it. Start chatroom again to use the file that is there now`,
    );
  }

  /** The schema_version last found to hold exactly chatroom's own tables and indexes. */
  #checkedSchema = -1;
  /** Reads schema_version: run before every statement, so prepared once. */
  #schemaVersion: StatementSync | undefined;

  /**
   * Refuses a file whose schema someone changed by hand: a view or trigger
   * planted under a table's name would make any read or write run their SQL
   * (a recursive one runs for ever). Checked before every statement; SQLite
   * counts schema changes, so the full check runs only after one.
   */
  #checkSchema(): void {
    this.#schemaVersion ??= this.#db.prepare("PRAGMA schema_version");
    const version = Number(this.#schemaVersion.get()?.schema_version);
    if (version === this.#checkedSchema) return;
    if (schemaOf(this.#db) !== expectedSchema()) throw foreignSchema(this.path);
    this.#checkedSchema = version;
  }

  /**
   * Set inside a transaction once its schema was checked: the schema cannot
   * change under a snapshot (or under the write lock), so its statements need
   * not look again.
   */
  #checkedInside = false;

  /** Checks the schema as the transaction just begun sees it, for the rest of it. */
  #checkInside(): void {
    this.#checkSchema();
    this.#checkedInside = true;
  }

  #sql(sql: string): StatementSync {
    if (!this.#checkedInside) this.#checkSchema();
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      // Integers past 2^53 would throw as numbers: read as BigInt, then checked by safeNumber().
      statement.setReadBigInts(true);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs a read, turning SQLite's errors into one line. */
  #read<T>(run: () => T): T {
    try {
      return run();
    } catch (err) {
      if (err instanceof ChatError) throw err;
      throw describe(this.path, err);
    }
  }

  /**
   * Runs reads in one read transaction: one snapshot of the file, and one
   * lock taken and one look at what other connections wrote for all of them,
   * where each statement alone takes its own.
   */
  snapshot<T>(run: () => T): T {
    if (this.#db.isTransaction) return run();
    this.#read(() => this.#sql("BEGIN").run());
    try {
      this.#read(() => this.#checkInside());
      return run();
    } finally {
      this.#checkedInside = false;
      // A read has nothing to commit: ended either way, never left open to pin an old snapshot.
      if (this.#db.isTransaction) {
        try {
          this.#db.exec("COMMIT");
        } catch {
          if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
        }
      }
    }
  }

  #write<T>(run: () => T): T {
    this.checkFile();
    try {
      return run();
    } catch (err) {
      if (err instanceof ChatError) throw err;
      throw describe(this.path, err);
    }
  }

  /** Runs `run` in one immediate transaction: other writers wait for it. */
  #transaction<T>(run: () => T): T {
    return this.#write(() => {
      // Prepared, not exec(): only statements' errors carry SQLite's error code.
      this.#sql("BEGIN IMMEDIATE").run();
      try {
        this.#checkInside();
        const result = run();
        this.#sql("COMMIT").run();
        return result;
      } catch (err) {
        // Not through #sql(): a failed schema check must not keep the write lock.
        if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
        throw err;
      } finally {
        this.#checkedInside = false;
      }
    });
  }

  /**
   * Refuses a new name that is taken, looks like one that is, or mixes
   * scripts: `The name "аlice" is too close to "alice"`.
   */
  #checkNewName(table: "users" | "rooms", name: string, what: NameKind): void {
    const taken = this.#sql(
      `SELECT substr(name, 1, 64) AS name FROM ${table} WHERE name_key = ?`,
    ).get(nameKey(name));
    if (taken) {
      throw new ChatError(
        what === "User name"
          ? `The name "${name}" is taken`
          : `A room named "${shownName(String(taken.name))}" already exists`,
      );
    }
    const alike = this.#sql(
      `SELECT substr(name, 1, 64) AS name FROM ${table} WHERE skeleton = ? LIMIT 1`,
    ).get(nameSkeleton(name));
    if (alike) {
      throw new ChatError(
        `The name "${name}" is too close to "${shownName(String(alike.name))}"`,
      );
    }
    checkNewName(name, what);
  }

  /**
   * Returns `rawName` normalised if it is a valid user name that no account
   * has taken or looks like; registering checks this before hashing.
   */
  checkNewUserName(rawName: string): string {
    const name = normalizeName(rawName, "User name");
    this.#checkNewName("users", name, "User name");
    return name;
  }

  /** Creates an account; the name must be free and not look like a taken one. */
  createUser(rawName: string, passwordHash: string): User {
    const name = normalizeName(rawName, "User name");
    return this.#transaction(() => {
      this.#checkNewName("users", name, "User name");
      const { lastInsertRowid } = this.#sql(
        `INSERT INTO users (name, name_key, skeleton, password_hash, created_at)
         VALUES (?, ?, ?, ?, ?)`,
      ).run(name, nameKey(name), nameSkeleton(name), passwordHash, this.#now());
      return { id: Number(lastInsertRowid), name };
    });
  }

  /** Finds an account by name, ignoring case, with its password hash. */
  findUser(name: string): (User & { passwordHash: string }) | undefined {
    return this.#read(() => {
      const row = this.#sql(
        // A hash is about 120 characters; a planted megabyte of one is cut, and then refused.
        "SELECT id, substr(name, 1, 64) AS name, substr(password_hash, 1, 512) AS password_hash FROM users WHERE name_key = ?",
      ).get(nameKey(name.trim()));
      if (!row) return undefined;
      return {
        id: safeNumber(row.id),
        name: shownName(String(row.name)),
        passwordHash: String(row.password_hash),
      };
    });
  }

  /** The store's clock, in ms since the epoch. */
  now(): number {
    return this.#now();
  }

  /**
   * How long (ms) before the Unix account `uid` may try another password for
   * `userId`. Wrong passwords count per Unix account, so another member's
   * guesses never keep the owner out.
   */
  loginWait(userId: number, uid: number): number {
    const row = this.#sql(
      "SELECT locked_until FROM login_failures WHERE user_id = ? AND uid = ?",
    ).get(userId, uid);
    const wait = safeNumber(row?.locked_until) - this.#now();
    // A planted far-future lock is worth at most the longest wait we set.
    return Math.min(Math.max(0, wait), MAX_LOGIN_WAIT_MS);
  }

  /**
   * Counts a wrong password from `uid`. From the third in a row on, further
   * tries from that Unix account wait 1 s, then 2 s, 4 s ... up to a minute.
   * Returns the wait in ms.
   */
  recordFailedLogin(userId: number, uid: number): number {
    const now = this.#now();
    return this.#write(() => {
      const row = this.#sql(
        `INSERT INTO login_failures (user_id, uid, failures, locked_until) VALUES (?, ?, 1, 0)
         ON CONFLICT (user_id, uid) DO UPDATE SET failures = min(failures, 64) + 1,
           locked_until = CASE WHEN failures + 1 >= 3
             THEN ? + min(?, 1000 << min(16, failures + 1 - 3)) ELSE 0 END
         RETURNING locked_until`,
      ).get(userId, uid, now, MAX_LOGIN_WAIT_MS);
      return Math.min(Math.max(0, safeNumber(row?.locked_until) - now), MAX_LOGIN_WAIT_MS);
    });
  }

  /** Forgets the wrong passwords `uid` typed after a right one. */
  resetFailedLogins(userId: number, uid: number): void {
    this.#write(() =>
      this.#sql("DELETE FROM login_failures WHERE user_id = ? AND uid = ?").run(userId, uid)
    );
  }

  /** The rate limit of `kind` in this database: its settings, else the default. */
  #rate(kind: "message" | "room"): Rate {
    // Anyone can write these: values outside what makes sense fall back or are held to it.
    const setting = (name: string, fallback: number, min: number, max: number) => {
      const value = safeNumber(
        this.#sql("SELECT value FROM settings WHERE name = ?").get(name)?.value,
        fallback,
      );
      return value > 0 ? Math.min(Math.max(value, min), max) : fallback;
    };
    const fallback = DEFAULT_LIMITS[kind];
    return {
      burst: setting(`${kind}_burst`, fallback.burst, 1, 1e9),
      perSecond: setting(`${kind}s_per_second`, fallback.perSecond, 1 / 3600, 1e9),
    };
  }

  /**
   * Changes a rate limit for every client of this database. Run by the
   * benchmark and the stress tests, which send faster than people do.
   */
  setRate(kind: "message" | "room", rate: Rate): void {
    this.#write(() => {
      const set = this.#sql(
        "INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
      );
      set.run(`${kind}_burst`, rate.burst);
      set.run(`${kind}s_per_second`, rate.perSecond);
    });
  }

  /**
   * Takes one token from the account's bucket for `kind` (inside a
   * transaction), or returns how many ms until one is there.
   */
  #spend(userId: number, kind: "message" | "room"): number {
    const { burst, perSecond } = this.#rate(kind);
    const now = this.#now();
    const row = this.#sql(
      "SELECT tokens, updated_at FROM allowances WHERE user_id = ? AND kind = ?",
    ).get(userId, kind);
    let tokens = burst;
    const updatedAt = safeNumber(row?.updated_at, Infinity);
    // A row from the future, or that is not numbers, starts a full bucket: it cannot stall anyone.
    if (row && updatedAt <= now) {
      const stored = Math.min(Math.max(safeNumber(row.tokens, burst), 0), burst);
      tokens = Math.min(burst, stored + (now - updatedAt) / 1000 * perSecond);
    }
    if (tokens < 1) return Math.ceil((1 - tokens) / perSecond * 1000);
    this.#sql(
      `INSERT INTO allowances (user_id, kind, tokens, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id, kind) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at`,
    ).run(userId, kind, tokens - 1, now);
    return 0;
  }

  /** Creates a room; the name must be free and not look like a taken one. */
  createRoom(rawName: string, createdBy: number): Room {
    const name = normalizeName(rawName, "Room name");
    return this.#transaction(() => {
      this.#checkNewName("rooms", name, "Room name");
      const wait = this.#spend(createdBy, "room");
      if (wait > 0) {
        throw new WaitError(
          `You are creating rooms too fast; wait ${Math.ceil(wait / 1000)} s and try again`,
          wait,
        );
      }
      const { lastInsertRowid } = this.#sql(
        "INSERT INTO rooms (name, name_key, skeleton, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
      ).run(name, nameKey(name), nameSkeleton(name), createdBy, this.#now());
      return { id: Number(lastInsertRowid), name, lastActivity: null, topic: null };
    });
  }

  /** Finds a room by name, ignoring case. */
  findRoom(name: string): Room | undefined {
    return this.#read(() => {
      const row = this.#sql(
        `SELECT ${ROOM_COLUMNS} FROM rooms WHERE name_key = ? AND dm_a IS NULL`,
      ).get(nameKey(name.trim()));
      return row ? toRoom(row) : undefined;
    });
  }

  /** Finds a room by name, creating it when there is none. */
  findOrCreateRoom(name: string, createdBy: number): Room {
    const found = this.findRoom(name);
    if (found) return found;
    try {
      return this.createRoom(name, createdBy);
    } catch (err) {
      // Another terminal may have created it between our look-up and insert.
      const raced = this.findRoom(name);
      if (raced) return raced;
      throw err;
    }
  }

  /**
   * The most recently active rooms (at most `limit`): by their last message,
   * or their creation when they have none, the most recent first; with
   * `search`, only rooms whose name holds it, ignoring case.
   */
  listRooms(options: { limit?: number; search?: string; userId?: number } = {}): Room[] {
    return this.#read(() => {
      // A direct conversation is listed to its two members only, and only when not searching.
      const dms = options.search === undefined ? options.userId ?? -1 : -1;
      return this.#sql(
        `SELECT ${ROOM_COLUMNS} FROM rooms
         WHERE (dm_a IS NULL AND name_key LIKE ? ESCAPE '\\') OR ? IN (dm_a, dm_b)
         ORDER BY coalesce(last, created_at) DESC, last IS NULL, name_key LIMIT ?`,
      ).all(nameLikePattern(options.search), dms, options.limit ?? ROOM_LIST_LIMIT)
        .map((row) => toRoom(row, options.userId));
    });
  }

  /**
   * Up to `limit` user or room names starting with `prefix`, ignoring case,
   * in order: what Tab completes to.
   */
  namesStartingWith(kind: "user" | "room", prefix: string, limit = 20): string[] {
    return this.#read(() => {
      const key = nameKey(prefix);
      const table = kind === "user" ? "users" : "rooms";
      // A range on the unique index: every key that starts with the prefix sorts between these.
      return this.#sql(
        `SELECT substr(name, 1, 64) AS name FROM ${table}
         WHERE name_key >= ? AND name_key < ? ORDER BY name_key LIMIT ?`,
      ).all(key, key + "\u{10FFFF}", limit).map((row) => shownName(String(row.name)));
    });
  }

  /** How many rooms there are; with `search`, how many have a name that holds it. */
  countRooms(search?: string, userId?: number): number {
    return this.#read(() => {
      return Number(
        this.#sql(
          `SELECT count(*) AS n FROM rooms
           WHERE (dm_a IS NULL AND name_key LIKE ? ESCAPE '\\') OR ? IN (dm_a, dm_b)`,
        ).get(nameLikePattern(search), search === undefined ? userId ?? -1 : -1)?.n,
      );
    });
  }

  /**
   * Every room with its message count and last activity, the most recently
   * active first, one at a time: the list is never held whole.
   */
  *roomStats(userId?: number): Generator<Room & { messages: number }> {
    // A statement of its own: the iterator keeps it busy until it is done.
    this.#checkSchema();
    const rows = this.#db.prepare(
      `SELECT r.id, substr(r.name, 1, 64) AS name, count(m.id) AS messages, max(m.sent_at) AS last,
         r.dm_a, r.dm_b, (SELECT substr(name, 1, 64) FROM users WHERE id = r.dm_a) AS dm_a_name,
         (SELECT substr(name, 1, 64) FROM users WHERE id = r.dm_b) AS dm_b_name
       FROM rooms r LEFT JOIN messages m ON m.room_id = r.id
       WHERE r.dm_a IS NULL OR ? IN (r.dm_a, r.dm_b)
       GROUP BY r.id ORDER BY last IS NULL, last DESC, r.name_key`,
    );
    rows.setReadBigInts(true);
    for (const row of rows.iterate(userId ?? -1)) {
      yield { ...toRoom(row, userId), messages: safeNumber(row.messages) };
    }
  }

  /**
   * Stores a message and returns its id. Empty, over-long and control-holding
   * texts are refused, and so is an account over its rate.
   */
  addMessage(roomId: number, userId: number, text: string, kind: MessageKind = "text"): number {
    if (kind === "topic") checkTopic(text);
    else checkMessage(text);
    let id: number;
    try {
      id = this.#addMessage(roomId, userId, text, kind, true);
    } catch (err) {
      // A search index someone damaged (it fails at the commit, where its pages are written)
      // must not stop the chat: the message goes in again, without its words.
      if (!(err instanceof ChatError) || !err.message.includes("is damaged")) throw err;
      id = this.#addMessage(roomId, userId, text, kind, false);
    }
    if (this.path !== ":memory:") this.#wake.ping();
    return id;
  }

  #addMessage(
    roomId: number,
    userId: number,
    text: string,
    kind: MessageKind,
    words: boolean,
  ): number {
    return this.#transaction(() => {
      const wait = this.#spend(userId, "message");
      if (wait > 0) {
        const { perSecond } = this.#rate("message");
        throw new WaitError(
          `You are sending too fast (at most ${perSecond} a second); wait ${
            Math.ceil(wait / 100) / 10
          } s. Nothing was sent`,
          wait,
        );
      }
      const { lastInsertRowid } = this.#sql(
        "INSERT INTO messages (room_id, user_id, text, sent_at, kind) VALUES (?, ?, ?, ?, ?)",
      ).run(roomId, userId, text, this.#now(), kind);
      const id = safeNumber(lastInsertRowid, -1);
      // After a planted id past 2^53, every new one would be too: no reader could tell them apart.
      if (id < 1) {
        throw new ChatError(
          `${this.path} holds a message id past 2^53 that was written by hand; chatroom cannot number messages after it`,
        );
      }
      if (words) this.#sql("INSERT INTO messages_fts (rowid, text) VALUES (?, ?)").run(id, text);
      if (kind === "topic") this.#sql("UPDATE rooms SET topic = ? WHERE id = ?").run(text, roomId);
      for (const name of mentionedNames(text)) {
        // In a conversation only its other member can be named: others learn nothing of it.
        const named = this.#sql(
          `SELECT id FROM users WHERE name_key = ? AND EXISTS (SELECT 1 FROM rooms r
             WHERE r.id = ? AND (r.dm_a IS NULL OR users.id IN (r.dm_a, r.dm_b)))`,
        ).get(nameKey(name), roomId);
        if (!named || safeNumber(named.id) === userId) continue;
        this.#sql("INSERT OR IGNORE INTO mentions VALUES (?, ?, ?)").run(named.id, roomId, id);
      }
      return id;
    });
  }

  /** Up to `limit` messages of a room before message `beforeId`, oldest first. */
  messagesBefore(roomId: number, beforeId: number, limit: number): Message[] {
    return this.#read(() => {
      return this.#sql(
        `SELECT * FROM (
           SELECT ${MESSAGE_COLUMNS}
           FROM messages m JOIN users u ON u.id = m.user_id
           WHERE m.room_id = ? AND m.id BETWEEN 1 AND ? - 1 ORDER BY m.id DESC LIMIT ?
         ) ORDER BY id`,
      ).all(roomId, Math.min(beforeId, MAX_ID), limit).map(toMessage);
    });
  }

  /**
   * Up to `limit` messages holding every word of `words` (SQLite's FTS5,
   * words as its unicode61 tokenizer splits them), newest first: in
   * `roomId`, or in every room (and direct conversation of `userId`).
   */
  search(
    words: string,
    { userId, roomId, limit = SEARCH_LIMIT }: { userId: number; roomId?: number; limit?: number },
  ): Found[] {
    // Each word a quoted phrase: nothing the user types is FTS5 syntax.
    const query = searchWords(words).map((word) => `"${word.replaceAll('"', '""')}"`).join(" ");
    return this.#read(() => {
      return this.#sql(
        `SELECT ${MESSAGE_COLUMNS}, substr(r.name, 1, 64) AS r_name, r.dm_a, r.dm_b,
           (SELECT substr(name, 1, 64) FROM users WHERE id = r.dm_a) AS dm_a_name,
           (SELECT substr(name, 1, 64) FROM users WHERE id = r.dm_b) AS dm_b_name
         FROM messages_fts f JOIN messages m ON m.id = f.rowid
         JOIN users u ON u.id = m.user_id JOIN rooms r ON r.id = m.room_id
         WHERE messages_fts MATCH ? AND m.id BETWEEN 1 AND ${MAX_ID}
           AND (? IS NULL OR m.room_id = ?) AND (r.dm_a IS NULL OR ? IN (r.dm_a, r.dm_b))
         ORDER BY f.rowid DESC LIMIT ?`,
      ).all(query, roomId ?? null, roomId ?? null, userId, limit).map((row) =>
        toFound(row, userId)
      );
    });
  }

  /** The direct conversation of `userId` with the account named `otherName`, made if need be. */
  openDirect(userId: number, otherName: string, create = true): Room {
    const other = this.findUser(normalizeName(otherName, "User name"));
    if (!other) throw new ChatError(`There is no account named "${otherName.trim()}"`);
    if (other.id === userId) throw new ChatError("That is you: talk to someone else");
    const [a, b] = userId < other.id ? [userId, other.id] : [other.id, userId];
    const find = () =>
      this.#read(() => {
        const row = this.#sql(`SELECT ${ROOM_COLUMNS} FROM rooms WHERE dm_a = ? AND dm_b = ?`)
          .get(a, b);
        return row ? toRoom(row, userId) : undefined;
      });
    const found = find();
    if (found) return found;
    if (!create) throw noConversation(other.name);
    try {
      this.#transaction(() => {
        const wait = this.#spend(userId, "room");
        if (wait > 0) {
          throw new WaitError(
            `You are opening conversations too fast; wait ${
              Math.ceil(wait / 1000)
            } s and try again`,
            wait,
          );
        }
        // A key no room name can have: names hold no "@" or "+".
        const key = `@${a}+${b}`;
        this.#sql(
          `INSERT INTO rooms (name, name_key, skeleton, created_by, created_at, dm_a, dm_b)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        ).run(key, key, key, userId, this.#now(), a, b);
      });
    } catch (err) {
      const raced = find(); // the other member opened it meanwhile
      if (raced) return raced;
      throw err;
    }
    return find()!;
  }

  /** Says that `client` (one terminal of `userId`) is in `roomId`, or in the menus, now. */
  announce(client: string, userId: number, roomId: number | null): void {
    const moved = this.#transaction(() => {
      const now = this.#now();
      // Terminals that never said goodbye (a crash, a kill) go after ten minutes.
      this.#sql("DELETE FROM presence WHERE seen_at < ?").run(now - STALE_PRESENCE_MS);
      const before = this.#sql("SELECT room_id, seen_at FROM presence WHERE client = ?").get(
        client,
      );
      this.#sql(
        `INSERT INTO presence VALUES (?, ?, ?, ?) ON CONFLICT (client)
         DO UPDATE SET room_id = excluded.room_id, seen_at = excluded.seen_at`,
      ).run(client, userId, roomId, now);
      // Back after timing out (a suspended laptop) is arriving too.
      const moved = !before || safeNumber(before.seen_at) < now - PRESENCE_TIMEOUT_MS ||
        (before.room_id == null ? null : safeNumber(before.room_id)) !== roomId;
      if (moved) this.#movedHere();
      return moved;
    });
    // A heartbeat changes nothing anyone sees: only arriving and moving wake the others.
    if (moved && this.path !== ":memory:") this.#wake.ping();
  }

  /** Says that `client` is gone. */
  depart(client: string): void {
    this.#transaction(() => {
      const { changes } = this.#sql("DELETE FROM presence WHERE client = ?").run(client);
      if (Number(changes) > 0) this.#movedHere();
    });
    if (this.path !== ":memory:") this.#wake.ping();
  }

  /** Counts an arrival, move or departure, for followers' stamps(). */
  #movedHere(): void {
    // Whatever a member planted there (a huge number, text, no row), it moves from here on.
    this.#sql(
      `INSERT INTO stamps VALUES ('presence', 1) ON CONFLICT (name) DO UPDATE SET n =
         CASE WHEN typeof(n) = 'integer' AND n >= 0 AND n < ${MAX_ID} THEN n + 1 ELSE 1 END`,
    ).run();
  }

  /**
   * What a follower compares between looks: the newest message id (any room),
   * the count of arrivals, moves and departures, and the sum of `userId`'s
   * read markers (their other terminal reading a room). Cheap reads, bounded.
   */
  stamps(userId: number): { newest: number; presence: number; read: number } {
    return this.#read(() => {
      const row = this.#sql(
        `SELECT (SELECT max(id) FROM messages WHERE id <= ${MAX_ID}) AS newest,
           (SELECT CASE WHEN typeof(n) = 'integer' THEN n END FROM stamps
              WHERE name = 'presence') AS presence,
           (SELECT total(last_read) FROM (SELECT last_read FROM read_markers WHERE user_id = ?
              LIMIT 500)) AS read`,
      ).get(userId);
      return {
        newest: safeNumber(row?.newest),
        presence: safeNumber(row?.presence),
        read: Number(row?.read),
      };
    });
  }

  /**
   * Whether a message with an id in (`afterId`, `upTo`] is in a room other
   * than `roomId`: news, where one in the followed room is not. Reads at most
   * MAX_NEWS_SCAN ids; past that, says yes.
   */
  newsOutside(roomId: number | undefined, afterId: number, upTo: number): boolean {
    if (upTo <= afterId) return false;
    if (upTo - afterId > MAX_NEWS_SCAN || roomId === undefined) return true;
    return this.#read(() =>
      this.#sql(
        "SELECT 1 FROM messages WHERE id > ? AND id <= ? AND room_id IS NOT ? LIMIT 1",
      ).get(afterId, upTo, roomId) !== undefined
    );
  }

  /**
   * Who is logged in now: a heartbeat within PRESENCE_TIMEOUT_MS (one from
   * the future, planted, counts as none), each account once per room.
   */
  present(): Presence[] {
    return this.#read(() => {
      const now = this.#now();
      return this.#sql(
        `SELECT DISTINCT p.user_id, substr(u.name, 1, 64) AS name, p.room_id,
           CASE WHEN r.dm_a IS NULL THEN substr(r.name, 1, 64) END AS room_name
         FROM presence p JOIN users u ON u.id = p.user_id LEFT JOIN rooms r ON r.id = p.room_id
         WHERE p.seen_at BETWEEN ? AND ? ORDER BY u.name_key, p.room_id LIMIT 1000`,
      ).all(now - PRESENCE_TIMEOUT_MS, now + PRESENCE_TIMEOUT_MS).map(toPresence);
    });
  }

  /** Moves `userId`'s read marker in `roomId` up to `messageId` (never back). */
  markRead(userId: number, roomId: number, messageId: number): void {
    this.#write(() =>
      this.#sql(
        `INSERT INTO read_markers VALUES (?, ?, ?) ON CONFLICT (user_id, room_id)
         DO UPDATE SET last_read = max(last_read, excluded.last_read)`,
      ).run(userId, roomId, messageId)
    );
  }

  /** The last message `userId` has seen in `roomId`, or 0. */
  lastRead(userId: number, roomId: number): number {
    return this.#read(() =>
      safeNumber(
        this.#sql("SELECT last_read FROM read_markers WHERE user_id = ? AND room_id = ?")
          .get(userId, roomId)?.last_read,
      )
    );
  }

  /**
   * The rooms with news for `userId`: rooms they have been in and their
   * direct conversations with messages from others past their marker, and
   * any room where someone named them since; each count stops at
   * MAX_UNREAD_COUNTED.
   */
  unread(userId: number): Unread[] {
    return this.#read(() => {
      return this.#sql(
        `WITH mine (room_id) AS (
           SELECT room_id FROM read_markers WHERE user_id = ?1
           UNION SELECT id FROM rooms WHERE dm_a = ?1
           UNION SELECT id FROM rooms WHERE dm_b = ?1
           UNION SELECT room_id FROM mentions WHERE user_id = ?1
           LIMIT 500
         ), counted AS (
           SELECT r.*, k.last_read,
             -- At most so many rows read per room, whoever planted how many.
             (SELECT count(*) FROM (SELECT m.user_id, m.kind FROM messages m WHERE m.room_id = r.id
                AND m.id > coalesce(k.last_read, 0) AND m.id <= ${MAX_ID}
                ORDER BY m.id LIMIT ${MAX_UNREAD_COUNTED}) WHERE user_id <> ?1 AND kind <> 'topic')
               AS unread,
             (SELECT count(*) FROM (SELECT 1 FROM mentions x JOIN messages m ON m.id = x.message_id
                WHERE x.user_id = ?1 AND x.room_id = r.id AND x.message_id > coalesce(k.last_read, 0)
                  AND m.room_id = r.id AND m.user_id <> ?1
                LIMIT ${MAX_UNREAD_COUNTED})) AS mentions
           FROM mine JOIN rooms r ON r.id = mine.room_id
           LEFT JOIN read_markers k ON k.user_id = ?1 AND k.room_id = r.id
         )
         SELECT ${ROOM_COLUMNS}, unread, mentions, last_read IS NULL AS unvisited FROM counted rooms
         WHERE mentions > 0 OR (unread > 0 AND (last_read IS NOT NULL OR dm_a IS NOT NULL))`,
      ).all(userId).map((row) => toUnread(row, userId));
    });
  }

  /** Whether a mention rings `userId`'s terminal bell (on unless turned off). */
  bell(userId: number): boolean {
    return this.#read(() => {
      const row = this.#sql("SELECT bell FROM preferences WHERE user_id = ?").get(userId);
      return row ? safeNumber(row.bell) !== 0 : true;
    });
  }

  setBell(userId: number, on: boolean): void {
    this.#write(() =>
      this.#sql(
        `INSERT INTO preferences VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET bell = excluded.bell`,
      ).run(userId, on ? 1 : 0)
    );
  }

  /** The last `limit` messages of a room, oldest first. */
  recentMessages(roomId: number, limit = HISTORY_ON_JOIN): Message[] {
    return this.#read(() => {
      return this.#sql(
        `SELECT * FROM (
           SELECT ${MESSAGE_COLUMNS}
           FROM messages m JOIN users u ON u.id = m.user_id
           WHERE m.room_id = ? AND m.id BETWEEN 1 AND ${MAX_ID} ORDER BY m.id DESC LIMIT ?
         ) ORDER BY id`,
      ).all(roomId, limit).map(toMessage);
    });
  }

  /** Messages of a room with an id above `afterId`, oldest first. */
  messagesAfter(roomId: number, afterId: number, limit = 1000): Message[] {
    return this.#read(() => {
      return this.#sql(
        `SELECT ${MESSAGE_COLUMNS}
         FROM messages m JOIN users u ON u.id = m.user_id
         WHERE m.room_id = ? AND m.id > ? AND m.id <= ${MAX_ID} ORDER BY m.id LIMIT ?`,
      ).all(roomId, afterId, limit).map(toMessage);
    });
  }

  /**
   * Up to `length` characters of a message's text from character `start`
   * (0-based), for writing a long one out piece by piece.
   */
  messageText(id: number, start: number, length: number): string {
    return this.#read(() => {
      const row = this.#sql("SELECT substr(text, ?, ?) AS text FROM messages WHERE id = ?")
        .get(start + 1, length, id);
      return row ? String(row.text) : "";
    });
  }

  /** The id of a room's newest message, or 0 when it has none. */
  lastMessageId(roomId: number): number {
    return this.#read(() => {
      const row = this.#sql(
        `SELECT max(id) AS id FROM messages WHERE room_id = ? AND id <= ${MAX_ID}`,
      )
        .get(roomId);
      return safeNumber(row?.id);
    });
  }

  #dataVersion: number | undefined;

  /**
   * Whether another connection committed a change to the file since the last
   * call (true on the first): cheap enough for an open menu to ask every second.
   */
  changed(): boolean {
    return this.#read(() => {
      const version = safeNumber(this.#sql("PRAGMA data_version").get()?.data_version);
      const changed = version !== this.#dataVersion;
      this.#dataVersion = version;
      return changed;
    });
  }

  /** Closes the connection. */
  close(): void {
    this.#wake.close();
    this.#statements.clear();
    if (this.#db.isOpen) this.#db.close();
  }
}

/** How long a presence row stays after its terminal's last heartbeat, gone or not. */
const STALE_PRESENCE_MS = 600_000;
/** The most message ids newsOutside() reads; a burst of more is news without looking. */
const MAX_NEWS_SCAN = 1000;

/** Highest message id read: past it, ids are not exact as JavaScript numbers. */
const MAX_ID = Number.MAX_SAFE_INTEGER;

/** Longest wait for another password try. */
const MAX_LOGIN_WAIT_MS = 60_000;

// Names are read cut to twice the longest valid one: enough to see that a
// planted one is too long, never a megabyte of it.
// A room's name and last activity, as toRoom() reads them.
const ROOM_COLUMNS =
  `id, substr(name, 1, 64) AS name, substr(topic, 1, ${MAX_TOPIC_LENGTH}) AS topic,
  (SELECT sent_at FROM messages WHERE room_id = rooms.id ORDER BY id DESC LIMIT 1) AS last,
  dm_a, dm_b, (SELECT substr(name, 1, 64) FROM users WHERE id = rooms.dm_a) AS dm_a_name,
  (SELECT substr(name, 1, 64) FROM users WHERE id = rooms.dm_b) AS dm_b_name`;
const MESSAGE_COLUMNS = `m.id, m.room_id, m.user_id, substr(u.name, 1, 64) AS user_name,
  substr(m.text, 1, ${SHOWN_TEXT_LIMIT}) AS text,
  max(0, length(m.text) - ${SHOWN_TEXT_LIMIT}) AS more, m.sent_at, m.kind`;

/**
 * Opens (creating if needed) a chat database and brings its schema up to date.
 * A path that is a directory, not SQLite, read-only or from a newer version
 * fails with one {@linkcode ChatError} and the file is left as it was.
 *
 * @example
 * ```ts
 * const store = openSqliteStore(":memory:");
 * store.close();
 * ```
 */
export function openSqliteStore(path: string, options: StoreOptions = {}): SqliteStore {
  const created = prepareFile(path, options.create ?? true, options.identity === undefined);
  const journal = `${path}-journal`;
  const journalThere = path === ":memory:" || lstatOrUndefined(journal) !== undefined;
  try {
    return connect(path, options, created);
  } catch (err) {
    // What this call made for a file it then refused is not left behind: an empty "database",
    // or the journal's placeholder beside a file that is not ours (a text file, another program's).
    if (created) removeIfEmptyAndOurs(path);
    if (!journalThere) removeIfEmptyAndOurs(journal);
    throw err;
  }
}

function removeIfEmptyAndOurs(path: string): void {
  try {
    const stat = lstatSync(path);
    if (stat.isFile() && stat.size === 0 && stat.uid === ownUid()) Deno.removeSync(path);
  } catch {
    // gone already
  }
}

function connect(path: string, options: StoreOptions, created: boolean): SqliteStore {
  const memory = path === ":memory:";
  const identity = memory ? undefined : options.identity ?? openedIdentity(path);
  if (!memory) {
    // The owner holds the journal's path before anyone opens the file; the others find it held.
    const owner = statSync(path).uid;
    if (owner === ownUid()) holdJournalPath(path);
    const journal = checkJournalPath(path, owner);
    if (journal) throw journal;
  }
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS });
  } catch (err) {
    throw describe(path, err);
  }
  // SQLite follows a link at the path: one swapped in since we looked is refused here, and
  // what stands where it keeps its files is looked at once more, right before its first read.
  const replaced = () => !memory && fileIdentity(path) !== identity;
  const planted = memory ? undefined : diagnose(path);
  if (replaced() || planted) {
    db.close();
    throw planted ?? new ChatError(`${path} was replaced while chatroom opened it; try again`);
  }
  try {
    checkSchema(path, db);
    if (created || memory) db.exec("PRAGMA journal_mode = WAL");
    // Switched out of WAL mode between our look at the header and SQLite's: not ours to use.
    else if (db.prepare("PRAGMA journal_mode").get()?.journal_mode !== "wal") throw notInWal(path);
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
    migrate(db);
    if (schemaOf(db) !== expectedSchema()) throw foreignSchema(path);
  } catch (err) {
    db.close();
    throw err instanceof ChatError ? err : describe(path, err);
  }
  if (replaced()) {
    db.close();
    throw new ChatError(`${path} was replaced while chatroom opened it; try again`);
  }
  // A new file's switch to WAL mode removes a journal file it finds: hold the path again.
  if (created) holdJournalPath(path);
  return new SqliteStore(path, db, options.now ?? Date.now, identity);
}

/** The device and inode of the file at `path`, read from a descriptor that never waits on a FIFO. */
function openedIdentity(path: string): string {
  let fd: number;
  try {
    fd = databaseDescriptor(path);
  } catch (err) {
    if (err instanceof ChatError) throw err;
    throw new ChatError(`Cannot open ${path}: ${(err as Error).message}`);
  }
  const stat = fstatSync(fd);
  return `${stat.dev}:${stat.ino}`;
}

function userVersion(db: DatabaseSync): number {
  return Number(db.prepare("PRAGMA user_version").get()?.user_version);
}

/** Refuses, before anything is written, a file that is not ours to change. */
function checkSchema(path: string, db: DatabaseSync): void {
  const version = userVersion(db);
  if (version > SCHEMA_VERSION) {
    throw new ChatError(
      `${path} was written by a newer chatroom (schema ${version}; this one knows up to ${SCHEMA_VERSION})`,
    );
  }
  if (version === 0) {
    const tables = Number(db.prepare("SELECT count(*) AS n FROM sqlite_schema").get()?.n);
    if (tables > 0) throw new ChatError(`${path} is an SQLite database but not a chatroom one`);
  }
  // Migrating runs statements on the tables: the file must hold what that version made, no more.
  if (version > 0 && schemaOf(db) !== expectedSchema(version)) throw foreignSchema(path);
}

function foreignSchema(path: string): ChatError {
  return new ChatError(
    `${path} holds tables, views or triggers chatroom did not make: someone changed it by hand, and chatroom will not use it`,
  );
}

/** Most schema objects compared: a file with more is not ours anyway. */
const MAX_SCHEMA_OBJECTS = 100;

/** Every object in a database's schema, in one string to compare. */
function schemaOf(db: DatabaseSync): string {
  return db.prepare(
    // ANALYZE's statistics tables only steer the query planner: an owner may make them.
    `SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_stat%' ESCAPE '\\'
     ORDER BY type, name LIMIT ?`,
  ).all(MAX_SCHEMA_OBJECTS).map((row) =>
    JSON.stringify([row.type, row.name, row.tbl_name, row.sql])
  ).join("\n");
}

const expected = new Map<number, string>();

/** The schema the migrations up to `version` make, read once from a database in memory. */
function expectedSchema(version = SCHEMA_VERSION): string {
  let schema = expected.get(version);
  if (schema === undefined) {
    const db = new DatabaseSync(":memory:");
    migrate(db, version);
    schema = schemaOf(db);
    db.close();
    expected.set(version, schema);
  }
  return schema;
}

function migrate(db: DatabaseSync, to = SCHEMA_VERSION): void {
  if (userVersion(db) >= to) return;
  db.exec("BEGIN IMMEDIATE");
  try {
    // Another terminal may have migrated while we waited for the lock.
    for (let version = userVersion(db); version < to; version++) {
      const migration = MIGRATIONS[version];
      if (typeof migration === "string") db.exec(migration);
      else migration(db);
      db.exec(`PRAGMA user_version = ${version + 1}`);
    }
    db.exec("COMMIT");
  } catch (err) {
    db.exec("ROLLBACK");
    throw err;
  }
}
