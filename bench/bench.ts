// deno task bench [--quick] [--out FILE] [--db postgres://OWNER@HOST:PORT/DB] [--only PARTS]
//
// Measures live delivery with separate OS processes on one database (a SQLite
// file, or with --db a database of its own on that PostgreSQL server) and
// writes a table plus JSON. --quick is a small run for CI: it fails when any
// message is lost, duplicated, out of order or errored, and asserts no timing.
// --only screen,start (any of PARTS below) runs just those parts, for working on
// one figure: their lines and JSON, no table.
import { parseArgs } from "node:util";
import { renderBubble } from "../lib/render.ts";
import type { Room, User } from "../lib/model.ts";
import type { Store } from "../lib/store.ts";
import { plainTheme } from "../lib/theme.ts";
import { ROOT, Running, shellQuote } from "../tests/_run.ts";
import { type Bed, PASSWORD, postgresBed, sqliteBed } from "./_bed.ts";
import { cpuSince, PtyProgram, rssMiB, type ThreadCpu, threadCpu, totalCpu } from "./_pty.ts";
import { loadWidths } from "../lib/width.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    out: { type: "string" },
    db: { type: "string" },
    only: { type: "string" },
  },
});
const PARTS = ["screen", "baseline", "presence", "start", "join", "throughput"] as const;
const only = values.only?.split(",");
for (const part of only ?? []) {
  if (!(PARTS as readonly string[]).includes(part)) {
    console.error(`bench: --only takes ${PARTS.join(", ")}; not "${part}"`);
    Deno.exit(2);
  }
}
const wanted = (part: typeof PARTS[number]) => !only || only.includes(part);
const QUICK = values.quick;
await loadWidths(); // the join figure draws bubbles
const OUT = values.out ?? "bench-results.json";

const plan = QUICK
  ? {
    baseline: [{ receivers: 1, messages: 5, intervalMs: 200 }],
    idleSeconds: 2,
    joinSizes: [1_000, 20_000],
    throughput: { senders: 4, perSender: 100, readers: 2 },
    presence: [{ receivers: 1, changes: 6 }, { receivers: 3, changes: 6 }],
    screen: [{ receivers: 1, messages: 20, intervalMs: 30 }, {
      receivers: 3,
      messages: 20,
      intervalMs: 40,
    }],
    floorRuns: 3,
  }
  : {
    baseline: [
      { receivers: 1, messages: 30, intervalMs: 100 },
      { receivers: 10, messages: 30, intervalMs: 100 },
      { receivers: 50, messages: 30, intervalMs: 100 },
    ],
    idleSeconds: 10,
    joinSizes: [1_000, 1_000_000],
    throughput: { senders: 20, perSender: 500, readers: 5 },
    presence: [
      { receivers: 1, changes: 30 },
      { receivers: 10, changes: 20 },
      { receivers: 50, changes: 12 },
    ],
    screen: [
      { receivers: 1, messages: 200, intervalMs: 50 },
      { receivers: 10, messages: 150, intervalMs: 50 },
      { receivers: 50, messages: 150, intervalMs: 50 },
    ],
    floorRuns: 7,
  };

const stamp = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

function summary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50: round(quantile(sorted, 0.5)),
    p99: round(quantile(sorted, 0.99)),
    max: round(sorted.at(-1) ?? NaN),
    n: sorted.length,
  };
}

/** Counts what a reader got wrong against the ids it should have seen, in order. */
function audit(expected: number[], got: number[]) {
  const want = new Set(expected);
  const seen = new Set<number>();
  let duplicated = 0, outOfOrder = 0, last = -Infinity;
  for (const id of got) {
    if (seen.has(id)) duplicated++;
    seen.add(id);
    if (id < last) outOfOrder++;
    last = Math.max(last, id);
  }
  const lost = [...want].filter((id) => !seen.has(id)).length;
  return { lost, duplicated, outOfOrder };
}

const problems = { lost: 0, duplicated: 0, out_of_order: 0, errors: 0 };
function record(counts: { lost: number; duplicated: number; outOfOrder: number }) {
  problems.lost += counts.lost;
  problems.duplicated += counts.duplicated;
  problems.out_of_order += counts.outOfOrder;
}

function machine(bed: Bed): string {
  const cpu = Deno.readTextFileSync("/proc/cpuinfo").match(/model name\s*:\s*(.*)/)?.[1] ?? "?";
  const memGiB = Number(Deno.readTextFileSync("/proc/meminfo").match(/MemTotal:\s*(\d+)/)?.[1]) /
    1024 / 1024;
  return `${navigator.hardwareConcurrency} cores (${cpu.trim()}), ${memGiB.toFixed(0)} GiB, ` +
    `${Deno.build.os} ${Deno.osRelease()}, Deno ${Deno.version.deno}, ${bed.label}`;
}

