// A floor of chatroom's shape with its database: a Worker that watches the
// wake file and reads the room's new messages with node:sqlite (one prepared
// statement), posting them as chatroom's Worker does, and a main thread that
// writes each text as a line (no rendering, no presence, no news). Both load
// Node's layer, as chatroom's threads do (the terminal through node:process,
// the wake file looked at through node:fs). Usage: sqlite_receiver.ts DB
// ROOM_ID. Says "sqlite ready" when it is following.
import process from "node:process";

const [db, room] = Deno.args;
if (process.stdin.isTTY) process.stdin.setRawMode(true);
const worker = new Worker(new URL("./sqlite_watch_worker.ts", import.meta.url), {
  type: "module",
});
const encoder = new TextEncoder();
worker.onmessage = (event: MessageEvent<"ready" | { text: string }[]>) => {
  const lines = event.data === "ready"
    ? "sqlite ready\r\n"
    : event.data.map((message) => `${message.text}\r\n`).join("");
  const bytes = encoder.encode(lines);
  for (let done = 0; done < bytes.length;) done += Deno.stdout.writeSync(bytes.subarray(done));
};
worker.postMessage({ db, room: Number(room) });
