import type { Message, Presence, Unread } from "./model.ts";

/** What the main thread tells the watch worker. */
export type ToWorker =
  /** Open the database file; sent once, first. */
  | { type: "open"; path: string; identity?: string }
  /**
   * Deliver messages of `roomId` with ids above `afterId`, now and as they
   * arrive, tagged with `generation` (which grows with every follow).
   */
  | { type: "follow"; roomId: number; afterId: number; generation: number }
  /** Stop delivering until the next `follow`. */
  | { type: "unfollow" }
  /** Look for new messages now (the main thread just wrote one). */
  | { type: "poll" }
  /** Report who is here and, for `userId`, the rooms with news (none: stop reporting). */
  | { type: "watch"; userId: number | undefined };

/** What the watch worker posts back. */
export type FromWorker =
  /** The database is open and the worker is listening. Sent once, after `open`. */
  | { type: "ready" }
  /**
   * New messages of `roomId`, in id order, each posted once per follow. A batch
   * can still be on its way when the main thread re-targets the worker: the
   * `generation` of the follow it answers tells stale batches apart.
   */
  | { type: "messages"; roomId: number; generation: number; messages: Message[] }
  /** Who is logged in, sent when it changed since the last report (and first after `watch`). */
  | { type: "presence"; present: Presence[] }
  /** The watched account's rooms with news, sent when they changed (and first after `watch`). */
  | { type: "unread"; unread: Unread[] }
  /** The worker could not read the database; `message` is one line for the user. */
  | { type: "error"; message: string };
