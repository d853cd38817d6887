// What a watching follower last reported, for both followers (the SQLite
// Worker and the PostgreSQL listener). Types only besides: the Worker loads it.
import type { Presence, Unread } from "./model.ts";
import type { FollowerHandlers } from "./store.ts";

/**
 * What a watching follower last reported of who is here and of the news, so
 * that it reports each again only when it changed (a look follows every
 * commit by anyone; most change neither).
 */
export class Reported {
  #presence = "";
  #unread = "";

  /** Forgets what was reported: the next look reports both (a new watch). */
  reset(): void {
    this.#presence = this.#unread = "";
  }

  /** Passes on `present` and `unread`, each only when it differs from its last. */
  report(
    present: Presence[],
    unread: Unread[],
    to: Required<Pick<FollowerHandlers, "onPresence" | "onUnread">>,
  ): void {
    const presence = JSON.stringify(present);
    if (presence !== this.#presence) {
      this.#presence = presence;
      to.onPresence(present);
    }
    const news = JSON.stringify(unread);
    if (news !== this.#unread) {
      this.#unread = news;
      to.onUnread(unread);
    }
  }
}
