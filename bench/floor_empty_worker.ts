/// <reference lib="deno.worker" />
// The empty Worker of floor_worker.ts: it says it runs, and nothing more.
self.postMessage("up");
