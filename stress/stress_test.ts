// Reliability under load, run by `deno task test:stress` (and CI): many writer
// and reader processes on one file, some of them killed with SIGKILL.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openSqliteStore as openStore } from "../lib/sqlite_store.ts";
import { NO_LIMIT, quickUser, tempDir } from "../tests/_helpers.ts";
import { PG_ADMIN, tempPg } from "../tests/_postgres.ts";
import { CHAT_RUN, chatPgRun, Running } from "../tests/_run.ts";

const WRITERS = 20;
const READERS = 5;
const PER_WRITER = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Received {
  id: number;
  user: string;
  text: string;
}

/** Where a stress run happens: the accounts made, the program's environment, what was stored. */
interface Bed extends AsyncDisposable {
  /** The environment a process acting as `name` runs with. */
  env(name: string): Record<string, string>;
  /** The `deno run ...` line of the program (the SQLite or the PostgreSQL task's). */
  command: string[];
  /** Every stored message, in id order, read around chatroom. */
  stored(): Promise<Received[]>;
}

/** A SQLite file with the writers' and readers' accounts and the room. */
async function sqliteBed(dir: string): Promise<Bed & { db: string }> {
  const db = `${dir}/stress.db`;
  const store = openStore(db);
  // Writers send far faster than people do; the rate limits are not under test here.
  store.setRate("message", NO_LIMIT);
  for (let w = 0; w < WRITERS; w++) await quickUser(store, `w${w}`);
  for (let r = 0; r < READERS; r++) await quickUser(store, `r${r}`);
  const owner = store.findUser("w0")!;
  store.createRoom("stress", owner.id);
  store.close();
  return {
    db,
    env: (name) => ({ CHATROOM_DB: db, CHATROOM_PASSWORD: `${name}-password` }),
    command: CHAT_RUN,
    stored: () => {
      const raw = new DatabaseSync(db);
      try {
        return Promise.resolve(
          raw.prepare(
            "SELECT m.id, u.name AS user, m.text FROM messages m JOIN users u ON u.id = m.user_id ORDER BY m.id",
          ).all().map((row) => ({
            id: Number(row.id),
            user: String(row.user),
            text: String(row.text),
          })),
        );
      } finally {
        raw.close();
      }
    },
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
}

/** The same on a database of its own on the test PostgreSQL server. */
async function postgresBed(): Promise<Bed> {
  const pg = await tempPg();
  const names = [
    ...Array.from({ length: WRITERS }, (_, w) => `w${w}`),
    ...Array.from({ length: READERS }, (_, r) => `r${r}`),
  ];
  for (const name of names) await pg.backend.register(name, `${name}-password`);
  const w0 = await pg.backend.logIn("w0", "w0-password");
  await w0.store.createRoom("stress", w0.user.id);
  await pg.backend.logOut(w0);
  return {
    env: (name) => ({
      CHATROOM_DB: pg.url,
      CHATROOM_PG_ADDR: pg.address,
      CHATROOM_PASSWORD: `${name}-password`,
    }),
    command: chatPgRun(pg.address),
    stored: async () =>
      (await pg.owner`SELECT m.id, u.name AS user, m.text FROM chatroom.messages m
        JOIN chatroom.users u ON u.id = m.user_id ORDER BY m.id`)
        .map((row) => ({ id: Number(row.id), user: String(row.user), text: String(row.text) })),
    [Symbol.asyncDispose]: () => pg[Symbol.asyncDispose](),
  };
}

const BEDS = [
  { name: "sqlite", ignore: false, make: (dir: string) => sqliteBed(dir) },
  { name: "postgres", ignore: !PG_ADMIN, make: () => postgresBed() },
];

function writer(bed: Bed, w: number): Running {
  return new Running(["send", "--user", `w${w}`, "--room", "stress"], bed.env(`w${w}`), {
    withStdin: true,
    command: bed.command,
  });
}

function reader(bed: Bed, r: number, after = 0): Running {
  return new Running(
    ["tail", "--user", `r${r}`, "--room", "stress", "--after", String(after), "--json"],
    bed.env(`r${r}`),
    { command: bed.command },
  );
}

/** Collects everything a reader prints into `got`, until its output ends. */
async function pump(proc: Running, got: Received[]): Promise<void> {
  try {
    for (;;) got.push(JSON.parse(await proc.nextLine(120_000)));
  } catch {
    // killed, or the test is over
  }
}

/** Waits until `got` holds `count` messages; fails after a minute. */
async function until(got: Received[], count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (got.length < count) {
    if (Date.now() > deadline) throw new Error(`a reader has ${got.length} of ${count}`);
    await sleep(20);
  }
}

/** Reads a reader's lines until it has `count` messages in all; fails after the deadline. */
async function readUntil(proc: Running, got: Received[], count: number): Promise<void> {
  while (got.length < count) got.push(JSON.parse(await proc.nextLine(60_000)));
}

/** Writes a writer's lines in chunks, so that a kill can land in the middle. */
async function feed(proc: Running, w: number, chunk = PER_WRITER): Promise<void> {
  for (let start = 0; start < PER_WRITER; start += chunk) {
    const lines = [];
    for (let i = start; i < Math.min(PER_WRITER, start + chunk); i++) lines.push(`w${w} ${i}`);
    await proc.write(lines.join("\n"));
    if (chunk < PER_WRITER) await sleep(10 + Math.random() * 40);
  }
}

for (const { name, ignore, make } of BEDS) {
  Deno.test({
    name: `[${name}] 20 writers and 5 readers: every message stored once and read once, in order`,
    ignore,
    async fn() {
      using dir = tempDir();
      await using bed = await make(dir.path);
      const readers = Array.from({ length: READERS }, (_, r) => reader(bed, r));
      const writers = Array.from({ length: WRITERS }, (_, w) => writer(bed, w));
      try {
        await Promise.all(writers.map((proc, w) => feed(proc, w)));
        const statuses = await Promise.all(writers.map((proc) => proc.finish()));
        for (const status of statuses) {
          assert.equal(status.code, 0, status.stderr);
          assert.equal(status.stderr, "", "no SQLITE_BUSY or any other error reached a writer");
        }
        const all = await bed.stored();
        assert.equal(all.length, WRITERS * PER_WRITER);
        for (let w = 0; w < WRITERS; w++) {
          const mine = all.filter((m) => m.user === `w${w}`).map((m) => m.text);
          assert.deepEqual(mine, Array.from({ length: PER_WRITER }, (_, i) => `w${w} ${i}`));
        }
        const got = readers.map(() => [] as Received[]);
        await Promise.all(readers.map((proc, r) => readUntil(proc, got[r], all.length)));
        for (const messages of got) {
          assert.deepEqual(messages.map((m) => m.id), all.map((m) => m.id), "each once, in order");
        }
      } finally {
        for (const proc of [...readers, ...writers]) await proc[Symbol.asyncDispose]();
      }
    },
  });

  Deno.test({
    name:
      `[${name}] kill -9 writers and readers mid-run: nothing torn, survivors go on, readers resume`,
    ignore,
    async fn() {
      using dir = tempDir();
      await using bed = await make(dir.path);
      const readers = Array.from({ length: READERS }, (_, r) => reader(bed, r));
      const writers = Array.from({ length: WRITERS }, (_, w) => writer(bed, w));
      const got = readers.map(() => [] as Received[]);
      const pumps = readers.map((proc, r) => pump(proc, got[r]));
      const killedWriters = new Set([1, 5, 9, 13, 17]);
      const killedReaders = new Set([1, 3]);
      const restarted: Running[] = [];
      try {
        const feeding = writers.map((proc, w) => feed(proc, w, 10).catch(() => {}));
        await sleep(300 + Math.random() * 400);
        for (const w of killedWriters) writers[w].child.kill("SIGKILL");
        for (const r of killedReaders) readers[r].child.kill("SIGKILL");
        await Promise.all(feeding);
        for (const [w, proc] of writers.entries()) {
          const status = await proc.finish();
          if (killedWriters.has(w)) continue;
          assert.equal(status.code, 0, status.stderr);
          assert.equal(status.stderr, "", "no SQLITE_BUSY or any other error reached a survivor");
        }
        await Promise.all(pumps.filter((_, r) => killedReaders.has(r)));

        if ("db" in bed) {
          const raw = new DatabaseSync(bed.db as string);
          assert.equal(raw.prepare("PRAGMA integrity_check").get()?.integrity_check, "ok");
          raw.close();
        }
        const all = await bed.stored();
        for (const m of all) assert.match(m.text, /^w\d+ \d+$/, "no message is half-written");
        for (let w = 0; w < WRITERS; w++) {
          const mine = all.filter((m) => m.user === `w${w}`).map((m) => m.text);
          const expected = killedWriters.has(w) ? mine.length : PER_WRITER;
          assert.deepEqual(mine, Array.from({ length: expected }, (_, i) => `w${w} ${i}`));
        }

        // Killed readers start again after the last message they printed.
        for (const r of killedReaders) {
          const proc = reader(bed, r, got[r].at(-1)?.id ?? 0);
          restarted.push(proc);
          pump(proc, got[r]);
        }
        for (const [r, messages] of got.entries()) {
          await until(messages, all.length);
          assert.deepEqual(
            messages.map((m) => m.id),
            all.map((m) => m.id),
            `reader ${r}: no gap, no repeat`,
          );
        }
      } finally {
        for (const proc of [...readers, ...writers, ...restarted]) {
          await proc[Symbol.asyncDispose]();
        }
      }
    },
  });
}

Deno.test("backups taken and the last connection closing do not stop live readers", async () => {
  using dir = tempDir();
  await using bed = await sqliteBed(dir.path);
  const { db } = bed;
  const send = async (text: string) => {
    const proc = writer(bed, 0);
    await proc.write(text);
    const status = await proc.finish();
    assert.equal(status.code, 0, status.stderr);
  };

  await send("before anyone listens");
  // The sender was the last connection: SQLite checkpointed and removed -wal and -shm.
  for (const suffix of ["-wal", "-shm"]) assert.throws(() => Deno.statSync(db + suffix));

  await using live = reader(bed, 0);
  const got: Received[] = [];
  await readUntil(live, got, 1);
  for (let i = 0; i < 5; i++) {
    await send(`round ${i}`);
    // What the README says to do for a copy, from another connection, while the reader runs.
    const raw = new DatabaseSync(db);
    raw.exec(`VACUUM INTO '${dir.path}/copy-${i}.db'`);
    raw.close();
    await readUntil(live, got, 2 + i);
  }
  assert.deepEqual(got.map((m) => m.text), [
    "before anyone listens",
    ...Array.from({ length: 5 }, (_, i) => `round ${i}`),
  ]);
});
