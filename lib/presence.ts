// Who is here: each logged-in terminal says where it is (a room, or the menus)
// when it moves and again every HEARTBEAT_MS; one that stops saying so is gone
// after PRESENCE_TIMEOUT_MS, for everyone, without anyone writing it off.
import { ChatError } from "./errors.ts";
import { HEARTBEAT_MS } from "./model.ts";
import type { Store } from "./store.ts";

/**
 * One terminal's heartbeat, from log-in to log-out. A heartbeat that fails
 * (a locked file, a dropped connection) is tried again at the next beat: it
 * never stops the chat.
 *
 * @example
 * ```ts
 * const heartbeat = new Heartbeat(store, user.id);
 * await heartbeat.in(room.id);
 * await heartbeat.stop();
 * ```
 */
export class Heartbeat {
  readonly #store: Store;
  readonly #userId: number;
  /** This terminal, among the account's others. */
  readonly #client = crypto.randomUUID();
  #roomId: number | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** The beats, one after another: a late one never lands after a newer one or the goodbye. */
  #last: Promise<void> = Promise.resolve();

  constructor(store: Store, userId: number) {
    this.#store = store;
    this.#userId = userId;
  }

  /** Says this terminal is now in `roomId` (null: the menus), and keeps saying so. */
  async in(roomId: number | null): Promise<void> {
    this.#roomId = roomId;
    this.#timer ??= setInterval(() => void this.#beat(), HEARTBEAT_MS);
    await this.#beat();
  }

  #beat(): Promise<void> {
    const roomId = this.#roomId;
    this.#last = this.#last.then(() => this.#store.announce(this.#client, this.#userId, roomId))
      .catch(() => {}); // a locked file, a dropped connection: the next beat tries again
    return this.#last;
  }

  /** Says this terminal is gone; at log-out and quit. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#last;
    try {
      await this.#store.depart(this.#client);
    } catch (err) {
      if (!(err instanceof ChatError)) throw err;
    }
  }
}
