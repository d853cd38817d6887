/// <reference lib="deno.worker" />
// sqlite_receiver.ts's Worker: for each burst of events on the wake file, the
// room's messages after the last one posted, in one read.
import { lstatSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";

self.onmessage = (event: MessageEvent<{ db: string; room: number }>) => {
  const { db: path, room } = event.data;
  const db = new DatabaseSync(path, { readOnly: true });
  const after = db.prepare(
    `SELECT m.id, m.user_id, u.name, m.text, m.sent_at FROM messages m JOIN users u ON u.id = m.user_id
     WHERE m.room_id = ? AND m.id > ? ORDER BY m.id LIMIT 500`,
  );
  let last = Number(db.prepare("SELECT max(id) AS id FROM messages").get()?.id ?? 0);
  if (!lstatSync(`${path}-ping`).isFile()) throw new Error("the wake file is not a file");
  const watcher = Deno.watchFs(`${path}-ping`, { recursive: false });
  let pending = false;
  self.postMessage("ready");
  (async () => {
    for await (const _event of watcher) {
      if (pending) continue;
      pending = true;
      queueMicrotask(() => {
        pending = false;
        const rows = after.all(room, last);
        if (rows.length === 0) return;
        last = Number(rows[rows.length - 1].id);
        self.postMessage(rows);
      });
    }
  })();
};