// Disposed (its database dropped, its folder removed) however the bench ends, a throw included.
await using bed = values.db ? await postgresBed(values.db) : sqliteBed();
const { env } = bed;
const user = (name: string): Promise<User> => bed.user(name);

// ---------------------------------------------------------------- latency

/** `count` receivers (bench/receiver.ts) following `roomId`, each as its own account, with `mode`. */
async function receiversOf(roomId: number, count: number, mode: string[]): Promise<Running[]> {
  const { receiver } = bed;
  const procs: Running[] = [];
  for (let i = 0; i < count; i++) {
    procs.push(
      new Running(
        [`${ROOT}/bench/receiver.ts`, receiver.db, String(roomId), "0", ...mode],
        await receiver.env(i),
        { withStdin: true, command: receiver.command },
      ),
    );
  }
  return procs;
}

/** Waits until every receiver says it is following. */
async function ready(procs: Running[]): Promise<void> {
  for (const proc of procs) {
    const line = await proc.nextLine(60_000);
    if (line !== "ready") throw new Error(`receiver said ${line}`);
  }
}

/** Ends each receiver (EOF on its stdin) and takes its stamps; one that failed is an error. */
async function stampsOf(procs: Running[]): Promise<[number, number][][]> {
  const all: [number, number][][] = [];
  for (const proc of procs) {
    const done = proc.finish(); // EOF on stdin: the receiver reports
    all.push(JSON.parse(await proc.nextLine(60_000)));
    const status = await done;
    if (status.code !== 0 || status.stderr.trim()) {
      problems.errors++;
      console.error(status.stderr);
    }
  }
  return all;
}

async function latencyRun(
  { receivers, messages, intervalMs }: { receivers: number; messages: number; intervalMs: number },
  baseline: boolean,
) {
  const sender = await user("sender");
  const store = await bed.as("sender");
  const room = await store.createRoom(`lat${receivers}${baseline ? "b" : ""}`, sender.id);
  const procs = await receiversOf(room.id, receivers, baseline ? ["--baseline"] : []);
  try {
    await ready(procs);
    await sleep(300);
    const sent = new Map<number, number>();
    for (let i = 0; i < messages; i++) {
      // Stamped before the insert: a busy machine can delay the sender between its
      // commit and a later stamp, and that must not flatter the figure.
      const before = stamp();
      sent.set(await store.addMessage(room.id, sender.id, `latency ${i}`), before);
      await sleep(intervalMs * (0.5 + Math.random()));
    }
    await sleep(baseline ? 2_000 : 1_000);
    const latencies: number[] = [];
    for (const got of await stampsOf(procs)) {
      record(audit([...sent.keys()], got.map(([id]) => id)));
      for (const [id, at] of got) latencies.push(at - sent.get(id)!);
    }
    return summary(latencies);
  } finally {
    for (const proc of procs) await proc[Symbol.asyncDispose]();
  }
}

// ------------------------------------------------ on the receiving terminal

/** Who receives in a screen run: the chat view, or one of the two floors of its shape. */
type Receiver = "chat" | "bare" | "sqlite";

/**
 * From just before the sender's `send` process is given a line to that line
 * reaching each receiver's terminal (the real chat view in a pseudo-terminal,
 * or a floor: `bare`, a Worker watching the wake file and a main thread
 * writing one line; `sqlite`, the same Worker reading the new messages with
 * node:sqlite and posting them, the main thread writing their texts), with
 * the CPU each receiving client and the sender spent, and the resident memory
 * of the first receiver at the end.
 */
