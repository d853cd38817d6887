// Shared test fixtures: temporary database files and quick accounts.
import assert from "node:assert/strict";
import { register } from "../lib/accounts.ts";
import { type ChatEffect, type ChatEvent, type ChatState, update } from "../lib/chat_model.ts";
import { ChatError } from "../lib/errors.ts";
import type { Message, User } from "../lib/model.ts";
import { openSqliteStore as openStore, type SqliteStore as Store } from "../lib/sqlite_store.ts";

/** Cheap scrypt parameters for tests that need accounts but do not test hashing. */
export const FAST_SCRYPT = { N: 2 ** 10, r: 8, p: 1 };

/** A fresh directory, removed when the returned object is disposed. */
export function tempDir(): { path: string; [Symbol.dispose](): void } {
  const path = Deno.makeTempDirSync({ prefix: "chatroom-test-" });
  return { path, [Symbol.dispose]: () => Deno.removeSync(path, { recursive: true }) };
}

/** Rates high enough for tests that send or create faster than people do. */
export const NO_LIMIT = { burst: 1e9, perSecond: 1e9 };

/**
 * A store on a new file in `dir`, with a clock the test controls. Its rate
 * limits are lifted unless `limited`: with a stopped clock, nothing refills.
 */
export function tempStore(
  dir: string,
  now = () => Date.UTC(2026, 10, 25, 12),
  { limited = false } = {},
): Store {
  const store = openStore(`${dir}/chat.db`, { now });
  if (!limited) {
    store.setRate("message", NO_LIMIT);
    store.setRate("room", NO_LIMIT);
  }
  return store;
}

/** Lifts the rate limits of the database at `path`, for tests that send hundreds of lines. */
export function liftLimits(path: string): void {
  const store = openStore(path, { create: false });
  store.setRate("message", NO_LIMIT);
  store.setRate("room", NO_LIMIT);
  store.close();
}

/** Registers `name` with password `${name}-password` and cheap hashing. */
export function quickUser(store: Store, name: string): Promise<User> {
  return register(store, name, `${name}-password`, FAST_SCRYPT);
}

/** Asserts that `fn` throws a ChatError whose message contains `text`. */
export function assertChatError(fn: () => unknown, text: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ChatError, `expected a ChatError, got ${err}`);
    assert.ok(err.message.includes(text), `"${err.message}" does not contain "${text}"`);
    return true;
  });
}

/** Asserts that `promise` rejects with a ChatError whose message contains `text`. */
export async function assertRejectsChatError(promise: Promise<unknown>, text: string) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ChatError, `expected a ChatError, got ${err}`);
    assert.ok(err.message.includes(text), `"${err.message}" does not contain "${text}"`);
    return true;
  });
}

/** Collects what the follower delivers and lets a test wait for a condition. */
export function collector() {
  const batches: { roomId: number; messages: Message[] }[] = [];
  const errors: string[] = [];
  let wake = () => {};
  return {
    batches,
    errors,
    texts: () => batches.flatMap((b) => b.messages.map((m) => m.text)),
    handlers: {
      onMessages(roomId: number, messages: Message[]) {
        batches.push({ roomId, messages });
        wake();
      },
      onError(message: string) {
        errors.push(message);
        wake();
      },
    },
    async until(done: () => boolean, what: string, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 100);
        });
      }
    },
  };
}

/**
 * A journal SQLite takes for hot (to be played back) that names `victim` as its
 * super-journal: the file SQLite deletes once it has played the journal back.
 */
export function hotJournal(victim: string, pageSize = 4096): Uint8Array {
  const name = new TextEncoder().encode(victim);
  const head = new Uint8Array(512);
  head[0] = 1; // not zero: SQLite reads the journal
  const tail = new Uint8Array(4 + name.length + 16);
  const view = new DataView(tail.buffer);
  view.setUint32(0, Math.floor(0x40000000 / pageSize) + 1); // the lock page, as SQLite writes
  tail.set(name, 4);
  view.setUint32(4 + name.length, name.length);
  view.setUint32(8 + name.length, name.reduce((sum, byte) => sum + byte, 0));
  tail.set([0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7], 12 + name.length);
  const journal = new Uint8Array(head.length + tail.length);
  journal.set(head);
  journal.set(tail, head.length);
  return journal;
}

/** The POSIX locks a process holds on a file, from /proc/locks. */
export function locksHeld(pid: number, file: string): number {
  let inode;
  try {
    inode = Deno.statSync(file).ino;
  } catch {
    return 0; // gone: another process took itself for the last one and removed it
  }
  return Deno.readTextFileSync("/proc/locks").split("\n")
    .filter((line) => {
      const fields = line.trim().split(/\s+/);
      return fields[4] === String(pid) && fields[5]?.endsWith(`:${inode}`);
    }).length;
}

/** Runs `events` from `state` through the chat model, collecting every effect. */
export function run(state: ChatState, ...events: ChatEvent[]): [ChatState, ChatEffect[]] {
  const all: ChatEffect[] = [];
  for (const event of events) {
    let effects;
    [state, effects] = update(state, event);
    all.push(...effects);
  }
  return [state, all];
}
