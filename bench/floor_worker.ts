// A floor for memory: a Deno process holding one Worker that does nothing.
// Prints "ready" once the Worker runs; then waits for its stdin to end.
const worker = new Worker(new URL("./floor_empty_worker.ts", import.meta.url), { type: "module" });
await new Promise((resolve) => worker.onmessage = resolve);
console.log("ready");
for await (const _ of Deno.stdin.readable) {
  // until EOF
}
worker.terminate();