async function screenRun(
  { receivers, messages, intervalMs }: { receivers: number; messages: number; intervalMs: number },
  receiver: Receiver,
) {
  const name = `screen${receivers}${receiver === "chat" ? "" : receiver}`;
  const sender = await user("sender");
  const room = await (await bed.as("sender")).findOrCreateRoom(name, sender.id);
  await (await bed.as("sender")).addMessage(room.id, sender.id, "the room is open");
  const programs: PtyProgram[] = [];
  const send = new Running(["send", "--user", "sender", "--room", name], env, {
    withStdin: true,
    command: bed.chat,
  });
  const floor = (script: string, ...args: string[]) =>
    new PtyProgram(
      [Deno.execPath(), "run", "--allow-read", `${ROOT}/bench/${script}`, ...args],
      {},
    );
  const ready = { chat: `You are in ${name}.`, bare: "bare ready", sqlite: "sqlite ready" };
  try {
    for (let i = 0; i < receivers; i++) {
      if (receiver === "bare") programs.push(floor("bare_receiver.ts", env.CHATROOM_DB, "0"));
      else if (receiver === "sqlite") {
        programs.push(floor("sqlite_receiver.ts", env.CHATROOM_DB, String(room.id)));
      } else {
        await user(`viewer${i}`);
        programs.push(
          new PtyProgram([...bed.chat, "--user", `viewer${i}`, "--room", name], {
            ...env,
            CHATROOM_PASSWORD: PASSWORD,
          }),
        );
      }
    }
    await Promise.all(programs.map((p) => p.waitFor(ready[receiver], 120_000)));
    await sleep(1_000);
    const pids = programs.map((p) => p.pid());
    const before = pids.map(threadCpu);
    const senderBefore = threadCpu(send.child.pid);
    const sent: number[] = [];
    for (let i = 0; i < messages; i++) {
      sent.push(stamp());
      await send.write(`m${i}q`);
      await sleep(intervalMs * (0.5 + Math.random()));
    }
    const deadline = Date.now() + 15_000;
    while (programs.some((p) => !p.markers.has(messages - 1)) && Date.now() < deadline) {
      await sleep(50);
    }
    const after = pids.map(threadCpu);
    const senderCpu = totalCpu(cpuSince(senderBefore, threadCpu(send.child.pid))) / messages;
    const latencies: number[] = [];
    const perDelivery: ThreadCpu = { main: 0, worker: 0, v8: 0, io: 0, other: 0 };
    for (const [r, program] of programs.entries()) {
      const got = [...program.markers].sort((a, b) => a[1] - b[1]).map(([id]) => id);
      record(audit(sent.map((_, i) => i), got.filter((id) => id < messages)));
      for (const [id, at] of program.markers) if (id < messages) latencies.push(at - sent[id]);
      const used = cpuSince(before[r], after[r]);
      for (const kind of Object.keys(perDelivery) as (keyof ThreadCpu)[]) {
        perDelivery[kind] += used[kind] / messages / receivers;
      }
    }
    const cpu = Object.fromEntries(
      Object.entries(perDelivery).map(([kind, ms]) => [kind, round(ms, 3)]),
    ) as ThreadCpu;
    return {
      latency: summary(latencies),
      cpu_ms_per_delivery: { total: round(totalCpu(perDelivery), 3), ...cpu },
      sender_cpu_ms_per_message: round(senderCpu, 3),
      rss_mib: round(rssMiB(pids[0]), 1),
    };
  } finally {
    await send.finish().catch(() => {});
    for (const program of programs) await program[Symbol.asyncDispose]();
  }
}

// ------------------------------------------------------------------ floors

/** The start of a Deno program that prints one line, on a pseudo-terminal. */
async function helloStart(): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i <= plan.floorRuns; i++) {
    await using hello = new PtyProgram(
      [Deno.execPath(), "run", `${ROOT}/bench/floor_hello.ts`],
      {},
    );
    const at = await hello.waitFor("hello from deno");
    if (i > 0) times.push(at - hello.started); // the first warms Deno's caches
  }
  return times;
}

/**
 * The start of a program of chatroom's shape that does nothing of its own:
 * Node's compatibility layer with the terminal in raw mode, node:sqlite with
 * the file open, one line (SQLite only).
 */
async function shapeStart(): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i <= plan.floorRuns; i++) {
    await using shape = new PtyProgram(
      [Deno.execPath(), "run", "--allow-read", `${ROOT}/bench/floor_start.ts`, env.CHATROOM_DB],
      {},
    );
    const at = await shape.waitFor("shape floor ready");
    if (i > 0) times.push(at - shape.started);
  }
  return times;
}

/** The resident memory of a Deno process holding one Worker that does nothing. */
async function workerRss(): Promise<number> {
  await using floor = new Running([`${ROOT}/bench/floor_worker.ts`], {}, {
    withStdin: true,
    command: [Deno.execPath(), "run", `--allow-read=${ROOT}/bench`],
  });
  if ((await floor.nextLine(30_000)) !== "ready") throw new Error("the floor worker did not start");
  await sleep(1_000);
  return round(rssMiB(floor.child.pid), 1);
}

