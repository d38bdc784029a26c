/**
 * The admin log's Action column speaks words, not action names: every action the fleet writes
 * to its admin log, found by reading the fleet's sources, has English words and a German entry.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { dashboardDir } from "../../src/routes/dashboard.js";

const dir = dashboardDir();
const fleetSrc = join(dir, "..");
const load = async <T>(name: string): Promise<T> =>
  (await import(/* @vite-ignore */ join(dir, name))) as T;

const ACTION = /"([a-z][A-Za-z]*(?:\.[A-Za-z]+)+)"/g;

/**
 * Action names by the file that writes them. The fleet writes them in these ways: `action: "…"`
 * in an append (a ternary included), a service's own log helper called with the actor first,
 * a rollout transition naming its action last, a prefix and a typed union of verbs, and the
 * guards that write `<action>.refused`.
 */
function actionsInSources(): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  const add = (action: string | undefined, file: string) => {
    if (action === undefined) return;
    found.set(file, (found.get(file) ?? new Set()).add(action));
  };
  const files = readdirSync(fleetSrc, { recursive: true, encoding: "utf8" }).filter(
    (name) => name.endsWith(".ts") && !name.startsWith("dashboard"),
  );
  for (const file of files) {
    const source = readFileSync(join(fleetSrc, file), "utf8");
    for (const m of source.matchAll(/\baction:\s*([^,\n]+)/g))
      for (const literal of (m[1] ?? "").matchAll(ACTION)) add(literal[1], file);
    for (const m of source.matchAll(/\bthis\.(?:#log|#ctx\.log|log)\(\s*[\w."]+,\s*"([\w.]+)"/g))
      add(m[1], file);
    // `action: \`person.${action}\``, the variable typed by a union of literals in the same file
    for (const m of source.matchAll(/\baction:\s*`([\w.]+)\.\$\{(\w+)\}`/g)) {
      const type = source.match(new RegExp(`\\b${m[2]}:\\s*(\\w+)`))?.[1];
      const union = type && source.match(new RegExp(`type ${type}\\s*=([^;]+);`))?.[1];
      for (const literal of (union ?? "").matchAll(/"(\w+)"/g)) add(`${m[1]}.${literal[1]}`, file);
    }
    for (const m of source.matchAll(/#transition\([^;]*?"([\w.]+)"\s*,?\s*\)/g)) add(m[1], file);
    for (const m of source.matchAll(
      /(?:authorizeAudited|#checkDecider|#refused)\(\s*(?:[\w.]+,\s*){0,2}"([\w.]+)"/g,
    ))
      add(`${m[1]}.refused`, file);
  }
  return found;
}

let words: Record<string, string>;
let german: Record<string, string>;
let found: Map<string, Set<string>>;
beforeAll(async () => {
  words = (await load<{ ADMIN_LOG_WORDS: Record<string, string> }>("words.js")).ADMIN_LOG_WORDS;
  german = (await load<{ GERMAN: Record<string, string> }>("i18n-de.js")).GERMAN;
  found = actionsInSources();
});

describe("admin log actions in words", () => {
  it("the sources are read: every file that writes to the admin log yields its actions", () => {
    const writers = readdirSync(fleetSrc, { recursive: true, encoding: "utf8" }).filter((name) => {
      if (!name.endsWith(".ts") || name.startsWith("dashboard")) return false;
      return /adminLog\.append\(|authorizeAudited\(\s*"/.test(
        readFileSync(join(fleetSrc, name), "utf8"),
      );
    });
    // the decorator that writes `<action>.refused` for its callers names no action itself
    const silent = writers.filter((file) => !found.has(file) && !file.endsWith("core-plugin.ts"));
    expect(silent, "files writing to the admin log whose actions were not found").toEqual([]);
    expect(found.get(join("windows", "interrupted-approvals.ts"))).toContain(
      "window.approve.withdrawn",
    );
    expect(found.get(join("routes", "people.ts"))).toContain("person.create");
  });

  it("every action the fleet writes has English words and a German entry", () => {
    const actions = new Set([...found.values()].flatMap((set) => [...set]));
    expect(actions.size).toBeGreaterThan(90);
    const missing = [...actions].filter((action) => words[action] === undefined).sort();
    expect(missing).toEqual([]);
    const untranslated = [...actions]
      .map((action) => words[action] as string)
      .filter((text) => german[text] === undefined);
    expect(untranslated).toEqual([]);
  });
});
