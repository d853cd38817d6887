import type { FromWorker, ToWorker } from "./protocol.ts";
import type { Follower, FollowerHandlers } from "./store.ts";

/** How many errors are kept for handlers that are not set yet. */
const MAX_UNHEARD = 5;

/**
 * The main thread's side of the watch worker: starts it, tells it which room
 * to follow, and hands each batch of new messages to `onMessages`.
 *
 * @example
 * ```ts
 * const follower = new WorkerFollower("chatroom.db", {
 *   onMessages: (roomId, messages) => console.log(roomId, messages.length),
 *   onError: (message) => console.error(message),
 * });
 * follower.follow(room.id, lastShownId);
 * ```
 */
export class WorkerFollower implements Follower {
  readonly #worker: Worker;
  /** Which follow deliveries must answer; bumped by follow() and unfollow(). */
  #generation = 0;
  #handlers: FollowerHandlers | undefined;
  /** Errors that came while nobody listened (the worker reports a planted wake file at start). */
  #unheard: string[] = [];
  /**
   * Settles once the worker has started (or failed to). Under `deno run`, Deno
   * clears the terminal's current line on stderr while it loads the worker's
   * modules, so nothing should be drawn between construction and this.
   */
  readonly ready: Promise<void>;

  /** `identity`: the device and inode the main thread's store opened (see StoreOptions). */
  constructor(path: string, handlers?: FollowerHandlers, identity?: string) {
    this.#handlers = handlers;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.ready = promise;
    this.#worker = new Worker(new URL("./watch_worker.ts", import.meta.url), { type: "module" });
    this.#worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const data = event.data;
      if (data.type === "ready") resolve();
      else if (data.type === "presence") this.#handlers?.onPresence?.(data.present);
      else if (data.type === "unread") this.#handlers?.onUnread?.(data.unread);
      else if (data.type === "messages") {
        // Drop batches that answer an earlier follow (or come after unfollow).
        if (data.generation === this.#generation) {
          this.#handlers?.onMessages(data.roomId, data.messages);
        }
      } else {
        resolve();
        this.#error(data.message);
      }
    };
    this.#worker.onerror = (event) => {
      event.preventDefault();
      resolve();
      this.#error(`Live updates stopped: ${event.message}`);
    };
    this.#send({ type: "open", path, identity });
  }

  /** Where deliveries go; the chat view points these at itself while it is open. */
  get handlers(): FollowerHandlers | undefined {
    return this.#handlers;
  }

  /** Errors that arrived while no handlers were set are passed on now. */
  set handlers(handlers: FollowerHandlers | undefined) {
    this.#handlers = handlers;
    if (!handlers) return;
    for (const message of this.#unheard.splice(0)) handlers.onError(message);
  }

  #error(message: string): void {
    if (this.#handlers) this.#handlers.onError(message);
    else if (this.#unheard.length < MAX_UNHEARD) this.#unheard.push(message);
  }

  #send(message: ToWorker): void {
    this.#worker.postMessage(message);
  }

  /**
   * Follows `roomId` from just after message `afterId`. From this call on,
   * only batches for this follow reach `onMessages`.
   */
  follow(roomId: number, afterId: number): void {
    this.#send({ type: "follow", roomId, afterId, generation: ++this.#generation });
  }

  /** Stops following any room; nothing more reaches `onMessages` until the next follow. */
  unfollow(): void {
    this.#generation++;
    this.#send({ type: "unfollow" });
  }

  /** Reports who is here and `userId`'s rooms with news, as they change; undefined stops it. */
  watch(userId: number | undefined): void {
    this.#send({ type: "watch", userId });
  }

  /** Asks for an immediate look, e.g. right after this terminal sent a message. */
  poll(): void {
    this.#send({ type: "poll" });
  }

  /** Stops the worker. */
  close(): void {
    this.#worker.terminate();
  }
}
