import type { Message } from "./store.ts";

/** What the main thread tells the watch worker. */
export type ToWorker =
  /** Open the database file; sent once, first. */
  | { type: "open"; path: string }
  /** Deliver messages of `roomId` with ids above `afterId`, now and as they arrive. */
  | { type: "follow"; roomId: number; afterId: number }
  /** Stop delivering; nothing more is posted until the next `follow`. */
  | { type: "unfollow" }
  /** Look for new messages now (the main thread just wrote one). */
  | { type: "poll" };

/** What the watch worker posts back. */
export type FromWorker =
  /** The database is open and the worker is listening. Sent once, after `open`. */
  | { type: "ready" }
  /** New messages of `roomId`, in id order, each posted once. */
  | { type: "messages"; roomId: number; messages: Message[] }
  /** The worker could not read the database; `message` is one line for the user. */
  | { type: "error"; message: string };
