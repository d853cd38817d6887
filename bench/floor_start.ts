// A floor for start-up of chatroom's shape: Node's compatibility layer (the
// terminal in raw mode through node:process), node:sqlite with the database
// open, then one line. Usage: floor_start.ts DB.
import process from "node:process";
import { DatabaseSync } from "node:sqlite";

const db = new DatabaseSync(Deno.args[0], { readOnly: true });
db.prepare("PRAGMA schema_version").get();
if (process.stdin.isTTY) process.stdin.setRawMode(true);
process.stdout.write("shape floor ready\r\n");
if (process.stdin.isTTY) process.stdin.setRawMode(false);
db.close();
