// The wake file: how a writer tells followers in other processes that a message
// was committed. Anyone who can write the shared folder can put anything at its
// path, so it is only ever opened without following links and without blocking,
// and used only when the open descriptor is a plain file with one name.
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  ftruncateSync,
  lstatSync,
  openSync,
  type Stats,
  statSync,
} from "node:fs";

/** Polls this often when no wake event can be had, and as a backstop when one can. */
export const POLL_MS = 250;

/**
 * The file writers truncate after each commit, beside the database. Followers
 * watch this one file, never a folder: Deno's watcher opens the path of every
 * event it reports, so in a folder others can write, a FIFO planted there would
 * stall it. A file's events carry only its own path.
 *
 * @example
 * ```ts
 * import { wakePath } from "./wake.ts";
 * wakePath("chatroom.db"); // "chatroom.db-ping"
 * ```
 */
export function wakePath(db: string): string {
  return `${db}-ping`;
}

/** What stands at the wake path, seen without following a link. */
export type WakeState =
  | { kind: "file"; id: string; uid: number }
  | { kind: "missing" }
  | { kind: "bad"; problem: string };

/**
 * What `stat` (from lstat or fstat) is when it is not a plain file with exactly
 * one name (a second name would be a hard link to a file elsewhere), or
 * undefined when it is one.
 *
 * @example
 * ```ts
 * import { lstatSync } from "node:fs";
 * import { notPlainFile } from "./wake.ts";
 * notPlainFile(lstatSync("/tmp")); // "a folder"
 * ```
 */
export function notPlainFile(stat: Stats): string | undefined {
  if (stat.isSymbolicLink()) return "a symbolic link";
  if (stat.isFIFO()) return "a FIFO";
  if (stat.isDirectory()) return "a folder";
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return "a device";
  if (stat.isSocket()) return "a socket";
  if (!stat.isFile()) return "not a plain file";
  if (stat.nlink !== 1) return `a file with ${stat.nlink} names (a hard link)`;
  return undefined;
}

function identity(stat: Stats): string {
  return `${stat.dev}:${stat.ino}`;
}

/**
 * Looks at the wake path without following links or opening it.
 *
 * @example
 * ```ts
 * import { inspectWake } from "./wake.ts";
 * inspectWake("chatroom.db-ping"); // { kind: "missing" } before the first message
 * ```
 */
export function inspectWake(path: string): WakeState {
  let stat: Stats;
  try {
    stat = lstatSync(path);
  } catch {
    return { kind: "missing" };
  }
  const problem = notPlainFile(stat);
  return problem ? { kind: "bad", problem } : { kind: "file", id: identity(stat), uid: stat.uid };
}

/** One line for the user about a wake path that cannot be used. */
export function wakeProblem(path: string, problem: string): string {
  return `${path} is ${problem}, not chatroom's wake file; new messages are checked for every ${POLL_MS} ms instead (remove it to restore instant delivery)`;
}

const NO_FOLLOW = constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * The writer's side: truncates the wake file after each commit, which is one
 * event for each follower. The descriptor is kept between messages (a close
 * would be a second event) and opened again when the path names another file.
 */
export class WakeSignal {
  readonly #db: string;
  readonly #path: string;
  #fd: number | undefined;
  #id: string | undefined;

  constructor(db: string) {
    this.#db = db;
    this.#path = wakePath(db);
  }

  /** Wakes followers; never throws: followers find the message by polling anyway. */
  ping(): void {
    try {
      const state = inspectWake(this.#path);
      if (state.kind === "bad") return this.close(); // followers report it
      if (state.kind === "missing" || state.id !== this.#id) this.#open();
      if (this.#fd !== undefined) ftruncateSync(this.#fd, 0);
    } catch {
      this.close();
    }
  }

  #open(): void {
    this.close();
    // Readable and writable for whoever may write the database, and no one else.
    const mode = statSync(this.#db).mode & 0o666;
    let fd: number;
    try {
      fd = openSync(this.#path, constants.O_WRONLY | NO_FOLLOW);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") return;
      fd = openSync(
        this.#path,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NO_FOLLOW,
        mode,
      );
    }
    const stat = fstatSync(fd);
    if (notPlainFile(stat)) {
      closeSync(fd);
      return;
    }
    if ((stat.mode & 0o777) !== mode) {
      try {
        fchmodSync(fd, mode); // follows the database's sharing; only its owner may
      } catch {
        // Another account's file: its owner brings it in line when they run chatroom.
      }
    }
    this.#fd = fd;
    this.#id = identity(stat);
  }

  /** Closes the descriptor. */
  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    this.#id = undefined;
  }
}
