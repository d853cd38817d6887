// What a watching follower last reported, for both followers (the SQLite
// Worker and the PostgreSQL listener). Types only besides: the Worker loads it.
import type { Presence, Unread } from "./model.ts";
import type { FollowerHandlers } from "./store.ts";

/** Which of who is here and the news a look reads: what a commit may have changed. */
export interface LookFor {
  presence: boolean;
  unread: boolean;
}

/**
 * What a watching follower last reported of who is here and of the news, so
 * that it reports each again only when it changed, and what the next look
 * should read. A message in the followed room changes neither (it is shown as
 * it is); one in another room may be news; an arrival, a move or a departure
 * changes who is here; and time alone (a heartbeat timing out; on PostgreSQL
 * also the account's other terminal reading a room) is caught by a look every
 * so often.
 */
export class Reported {
  #presence = "";
  #unread = "";
  #due: LookFor = { presence: true, unread: true };

  /** Forgets what was reported: the next look reads and reports both (a new watch). */
  reset(): void {
    this.#presence = this.#unread = "";
    this.#due = { presence: true, unread: true };
  }

  /** Marks what the next look must read. */
  due(what: Partial<LookFor>): void {
    this.#due = {
      presence: this.#due.presence || Boolean(what.presence),
      unread: this.#due.unread || Boolean(what.unread),
    };
  }

  /** What the next look must read, taken: it is due no more. */
  take(): LookFor {
    const due = this.#due;
    this.#due = { presence: false, unread: false };
    return due;
  }

  /** Passes on `present` and `unread` (each when read), each only when it differs from its last. */
  report(
    { present, unread }: { present?: Presence[]; unread?: Unread[] },
    to: Required<Pick<FollowerHandlers, "onPresence" | "onUnread">>,
  ): void {
    if (present) {
      const presence = JSON.stringify(present);
      if (presence !== this.#presence) {
        this.#presence = presence;
        to.onPresence(present);
      }
    }
    if (unread) {
      const news = JSON.stringify(unread);
      if (news !== this.#unread) {
        this.#unread = news;
        to.onUnread(unread);
      }
    }
  }
}
