import type { DatabaseSync } from "node:sqlite";
import { nameKey, nameSkeleton } from "./names.ts";

/**
 * Schema migrations, applied in order inside one transaction. Migration `i`
 * moves the database from `PRAGMA user_version = i` to `i + 1`; never edit one
 * that has shipped.
 */
export const MIGRATIONS: readonly (string | ((db: DatabaseSync) => void))[] = [
  `
  CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE rooms (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    created_by INTEGER NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL
  );
  CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    room_id INTEGER NOT NULL REFERENCES rooms (id),
    user_id INTEGER NOT NULL REFERENCES users (id),
    text TEXT NOT NULL,
    sent_at INTEGER NOT NULL
  );
  CREATE INDEX messages_by_room ON messages (room_id, id);
  `,
  // Wrong passwords in a row, and the time before which the next try is refused.
  `
  ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE users ADD COLUMN locked_until INTEGER NOT NULL DEFAULT 0;
  `,
  // Names that look alike, wrong passwords per Unix account, and rate limits.
  (db) => {
    db.exec(`
      ALTER TABLE users ADD COLUMN skeleton TEXT;
      ALTER TABLE rooms ADD COLUMN skeleton TEXT;
      ALTER TABLE users DROP COLUMN failed_logins;
      ALTER TABLE users DROP COLUMN locked_until;
      CREATE TABLE login_failures (
        user_id INTEGER NOT NULL REFERENCES users (id),
        uid INTEGER NOT NULL,
        failures INTEGER NOT NULL,
        locked_until INTEGER NOT NULL,
        PRIMARY KEY (user_id, uid)
      ) WITHOUT ROWID;
      CREATE TABLE allowances (
        user_id INTEGER NOT NULL REFERENCES users (id),
        kind TEXT NOT NULL,
        tokens REAL NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, kind)
      ) WITHOUT ROWID;
      CREATE TABLE settings (name TEXT PRIMARY KEY, value REAL NOT NULL) WITHOUT ROWID;
    `);
    fillSkeletons(db);
    db.exec("CREATE INDEX users_by_skeleton ON users (skeleton)");
    db.exec("CREATE INDEX rooms_by_skeleton ON rooms (skeleton)");
  },
  // Skeletons ignore case the way capitals look too ("МАХ" is "MAX"), and keys map
  // fullwidth forms ("ａｌｉｃｅ" is found as "alice").
  (db) => {
    fillSkeletons(db);
    rekey(db);
  },
  // /me and /topic lines, topics, direct conversations (a room of two: dm_a < dm_b), who is
  // here (a heartbeat per client), read markers, mentions, the bell, and full-text search
  // (contentless: the text stays in messages; chatroom writes each message's words).
  `
  ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'text';
  ALTER TABLE rooms ADD COLUMN topic TEXT;
  ALTER TABLE rooms ADD COLUMN dm_a INTEGER REFERENCES users (id);
  ALTER TABLE rooms ADD COLUMN dm_b INTEGER REFERENCES users (id);
  CREATE TABLE presence (
    client TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    room_id INTEGER REFERENCES rooms (id),
    seen_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE read_markers (
    user_id INTEGER NOT NULL REFERENCES users (id),
    room_id INTEGER NOT NULL REFERENCES rooms (id),
    last_read INTEGER NOT NULL,
    PRIMARY KEY (user_id, room_id)
  ) WITHOUT ROWID;
  CREATE TABLE mentions (
    user_id INTEGER NOT NULL REFERENCES users (id),
    room_id INTEGER NOT NULL REFERENCES rooms (id),
    message_id INTEGER NOT NULL REFERENCES messages (id),
    PRIMARY KEY (user_id, room_id, message_id)
  ) WITHOUT ROWID;
  CREATE TABLE preferences (
    user_id INTEGER PRIMARY KEY REFERENCES users (id),
    bell INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX rooms_by_dm ON rooms (dm_a, dm_b) WHERE dm_a IS NOT NULL;
  CREATE VIRTUAL TABLE messages_fts USING fts5 (
    text, content = '', tokenize = 'unicode61 remove_diacritics 2'
  );
  INSERT INTO messages_fts (rowid, text)
    SELECT id, substr(text, 1, 4000) FROM messages WHERE id BETWEEN 1 AND 9007199254740991;
  `,
  // A conversation's second member finds it by an index too (the news reads it every look).
  `CREATE INDEX rooms_by_dm_b ON rooms (dm_b) WHERE dm_b IS NOT NULL;`,
  // Counts arrivals, moves and departures: followers read who is here only when it moved.
  `
  CREATE TABLE stamps (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
  INSERT INTO stamps VALUES ('presence', 0);
  `,
];

/**
 * Gives names their key as names.ts computes it now. A name whose new key
 * another name already has keeps its old one: both stay reachable as before.
 */
function rekey(db: DatabaseSync): void {
  for (const table of ["users", "rooms"]) {
    const taken = db.prepare(`SELECT 1 FROM ${table} WHERE name_key = ?`);
    const update = db.prepare(`UPDATE ${table} SET name_key = ? WHERE id = ?`);
    const rows = db.prepare(`SELECT id, substr(name, 1, 64) AS name, name_key FROM ${table}`);
    for (const row of rows.iterate()) {
      const key = nameKey(String(row.name));
      if (key !== row.name_key && !taken.get(key)) update.run(key, Number(row.id));
    }
  }
}

/** Gives every user and room name its skeleton, as names.ts computes it now. */
function fillSkeletons(db: DatabaseSync): void {
  for (const table of ["users", "rooms"]) {
    const update = db.prepare(`UPDATE ${table} SET skeleton = ? WHERE id = ?`);
    for (
      const row of db.prepare(`SELECT id, substr(name, 1, 64) AS name FROM ${table}`).iterate()
    ) {
      update.run(nameSkeleton(String(row.name)), Number(row.id));
    }
  }
}

/** The schema version this program writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;
