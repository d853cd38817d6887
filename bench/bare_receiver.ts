// A floor for a receiving client: the shape of chatroom's (a Worker watching
// the wake file, a main thread writing to the terminal) with nothing else: no
// SQLite, no rendering. Usage: bare_receiver.ts DB FIRST: for each wake it
// writes the next marker, mFIRSTq, m(FIRST+1)q, ..., one line each.
const [db, first] = Deno.args;
const worker = new Worker(new URL("./bare_watch_worker.ts", import.meta.url), { type: "module" });
let next = Number(first);
const encoder = new TextEncoder();
worker.onmessage = (event: MessageEvent<string>) => {
  if (event.data === "ready") {
    Deno.stdout.writeSync(encoder.encode("bare ready\r\n"));
    return;
  }
  Deno.stdout.writeSync(encoder.encode(`m${next++}q\r\n`));
};
worker.postMessage(`${db}-ping`);
