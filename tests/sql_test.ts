// All SQL takes user text through bound parameters: no statement is built by
// pasting values into its text. postgres.js tagged templates (sql`...${v}`)
// bind every ${v} as a parameter, or quote it as an identifier with sql(name).
import assert from "node:assert/strict";
import { ROOT } from "./_run.ts";

/** Interpolations allowed in SQL, each with why it cannot carry user text. */
const ALLOWED = new Map([
  ["${version+1}", "PRAGMA user_version takes no parameters; version is a loop counter"],
  ["${table}", 'a table name, typed "users" | "rooms" or from a literal list'],
  ["${ROOM_COLUMNS}", "a constant column list"],
  ["${MESSAGE_COLUMNS}", "a constant column list"],
  ["${MAX_ID}", "a constant number, Number.MAX_SAFE_INTEGER"],
  ["${MAX_UNREAD_COUNTED}", "a constant number from model.ts"],
  ["${MAX_TOPIC_LENGTH}", "a constant number from model.ts"],
  ["${CHANNEL}", "a constant channel name"],
  ["${ident(group)}", "the group role, [a-z0-9_] or a hex digest, quoted as an identifier"],
  ["${literal(group)}", "the group role, [a-z0-9_] or a hex digest, quoted as a string"],
]);

/** A postgres.js tagged template: what it interpolates is bound, not pasted. */
const TAGGED = /(\bsql|\btx)$/;

const SQL = /\b(SELECT|INSERT|UPDATE|DELETE|PRAGMA|CREATE|ALTER|DROP|REPLACE)\b/;

function sources(dir: string): string[] {
  return [...Deno.readDirSync(dir)].flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) return sources(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Places in a source text where a value is pasted into SQL. */
function pastedValues(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/`[^`]*`/g)) {
    const literal = match[0];
    if (!SQL.test(literal) || TAGGED.test(text.slice(0, match.index))) continue;
    for (const hole of literal.match(/\$\{[^}]*\}/g) ?? []) {
      if (!ALLOWED.has(hole.replace(/\s+/g, ""))) found.push(`${hole} in ${literal.slice(0, 60)}`);
    }
  }
  // String concatenation into a statement: "... WHERE x = '" + value
  for (const line of text.split("\n")) {
    if (SQL.test(line) && /["'`]\s*\+\s*\w/.test(line) && /prepare|exec|#sql/.test(line)) {
      found.push(line.trim());
    }
  }
  return found;
}

Deno.test("SQL in lib/ and main.ts binds values instead of pasting them", () => {
  for (const file of [...sources(`${ROOT}/lib`), `${ROOT}/main.ts`]) {
    assert.deepEqual(pastedValues(Deno.readTextFileSync(file)), [], file);
  }
});

Deno.test("pastedValues() catches interpolation and concatenation", () => {
  const template = "db.prepare(`SELECT * FROM users WHERE name = '${name}'`).get();";
  assert.deepEqual(pastedValues(template), [
    "${name} in `SELECT * FROM users WHERE name = '${name}'`",
  ]);
  const concatenated = `db.exec("DELETE FROM rooms WHERE name = '" + room + "'");`;
  assert.equal(pastedValues(concatenated).length, 1);
  assert.deepEqual(pastedValues("db.prepare(`SELECT * FROM users WHERE name = ?`).get(name);"), []);
  assert.deepEqual(pastedValues("await this.sql`SELECT * FROM users WHERE name = ${name}`;"), []);
  assert.equal(
    pastedValues("await sql.unsafe(`SELECT * FROM users WHERE name = '${name}'`);").length,
    1,
  );
});
