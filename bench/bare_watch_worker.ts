/// <reference lib="deno.worker" />
// bare_receiver.ts's Worker: watches one file and posts once per burst of events.
self.onmessage = (event: MessageEvent<string>) => {
  const watcher = Deno.watchFs(event.data, { recursive: false });
  let pending = false;
  self.postMessage("ready");
  (async () => {
    for await (const _event of watcher) {
      if (pending) continue;
      pending = true;
      queueMicrotask(() => {
        pending = false;
        self.postMessage("wake");
      });
    }
  })();
};
