/// <reference lib="deno.worker" />
// The watch worker: keeps its own connection to the database file, wakes when
// the file changes, and posts the followed room's new messages to the main
// thread. A slow poll backs up the file watcher.

import { basename, dirname, resolve } from "node:path";
import { ChatError } from "./errors.ts";
import type { FromWorker, ToWorker } from "./protocol.ts";
import { openStore, type Store } from "./store.ts";

/** Backstop poll, in case a file event is missed. */
const POLL_MS = 1000;
/** A file event can come just before the commit is visible: look again this much later. */
const RECHECK_MS = 20;
const BATCH = 500;

let store: Store | undefined;
let roomId: number | undefined;
let afterId = 0;
let recheck: ReturnType<typeof setTimeout> | undefined;

function post(message: FromWorker): void {
  self.postMessage(message);
}

function deliver(): number {
  if (!store || roomId === undefined) return 0;
  let delivered = 0;
  for (;;) {
    const messages = store.messagesAfter(roomId, afterId, BATCH);
    if (messages.length === 0) return delivered;
    afterId = messages[messages.length - 1].id;
    delivered += messages.length;
    post({ type: "messages", roomId, messages });
    if (messages.length < BATCH) return delivered;
  }
}

function check(): void {
  try {
    deliver();
  } catch (err) {
    post({ type: "error", message: err instanceof ChatError ? err.message : String(err) });
  }
}

function wake(): void {
  check();
  clearTimeout(recheck);
  recheck = setTimeout(check, RECHECK_MS);
}

async function watch(path: string): Promise<void> {
  const name = basename(path);
  // Watch the folder: SQLite deletes and re-creates the -wal file.
  const watcher = Deno.watchFs(dirname(path), { recursive: false });
  for await (const event of watcher) {
    if (event.paths.some((p) => basename(p).startsWith(name))) wake();
  }
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  switch (message.type) {
    case "open": {
      const path = resolve(message.path);
      try {
        store = openStore(path);
      } catch (err) {
        post({ type: "error", message: err instanceof ChatError ? err.message : String(err) });
        return;
      }
      setInterval(check, POLL_MS);
      watch(path).catch((err) => post({ type: "error", message: String(err) }));
      post({ type: "ready" });
      break;
    }
    case "follow":
      roomId = message.roomId;
      afterId = message.afterId;
      wake();
      break;
    case "unfollow":
      roomId = undefined;
      break;
    case "poll":
      wake();
      break;
  }
};
