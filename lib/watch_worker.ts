/// <reference lib="deno.worker" />
// The watch worker: keeps its own connection to the database file, wakes when a
// writer truncates the wake file beside it, and posts the followed room's new
// messages to the main thread. A poll every WATCHED_POLL_MS backs the watcher
// up, and one every POLL_MS is all there is while the wake file is missing or
// is something planted.

import { statSync } from "node:fs";
import { resolve } from "node:path";
import { ChatError } from "./errors.ts";
import type { FromWorker, ToWorker } from "./protocol.ts";
import { openSqliteStore, type SqliteStore } from "./sqlite_store.ts";
import { Reported } from "./reported.ts";
import { inspectWake, POLL_MS, wakePath, wakeProblem } from "./wake.ts";

const BATCH = 500;

let store: SqliteStore | undefined;
let roomId: number | undefined;
let afterId = 0;
let generation = 0;
let pending = false;
/** The wake file being watched, by device and inode. */
let watched: { id: string; watcher: Deno.FsWatcher } | undefined;
/** The database file's owner: only their wake file is watched. */
let owner: number | undefined;
/** The last problem told to the user, so each is told once. */
let told: string | undefined;
/** The account whose presence and news are reported, and what was last reported. */
let watching: number | undefined;
const reported = new Reported();
/** What the last look saw: a look reads who is here and the news only when these moved. */
let seen = { newest: -1, presence: -1, read: -1 };
/** When the last full look was: heartbeats time out without any write. */
let lookedAt = 0;
const FULL_LOOK_MS = 4000;
/** The backstop's period while the wake file is watched: events come first. */
const WATCHED_POLL_MS = 1000;

function post(message: FromWorker): void {
  self.postMessage(message);
}

function tell(message: string): void {
  if (message === told) return;
  told = message;
  post({ type: "error", message });
}

function describe(err: unknown): string {
  return err instanceof ChatError ? err.message : String(err);
}

/** Posts the followed room's messages after `afterId`, in batches. */
function check(): void {
  try {
    while (store && roomId !== undefined) {
      const messages = store.messagesAfter(roomId, afterId, BATCH);
      if (messages.length === 0 || messages[messages.length - 1].id <= afterId) return;
      afterId = messages[messages.length - 1].id;
      post({ type: "messages", roomId, generation, messages });
      if (messages.length < BATCH) return;
    }
  } catch (err) {
    failed = true;
    tell(describe(err));
  }
}

/** Set when a look failed: the next one reads again, whether or not the file changed since. */
let failed = false;

/**
 * Looks at the file when another connection committed since the last look,
 * or when `force`d: the followed room's new messages, and who is here and the
 * news when what they depend on moved (or a full look is due). All in one
 * read transaction: one lock, one snapshot.
 */
function look(force = false): void {
  const again = failed;
  failed = false;
  try {
    store?.snapshot(() => lookInside(force || again));
  } catch (err) {
    failed = true;
    tell(describe(err)); // the file went bad under us: its one line
  }
}

function lookInside(force: boolean): void {
  if (!store) return;
  try {
    if (!store.changed() && !force) return;
    check();
    if (watching === undefined) return;
    const now = store.stamps(watching);
    reported.due({
      presence: now.presence !== seen.presence,
      unread: now.read !== seen.read || store.newsOutside(roomId, seen.newest, now.newest),
    });
    seen = now;
    const due = reported.take();
    if (!due.presence && !due.unread) return;
    try {
      reported.report({
        present: due.presence ? store.present() : undefined,
        unread: due.unread ? store.unread(watching) : undefined,
      }, {
        onPresence: (present) => post({ type: "presence", present }),
        onUnread: (unread) => post({ type: "unread", unread }),
      });
    } catch (err) {
      reported.due(due); // read again at the next look
      throw err;
    }
  } catch (err) {
    failed = true;
    tell(describe(err));
  }
}

/** Coalesces a burst of file events into one look at the database. */
function wake(): void {
  if (pending) return;
  pending = true;
  queueMicrotask(() => {
    pending = false;
    look();
  });
}

/**
 * Watches the wake file when it is a plain file, and again when it has been
 * replaced; says once what is wrong when something else stands there.
 */
function watchWake(path: string, owner: number | undefined): void {
  let state = inspectWake(path);
  // Only the database owner's wake file is watched: whoever owns the file can rename a FIFO over
  // it, and Deno's watcher, opening the path of the event, would hang on it and the worker too.
  if (state.kind === "file" && owner !== undefined && state.uid !== owner) {
    state = {
      kind: "bad",
      problem: `a file of another account (uid ${state.uid}), not the database owner's`,
    };
  }
  if (state.kind === "bad") tell(wakeProblem(path, state.problem));
  if (state.kind === "file" && state.id === watched?.id) return;
  watched?.watcher.close();
  watched = undefined; // polled often until a plain file is watched again
  if (state.kind !== "file") return;
  try {
    const watcher = Deno.watchFs(path, { recursive: false });
    watched = { id: state.id, watcher };
    const mine = watched;
    (async () => {
      for await (const _event of watcher) wake();
    })().catch(() => {}).finally(() => {
      if (watched === mine) watched = undefined; // the watcher died: poll often, watch again
    });
  } catch {
    watched = undefined; // gone again meanwhile: the next tick tries again
  }
}

/** One tick: is the file still the one we opened, is the wake file usable, anything new? */
function tick(path: string): void {
  try {
    store?.checkFile();
  } catch (err) {
    tell((err as Error).message);
    return;
  }
  watchWake(wakePath(path), owner);
  if (Date.now() - lookedAt < FULL_LOOK_MS) return look();
  // Time for timeouts to show. The news needs no such look: all it depends on moves the stamps,
  // and counting it is the costly read (a member can plant rooms full of it).
  lookedAt = Date.now();
  reported.due({ presence: true });
  look(true);
}

/** Ticks for as long as the worker runs: often while no wake file is watched. */
function ticking(path: string): void {
  tick(path);
  setTimeout(() => ticking(path), watched ? WATCHED_POLL_MS : POLL_MS);
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  switch (message.type) {
    case "open": {
      const path = resolve(message.path);
      try {
        // The chat view's look at the file: none of this thread's, whose descriptors close with it.
        store = openSqliteStore(path, { create: false, identity: message.identity });
        owner = statSync(path).uid;
      } catch (err) {
        tell(err instanceof ChatError ? err.message : String(err));
        return;
      }
      watchWake(wakePath(path), owner);
      setTimeout(() => ticking(path), POLL_MS);
      post({ type: "ready" });
      break;
    }
    case "follow":
      roomId = message.roomId;
      afterId = message.afterId;
      generation = message.generation;
      reported.due({ unread: true }); // the room left is news again, the one entered no more
      look(true);
      break;
    case "unfollow":
      roomId = undefined;
      break;
    case "poll":
      wake();
      break;
    case "watch":
      watching = message.userId;
      reported.reset();
      look(true);
      break;
  }
};
