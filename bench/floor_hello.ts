// A floor for start-up: the least a Deno program does before its first line.
console.log("hello from deno");
