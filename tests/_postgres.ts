// A throwaway PostgreSQL database per test, on the server CHATROOM_TEST_PG
// names (.ci/run starts one); without it, the PostgreSQL tests are skipped.
import postgres from "postgres";
import { parsePgUrl, PostgresBackend } from "../lib/postgres_backend.ts";
import { accountRole, groupRole } from "../lib/postgres_schema.ts";

/** The server's owner URL, with credentials; undefined when no server was given. */
export const PG_ADMIN = Deno.env.get("CHATROOM_TEST_PG");
// Said by test runs only: the bench, which brings its own server URL, imports this too.
if (!PG_ADMIN && Deno.mainModule.endsWith("_test.ts")) {
  console.log(
    "PostgreSQL tests: skipped, set CHATROOM_TEST_PG to a server's owner URL (.ci/run does)",
  );
}

let made = 0;

/** A database with chatroom set up, dropped with its roles when disposed. */
export interface TempPg extends AsyncDisposable {
  /** Its URL without credentials, as members put it in CHATROOM_DB. */
  url: string;
  /** HOST:PORT, for the chat:pg task's network permission. */
  address: string;
  /** The owner's credentials and the permission, for `register`, `setup` and `rooms`. */
  ownerEnv: Record<string, string>;
  /** The backend, connecting as the owner where it must. */
  backend: PostgresBackend;
  /** Runs SQL as the owner. */
  owner: postgres.Sql;
}

/**
 * Makes a new database on the server whose owner URL is `adminUrl` (the test
 * server unless told otherwise), named from `prefix`, and runs chatroom's
 * set-up in it, with the rate limits lifted.
 */
export async function tempPg(adminUrl = PG_ADMIN!, prefix = "chatroom_test"): Promise<TempPg> {
  const admin = parsePgUrl(adminUrl, Deno.env.toObject());
  // Test files run in one process, each with its own count: a random part keeps them apart.
  const database = `${prefix}_${Deno.pid}_${++made}_${crypto.randomUUID().slice(0, 8)}`;
  const server = postgres({ ...connection(admin), database: admin.database, onnotice: () => {} });
  await server.unsafe(`CREATE DATABASE ${database}`);
  const url = `postgres://${admin.host}:${admin.port}/${database}`;
  const backend = new PostgresBackend({
    ...parsePgUrl(url, {}),
    user: admin.user,
    password: admin.password,
  });
  try {
    await backend.setup();
  } catch (err) {
    await backend.close();
    await server.unsafe(`DROP DATABASE ${database} WITH (FORCE)`);
    await server.end();
    throw err;
  }
  const owner = postgres({ ...connection(admin), database, onnotice: () => {} });
  await owner`INSERT INTO chatroom.settings VALUES ('message_burst', 1e9), ('messages_per_second', 1e9),
    ('room_burst', 1e9), ('rooms_per_second', 1e9)`;
  const address = `${admin.host}:${admin.port}`;
  return {
    url,
    address,
    ownerEnv: { PGUSER: admin.user!, PGPASSWORD: admin.password!, CHATROOM_PG_ADDR: address },
    backend,
    owner,
    async [Symbol.asyncDispose]() {
      await backend.close();
      await owner.end();
      await server.unsafe(`DROP DATABASE ${database} WITH (FORCE)`);
      const group = await groupRole(database);
      const roles = await server`SELECT rolname FROM pg_roles WHERE rolname = ${group}
        OR starts_with(rolname, ${group + "/"})`;
      for (const { rolname } of roles) await server`DROP ROLE ${server(rolname)}`;
      await server.end();
    },
  };
}

function connection(target: ReturnType<typeof parsePgUrl>) {
  return { host: target.host, port: target.port, username: target.user, password: target.password };
}

/** A connection as the chat account `name`, the way a member's psql would make it. */
export async function psqlAs(pg: TempPg, name: string, password: string): Promise<postgres.Sql> {
  const { host, port, database } = pg.backend.target;
  return postgres({
    host,
    port,
    database,
    username: await accountRole(database, name),
    password,
    onnotice: () => {},
  });
}
