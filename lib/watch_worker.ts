/// <reference lib="deno.worker" />
// The watch worker: keeps its own connection to the database file, wakes when
// a writer pings the wake folder beside it, and posts the followed room's new
// messages to the main thread. A slow poll backs up the watcher, for writers
// that do not ping.

import { resolve } from "node:path";
import { ChatError } from "./errors.ts";
import type { FromWorker, ToWorker } from "./protocol.ts";
import { makeWakeFolder, openStore, type Store, wakePath } from "./store.ts";

/** Backstop poll, for writers that do not ping and for missed events. */
const POLL_MS = 1000;
const BATCH = 500;

let store: Store | undefined;
let roomId: number | undefined;
let afterId = 0;
let generation = 0;
let pending = false;

function post(message: FromWorker): void {
  self.postMessage(message);
}

function postError(err: unknown): void {
  post({ type: "error", message: err instanceof ChatError ? err.message : String(err) });
}

/** Posts the followed room's messages after `afterId`, in batches. */
function check(): void {
  try {
    while (store && roomId !== undefined) {
      const messages = store.messagesAfter(roomId, afterId, BATCH);
      if (messages.length === 0) return;
      afterId = messages[messages.length - 1].id;
      post({ type: "messages", roomId, generation, messages });
      if (messages.length < BATCH) return;
    }
  } catch (err) {
    postError(err);
  }
}

/** Coalesces a burst of file events into one look at the database. */
function wake(): void {
  if (pending) return;
  pending = true;
  queueMicrotask(() => {
    pending = false;
    check();
  });
}

async function watch(path: string): Promise<void> {
  // Never watch the database, -wal or -shm: see wakePath().
  makeWakeFolder(path); // it must exist to be watched
  for await (const _event of Deno.watchFs(wakePath(path), { recursive: false })) wake();
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  switch (message.type) {
    case "open": {
      const path = resolve(message.path);
      try {
        store = openStore(path);
      } catch (err) {
        postError(err);
        return;
      }
      setInterval(check, POLL_MS);
      watch(path).catch(postError);
      post({ type: "ready" });
      break;
    }
    case "follow":
      roomId = message.roomId;
      afterId = message.afterId;
      generation = message.generation;
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
