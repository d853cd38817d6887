// The SQLite backend: one file every account shares; chatroom checks passwords
// against the hashes in it and counts wrong ones per Unix account.
import { logIn, register } from "./accounts.ts";
import { WorkerFollower } from "./follower.ts";
import type { User } from "./model.ts";
import { openSqliteStore, type SqliteStore } from "./sqlite_store.ts";
import type { Backend, FollowerHandlers, Session, Store } from "./store.ts";

/** A SQLite file as a {@linkcode Backend}: every session shares its one connection. */
export class SqliteBackend implements Backend {
  readonly store: SqliteStore;

  /** Opens the file (creating it when `create` allows) and brings its schema up to date. */
  constructor(path: string, options: { create: boolean }) {
    this.store = openSqliteStore(path, { create: options.create });
  }

  get label(): string {
    return this.store.path;
  }

  // async, so that a refusal is a rejected promise, as from a server.
  // deno-lint-ignore require-await
  async checkNewUserName(name: string): Promise<string> {
    return this.store.checkNewUserName(name);
  }

  register(name: string, password: string): Promise<User> {
    return register(this.store, name, password);
  }

  // deno-lint-ignore require-await
  async accountName(name: string): Promise<string | undefined> {
    return this.store.findUser(name)?.name;
  }

  async logIn(name: string, password: string): Promise<Session> {
    return { user: await logIn(this.store, name, password), store: this.store };
  }

  logOut(_session: Session): Promise<void> {
    return Promise.resolve(); // the connection is everyone's
  }

  reader(): Promise<Store> {
    return Promise.resolve(this.store);
  }

  follower(store: Store, handlers?: FollowerHandlers): WorkerFollower {
    return new WorkerFollower(store.path, handlers, (store as SqliteStore).identity);
  }

  close(): Promise<void> {
    this.store.close();
    return Promise.resolve();
  }
}
