// A benchmark receiver: follows a room through the backend's follower, the
// chat view's own path, and stamps each message as it reaches the main thread.
// Usage: receiver.ts DB ROOM_ID AFTER_ID [--baseline | --presence NAME]; on
// PostgreSQL it logs in as CHATROOM_USER with CHATROOM_PASSWORD.
// Prints "ready" once following; on stdin EOF prints [[id, receivedAtMs], ...].
// With --presence it stamps instead each time NAME arrives in or leaves the
// room, as the chat view's presence report shows it: [[change, atMs], ...].
import { openSqliteStore as openStore } from "../lib/sqlite_store.ts";
import { isPostgresUrl, openBackend } from "../lib/store.ts";

const [db, roomArg, afterArg, mode, watched] = Deno.args;
const roomId = Number(roomArg);
const received: [number, number][] = [];
const stamp = () => performance.timeOrigin + performance.now();
let stop = async () => {};

if (mode === "--baseline") {
  // The original program's way: every second, re-read the whole room and diff.
  const store = openStore(db);
  const seen = new Set<number>();
  for (const message of store.messagesAfter(roomId, 0, Number.MAX_SAFE_INTEGER)) {
    seen.add(message.id);
  }
  const timer = setInterval(() => {
    const all = store.messagesAfter(roomId, 0, Number.MAX_SAFE_INTEGER);
    const at = stamp();
    for (const message of all) {
      if (!seen.has(message.id)) {
        seen.add(message.id);
        received.push([message.id, at]);
      }
    }
  }, 1000);
  stop = () => {
    clearInterval(timer);
    store.close();
    return Promise.resolve();
  };
} else {
  const backend = await openBackend(db, { create: false });
  const session = isPostgresUrl(db)
    ? await backend.logIn(Deno.env.get("CHATROOM_USER")!, Deno.env.get("CHATROOM_PASSWORD")!)
    : undefined;
  const store = session?.store ?? await backend.reader();
  let here = false;
  let changes = 0;
  const follower = backend.follower(store, {
    onMessages: (_room, messages) => {
      const at = stamp();
      for (const message of messages) received.push([message.id, at]);
    },
    onError: (message) => console.error(message),
    onPresence: (present) => {
      const now = present.some((p) => p.userName === watched && p.roomId === roomId);
      if (now !== here) received.push([changes++, stamp()]);
      here = now;
    },
  });
  await follower.ready;
  follower.follow(roomId, Number(afterArg));
  if (mode === "--presence") follower.watch(session?.user.id ?? -1);
  stop = async () => {
    follower.close();
    if (session) await backend.logOut(session);
    await backend.close();
  };
}

console.log("ready");
for await (const _ of Deno.stdin.readable) {
  // wait for EOF
}
await stop();
console.log(JSON.stringify(received));