/** The first screen of chatroom, as `deno run`, `deno task chat` and the installed command start it. */
async function firstScreens() {
  const root = Deno.makeTempDirSync({ prefix: "chatroom-install-" });
  try {
    const tasks = JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`)).tasks;
    const install = (tasks[values.db ? "install:pg" : "install"] as string)
      .replace("$CHATROOM_PG_ADDR", env.CHATROOM_PG_ADDR ?? "")
      .split(" ").slice(1); // "deno" is the running one
    install.splice(install.indexOf("--global") + 1, 0, "--root", root);
    const installed = await new Deno.Command(Deno.execPath(), {
      args: install,
      cwd: ROOT,
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!installed.success) throw new Error(new TextDecoder().decode(installed.stderr));
    const shim = `${root}/bin/${values.db ? "chatroom-pg" : "chatroom"}`;
    const ways = {
      run: bed.chat,
      task: [Deno.execPath(), "task", "-q", values.db ? "chat:pg" : "chat"],
      installed: [shim],
    };
    const out: Record<string, { p50: number; p99: number; max: number; n: number }> = {};
    const wrapperRss: number[] = [];
    for (const [way, command] of Object.entries(ways)) {
      const times: number[] = [];
      for (let i = 0; i <= plan.floorRuns; i++) {
        await using client = new PtyProgram(command, { ...env, CHATROOM_PASSWORD: "" }, ROOT);
        const at = await client.waitFor("Welcome to chatroom");
        if (i > 0) times.push(at - client.started);
        // `deno task` is a Deno process of its own, between the terminal and the program.
        if (way === "task" && i === 1) wrapperRss.push(rssMiB(client.pid(1)));
      }
      out[way] = summary(times);
    }
    return { startup: out, task_wrapper_rss_mib: round(wrapperRss[0], 1) };
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
}

// --------------------------------------------------------------- presence

/**
 * From a terminal arriving in (or leaving) a room to each receiver's main
 * thread having the presence report that shows it: what a "joined" line waits for.
 */
async function presenceRun({ receivers, changes }: { receivers: number; changes: number }) {
  const mover = await user("mover");
  const store = await bed.as("mover");
  const room = await store.createRoom(`here${receivers}`, mover.id);
  const procs = await receiversOf(room.id, receivers, ["--presence", "mover"]);
  try {
    await ready(procs);
    await sleep(500);
    const sent: number[] = [];
    for (let i = 0; i < changes; i++) {
      sent.push(stamp());
      if (i % 2 === 0) await store.announce("bench-mover", mover.id, room.id);
      else await store.depart("bench-mover");
      await sleep(300 * (0.5 + Math.random()));
    }
    await sleep(1_000);
    const latencies: number[] = [];
    for (const got of await stampsOf(procs)) {
      record(audit(sent.map((_, i) => i), got.map(([i]) => i)));
      for (const [i, at] of got) latencies.push(at - sent[i]);
    }
    return summary(latencies);
  } finally {
    for (const proc of procs) await proc[Symbol.asyncDispose]();
  }
}

// ----------------------------------------------------------------- search

/** Time for /search in a room of `room`'s size: a word in one message, and words in all. */
async function searchTimes(room: Room, reader: Store, size: number) {
  const times = async (words: string, expect: number) => {
    const samples: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const found = await reader.search(words, { userId: -1, roomId: room.id });
      samples.push(performance.now() - t0);
      if (found.length !== expect) throw new Error(`search "${words}" found ${found.length}`);
    }
    return summary(samples);
  };
  return {
    rare: await times(String(Math.floor(size * 0.7)), 1),
    common: await times("ordinary words", 20),
  };
}

// ----------------------------------------------------- a client in a pty

/**
 * Starts the real chat program on a pseudo-terminal (util-linux `script`) and
 * resolves when `text` is on its screen: start-up as a user sees it.
 */
async function startClient(args: string[], text: string, vars: Record<string, string>) {
  const command = `exec ${[...bed.chat, ...args].map(shellQuote).join(" ")}`;
  const started = stamp();
  const proc = new Running(["-qfec", command, "/dev/null"], {
    COLUMNS: "100",
    LINES: "30",
    ...vars,
  }, {
    withStdin: true,
    command: ["script"],
  });
  await proc.waitForText(text, 30_000);
  const ms = stamp() - started;
  const scriptPid = proc.child.pid;
  const pid = Number(
    Deno.readTextFileSync(`/proc/${scriptPid}/task/${scriptPid}/children`).trim().split(" ")[0],
  );
  return { ms, pid, proc };
}

function cpuSeconds(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks
}

async function startupAndIdle() {
  const idleUser = await user("idle");
  await (await bed.as("idle")).findOrCreateRoom("idle", idleUser.id);
  const { pid, proc } = await startClient(["--user", "idle", "--room", "idle"], "idle ›", env);
  try {
    await sleep(1_000);
    const before = cpuSeconds(pid);
    await sleep(plan.idleSeconds * 1000);
    const cpuPct = (cpuSeconds(pid) - before) / plan.idleSeconds * 100;
    return { cpuPct: round(cpuPct, 3), rss: round(rssMiB(pid), 1) };
  } finally {
    Deno.kill(pid, "SIGKILL");
    await proc[Symbol.asyncDispose]();
  }
}

// --------------------------------------------------------- join and wakeup

/** Time to show the last 50 messages of `room`, as the chat view does on joining. */
async function joinTimes(room: Room, reader: Store) {
  const join: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    const text = (await reader.recentMessages(room.id)).map((m) =>
      renderBubble(m, { width: 100, own: false, theme: plainTheme, now: Date.now() })
    ).join("\n");
    join.push(performance.now() - t0);
    if (!text.includes("seeded message")) throw new Error("join showed nothing");
  }
  return summary(join);
}

/**
 * The median cost, in µs, of a follower's look at each room after one new
 * message. The rooms take turns, so that whatever else the machine is doing
 * weighs on each of them alike.
 */
async function wakeupCosts(rooms: Room[], reader: Store, writer: User): Promise<number[]> {
  const store = await bed.as(writer.name);
  const costs = rooms.map(() => [] as number[]);
  const last = await Promise.all(rooms.map((room) => reader.lastMessageId(room.id)));
  for (let i = 0; i < 200; i++) {
    for (const [r, room] of rooms.entries()) {
      await store.addMessage(room.id, writer.id, `wake ${i}`);
      const t0 = performance.now();
      const got = await reader.messagesAfter(room.id, last[r], 500);
      costs[r].push(performance.now() - t0);
      if (got.length !== 1) throw new Error(`wakeup saw ${got.length} messages`);
      last[r] = got[0].id;
    }
  }
  return costs.map((samples) => round(quantile(samples.sort((a, b) => a - b), 0.5) * 1000, 1));
}

// -------------------------------------------------------------- throughput

async function throughput({ senders, perSender, readers }: typeof plan.throughput) {
  const owner = await user("owner");
  const store = await bed.as("owner");
  const room = await store.createRoom("throughput", owner.id);
  await store.addMessage(room.id, owner.id, "start"); // each tail prints it once it is following
  for (let s = 0; s < senders; s++) await user(`sender${s}`);
  for (let r = 0; r < readers; r++) await user(`reader${r}`);
  const tails = Array.from({ length: readers }, (_, r) =>
    new Running(
      ["tail", "--user", `reader${r}`, "--room", "throughput", "--history", "1", "--json"],
      env,
      { command: bed.chat },
    ));
  const sends = Array.from(
    { length: senders },
    (_, s) =>
      new Running(["send", "--user", `sender${s}`, "--room", "throughput"], env, {
        withStdin: true,
        command: bed.chat,
      }),
  );
  try {
    const got = tails.map(() => [] as { id: number; user: string; text: string }[]);
    const readAll = async (count: number) => {
      try {
        await Promise.all(tails.map(async (tail, r) => {
          while (got[r].length < count) got[r].push(JSON.parse(await tail.nextLine(120_000)));
        }));
      } catch (err) {
        // Say what was missing before giving up: which reader, what the file holds, and
        // what every process said on stderr.
        const inFile = (await store.messagesAfter(room.id, 0, 1e6)).length;
        console.error(
          `throughput: waiting for ${count}; the file holds ${inFile}; readers have ${
            got.map((g) => g.length).join(", ")
          }`,
        );
        for (const proc of [...tails, ...sends]) {
          proc.child.kill("SIGKILL");
          const { stderr } = await proc.finish();
          if (stderr.trim()) console.error(stderr.trim());
        }
        throw err;
      }
    };
    await readAll(1); // every tail is following
    // Every sender says hello and every reader must see all hellos: all are up.
    await Promise.all(sends.map((proc, s) => proc.write(`hello from ${s}`)));
    await readAll(1 + senders);

    const t0 = stamp();
    await Promise.all(
      sends.map((proc, s) =>
        proc.write(Array.from({ length: perSender }, (_, i) => `${s} ${i}`).join("\n"))
      ),
    );
    await readAll(1 + senders + senders * perSender);
    const seconds = (stamp() - t0) / 1000;

    for (const proc of sends) {
      const status = await proc.finish();
      if (status.code !== 0 || status.stderr.trim()) {
        problems.errors++;
        console.error(status.stderr);
      }
    }
    const stored = (await store.messagesAfter(room.id, 0, 1e6)).map((m) => m.id);
    let perSenderOrder = 0;
    for (const messages of got) {
      const counts = audit(stored, messages.map((m) => m.id));
      const next = new Map<string, number>();
      for (const m of messages.slice(1 + senders)) {
        const [s, i] = m.text.split(" ").map(Number);
        if ((next.get(m.user) ?? 0) !== i || `sender${s}` !== m.user) perSenderOrder++;
        next.set(m.user, i + 1);
      }
      record({ ...counts, outOfOrder: counts.outOfOrder + perSenderOrder });
    }
    if (stored.length !== 1 + senders + senders * perSender) {
      problems.lost += 1 + senders + senders * perSender - stored.length;
    }
    return { msgs_per_s: Math.round(senders * perSender / seconds), messages: senders * perSender };
  } finally {
    for (const proc of [...tails, ...sends]) await proc[Symbol.asyncDispose]();
  }
}

// -------------------------------------------------------------------- run

const report: Record<string, unknown> = { machine: machine(bed), quick: QUICK };
console.log(`chatroom bench${QUICK ? " --quick" : ""}: ${report.machine}`);

type Screen = Awaited<ReturnType<typeof screenRun>>;
const screen: Record<string, Screen> = {};
const bare: Record<string, Screen> = {};
const withSqlite: Record<string, Screen> = {};
for (const run of wanted("screen") ? plan.screen : []) {
  screen[`receivers_${run.receivers}`] = await screenRun(run, "chat");
  console.log(`screen, ${run.receivers} receivers:`, screen[`receivers_${run.receivers}`]);
  // The floors' shape watches the SQLite file's wake file; PostgreSQL has no such twin.
  if (!values.db) {
    bare[`receivers_${run.receivers}`] = await screenRun(run, "bare");
    console.log(`bare receiver, ${run.receivers}:`, bare[`receivers_${run.receivers}`]);
    withSqlite[`receivers_${run.receivers}`] = await screenRun(run, "sqlite");
    console.log(
      `bare receiver with SQLite, ${run.receivers}:`,
      withSqlite[`receivers_${run.receivers}`],
    );
  }
}
report.screen = screen;

const baseline: Record<string, unknown> = {};
// The original program's poller read the SQLite file; it has no PostgreSQL twin.
for (const run of values.db || !wanted("baseline") ? [] : plan.baseline) {
  baseline[`receivers_${run.receivers}`] = await latencyRun(run, true);
  console.log(`baseline, ${run.receivers} receivers:`, baseline[`receivers_${run.receivers}`]);
}
report.seed_baseline = { latency_ms: baseline, how: "re-read the whole room every second" };

const presence: Record<string, unknown> = {};
for (const run of wanted("presence") ? plan.presence : []) {
  presence[`receivers_${run.receivers}`] = await presenceRun(run);
  console.log(`presence, ${run.receivers} receivers:`, presence[`receivers_${run.receivers}`]);
}
report.presence_ms = presence;

/** Start-up and memory against their floors, and a client idling in a room. */
async function startFigures() {
  const hello = summary(await helloStart());
  const shape = values.db ? undefined : summary(await shapeStart());
  const emptyWorker = await workerRss();
  const starts = await firstScreens();
  report.first_screen_ms = starts.startup;
  report.task_wrapper_rss_mib = starts.task_wrapper_rss_mib;
  console.log("first screen:", starts);
  const client = await startupAndIdle();
  report.idle_cpu_pct_per_client = client.cpuPct;
  report.rss_mib = client.rss;
  console.log("client:", client, "floors:", { hello, shape, emptyWorker });
  return { hello, shape, emptyWorker, starts, client };
}

/** Joining, waking and searching in a small and a large room. */
async function joinFigures() {
  const reader = await bed.reader();
  const [small, large] = plan.joinSizes;
  const writer = await user("seeder");
  const sized: Room[] = [];
  for (const size of [small, large]) {
    const room = await (await bed.as("seeder")).createRoom(`size${size}`, writer.id);
    await bed.seed(room, writer.id, size);
    sized.push(room);
  }
  const joinSmall = await joinTimes(sized[0], reader);
  const joinLarge = await joinTimes(sized[1], reader);
  const [wakeSmall, wakeLarge] = await wakeupCosts(sized, reader, writer);
  report.join_ms = { [`messages_${small}`]: joinSmall, [`messages_${large}`]: joinLarge };
  report.wakeup_us = { [`messages_${small}`]: wakeSmall, [`messages_${large}`]: wakeLarge };
  report.wakeup_cost_ratio = round(wakeLarge / wakeSmall);
  console.log("join:", report.join_ms, "wakeup µs:", report.wakeup_us);
  const searched = await searchTimes(sized[1], reader, large);
  report.search_ms = { [`messages_${large}`]: searched };
  console.log("search:", report.search_ms);
  return { small, large, searched };
}

const started = wanted("start") ? await startFigures() : undefined;
const joined = wanted("join") ? await joinFigures() : undefined;
const tp = wanted("throughput") ? await throughput(plan.throughput) : undefined;
if (tp) {
  report.throughput = { ...tp, ...problems };
  console.log("throughput:", report.throughput);
}
if (
  !started || !joined || !tp || plan.screen.some((run) => !screen[`receivers_${run.receivers}`])
) {
  // A part of the run (--only): its figures, without the floors' ratios and the table.
  Deno.writeTextFileSync(OUT, JSON.stringify({ ...report, problems }, null, 2) + "\n");
  console.log(`wrote ${OUT}`);
} else {
  table(started, joined, tp);
}

/** The figures against their floors, to the JSON and as the table. */
function table(
  { hello, shape, emptyWorker, starts, client }: Awaited<ReturnType<typeof startFigures>>,
  { small, large, searched }: Awaited<ReturnType<typeof joinFigures>>,
  tp: Awaited<ReturnType<typeof throughput>>,
) {
  // Each figure against its floor, measured in this run (issue 12's targets).
  const largest = `receivers_${plan.screen.at(-1)!.receivers}`;
  const ratio = (figure: number, floor: number | undefined) =>
    floor === undefined || !(floor > 0) ? null : round(figure / floor);
  const sqliteRss = withSqlite.receivers_1?.rss_mib;
  report.floors = {
    hello_start_ms: hello,
    empty_worker_rss_mib: emptyWorker,
    bare_receiver: bare,
    // The floors of the shape: what Node's layer and SQLite cost before any code of ours.
    shape_start_ms: shape,
    sqlite_receiver: withSqlite,
    sqlite_receiver_rss_mib: sqliteRss,
  };
  report.ratios = {
    first_screen_to_hello: ratio(starts.startup.run.p50, hello.p50),
    rss_to_empty_worker: ratio(client.rss, emptyWorker),
    cpu_per_delivery_to_bare: ratio(
      screen[largest].cpu_ms_per_delivery.total,
      bare[largest]?.cpu_ms_per_delivery.total,
    ),
    screen_p99_to_bare: ratio(screen[largest].latency.p99, bare[largest]?.latency.p99),
    first_screen_to_shape: ratio(starts.startup.run.p50, shape?.p50),
    rss_to_sqlite_receiver: ratio(client.rss, sqliteRss),
    cpu_per_delivery_to_sqlite_receiver: ratio(
      screen[largest].cpu_ms_per_delivery.total,
      withSqlite[largest]?.cpu_ms_per_delivery.total,
    ),
    screen_p99_to_sqlite_receiver: ratio(
      screen[largest].latency.p99,
      withSqlite[largest]?.latency.p99,
    ),
  };
  Deno.writeTextFileSync(OUT, JSON.stringify(report, null, 2) + "\n");

  // ------------------------------------------------------------------ table

  const ratios = report.ratios as Record<string, number | null>;
  const b = baseline as Record<string, { p50: number; p99: number }>;
  const n = largest.split("_")[1];
  const cpuOf = (run: Screen | undefined) =>
    run
      ? `${run.cpu_ms_per_delivery.total} ms (main ${run.cpu_ms_per_delivery.main}, worker ${run.cpu_ms_per_delivery.worker}, I/O ${run.cpu_ms_per_delivery.io}, V8 ${run.cpu_ms_per_delivery.v8})`
      : "-";
  const rows: [string, string, string, string, string][] = [];
  /** A figure's two floors and its ratios to them: the target's floor, then the shape's. */
  const floors = (floor: string, shaped: string | undefined) =>
    shaped === undefined ? floor : `${floor}; of the shape: ${shaped}`;
  const times = (...ratios: (number | null)[]) =>
    ratios.filter((r) => r !== null).map((r) => `${r}x`).join("; ") || "-";
  const latency = (run: Screen | undefined) =>
    run ? `p50 ${run.latency.p50} ms, p99 ${run.latency.p99} ms` : undefined;
  for (const [key, run] of Object.entries(screen)) {
    const count = key.split("_")[1];
    rows.push([
      `on screen, ${count} receiver${count === "1" ? "" : "s"}`,
      count === "1" ? "p50 <= 2 ms, p99 <= 10 ms" : count === n ? "p99 <= 1.5x floor" : "-",
      latency(run)!,
      bare[key] ? floors(latency(bare[key])!, latency(withSqlite[key])) : "-",
      count === n ? times(ratios.screen_p99_to_bare, ratios.screen_p99_to_sqlite_receiver) : "-",
    ]);
  }
  rows.push(
    [
      `CPU per delivery per receiving client, ${n} receivers`,
      "<= 1.5x floor",
      cpuOf(screen[largest]),
      bare[largest]
        ? floors(cpuOf(bare[largest]), withSqlite[largest] && cpuOf(withSqlite[largest]))
        : "-",
      times(ratios.cpu_per_delivery_to_bare, ratios.cpu_per_delivery_to_sqlite_receiver),
    ],
    [
      "sender CPU per message (`send` reading stdin)",
      "-",
      `${screen[largest].sender_cpu_ms_per_message} ms`,
      "-",
      "-",
    ],
    [
      "first screen, `deno run`",
      "<= 2.5x floor",
      `p50 ${starts.startup.run.p50} ms`,
      floors(
        `p50 ${hello.p50} ms (a Deno hello world)`,
        shape && `p50 ${shape.p50} ms (Node's layer, raw mode, the file open)`,
      ),
      times(ratios.first_screen_to_hello, ratios.first_screen_to_shape),
    ],
    [
      "first screen, `deno task chat` / installed `chatroom`",
      "-",
      `p50 ${starts.startup.task.p50} ms / ${starts.startup.installed.p50} ms`,
      "-",
      "-",
    ],
    [
      "memory of a client in a room",
      "<= 1.2x floor",
      `${client.rss} MiB (+ ${starts.task_wrapper_rss_mib} MiB for a \`deno task\` wrapper)`,
      floors(
        `${emptyWorker} MiB (Deno + an empty Worker)`,
        sqliteRss === undefined
          ? undefined
          : `${sqliteRss} MiB (the receiver with SQLite and Node's layer)`,
      ),
      times(ratios.rss_to_empty_worker, ratios.rss_to_sqlite_receiver),
    ],
  );
  for (const [key, run] of Object.entries(b)) {
    rows.push([
      `1-second poller, ${key.split("_")[1]} receivers (main thread)`,
      "-",
      `p50 ${run.p50} ms, p99 ${run.p99} ms`,
      "-",
      "-",
    ]);
  }
  const joins = report.join_ms as Record<string, { p50: number }>;
  for (
    const [key, figure] of Object.entries(presence as Record<string, { p50: number; p99: number }>)
  ) {
    rows.push([
      `joined/left line, ${key.split("_")[1]} receivers`,
      "-",
      `p50 ${figure.p50} ms, p99 ${figure.p99} ms`,
      "-",
      "-",
    ]);
  }
  rows.push(
    [
      `search at ${large.toLocaleString("en")} messages`,
      "-",
      `one match: p50 ${searched.rare.p50} ms; words in every message: p50 ${searched.common.p50} ms`,
      "-",
      "-",
    ],
  );
  rows.push(
    ["idle CPU per client", "<= 0.5 % of one core", `${client.cpuPct} %`, "-", "-"],
    [
      `join at ${large.toLocaleString("en")} messages`,
      "<= 50 ms",
      `${joins[`messages_${large}`].p50} ms (at ${small.toLocaleString("en")}: ${
        joins[`messages_${small}`].p50
      } ms)`,
      "-",
      "-",
    ],
    [
      `wakeup cost, ${large.toLocaleString("en")} vs ${small.toLocaleString("en")}`,
      "ratio <= 1.5",
      `${report.wakeup_cost_ratio}`,
      "-",
      "-",
    ],
    [
      "throughput",
      ">= 2,000 msg/s; 0 lost, 0 dup, 0 out of order, 0 errors",
      `${tp.msgs_per_s} msg/s; ${problems.lost} lost, ${problems.duplicated} dup, ${problems.out_of_order} out of order, ${problems.errors} errors`,
      "-",
      "-",
    ],
  );
  console.log("\n| figure | target | measured | floor | ratio |\n| --- | --- | --- | --- | --- |");
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
  console.log(`\nwrote ${OUT}`);
}

if (Object.values(problems).some((n) => n > 0)) {
  console.error(`bench: ${JSON.stringify(problems)}`);
  Deno.exitCode = 1; // not Deno.exit(): the bed is disposed first
}
