/**
 * The allowed packages as the platform serves them (API.md §13): by the name a script
 * imports, with their version, export names and bundled source (bundled.ts, generated
 * from allowed.ts). Pure data: no Workers types, used by the sandbox and the API alike.
 */
import { BUNDLED_PACKAGES } from "./bundled";

export interface PackageInfo {
  name: string;
  version: string;
}

/** The allowed packages, sorted by name. */
export const PACKAGES: readonly PackageInfo[] = Object.entries(BUNDLED_PACKAGES)
  .map(([name, { version }]) => ({ name, version }))
  .sort((a, b) => a.name.localeCompare(b.name));

const EXPORTS = new Map(Object.entries(BUNDLED_PACKAGES).map(([name, { exports }]) => [name, new Set(exports)]));

/**
 * `zod`, `npm:zod` and `npm:zod@3` (Deno's pinned form) name the package `zod`; answers the
 * package's name, or null when the specifier names no allowed package. A version range the
 * bundled version does not satisfy names none (`packageVersionMismatch` says why).
 */
export function allowedPackage(specifier: string): string | null {
  const parsed = parseSpecifier(specifier);
  if (!parsed || !Object.hasOwn(BUNDLED_PACKAGES, parsed.name)) return null;
  return parsed.range === null || satisfies(BUNDLED_PACKAGES[parsed.name]!.version, parsed.range) ? parsed.name : null;
}

/** For `npm:<name>@<range>` of an allowed package whose bundled version is outside the range: why it cannot be imported. */
export function packageVersionMismatch(specifier: string): string | null {
  const parsed = parseSpecifier(specifier);
  if (!parsed || parsed.range === null || !Object.hasOwn(BUNDLED_PACKAGES, parsed.name)) return null;
  const version = BUNDLED_PACKAGES[parsed.name]!.version;
  return satisfies(version, parsed.range) ? null : `the platform bundles ${parsed.name} ${version}, which is not ${parsed.range} (import "npm:${parsed.name}" or "${parsed.name}")`;
}

/** `name`, `npm:name`, `npm:name@range` (scoped names too) → name and range; null for anything else with an `@` version. */
function parseSpecifier(specifier: string): { name: string; range: string | null } | null {
  if (!specifier.startsWith("npm:")) return { name: specifier, range: null };
  const rest = specifier.slice(4);
  const at = rest.indexOf("@", rest.startsWith("@") ? 1 : 0);
  if (at < 0) return { name: rest, range: null };
  const range = rest.slice(at + 1);
  return range === "" ? null : { name: rest.slice(0, at), range };
}

/**
 * Whether `version` (x.y.z) satisfies `range`, for the forms import specifiers use: `*`,
 * `latest`, `3`, `3.25`, `3.x`, `3.25.76`, `^3.25.0`, `~3.25.0`, `>=3`. Anything else: no.
 */
export function satisfies(version: string, range: string): boolean {
  const [major, minor, patch] = version.split(".").map(Number) as [number, number, number];
  const r = range.trim();
  if (r === "*" || r === "latest" || r === "x") return true;
  const m = /^(\^|~|>=)?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?$/.exec(r);
  if (!m) return false;
  const [, op, a, b, c] = m;
  const want = [Number(a), b === undefined || b === "x" || b === "*" ? null : Number(b), c === undefined || c === "x" || c === "*" ? null : Number(c)] as const;
  const cmp = (x: number, y: number, z: number) => major - x || minor - y || patch - z;
  if (op === ">=") return cmp(want[0], want[1] ?? 0, want[2] ?? 0) >= 0;
  if (op === "^") {
    if (major !== want[0] || cmp(want[0], want[1] ?? 0, want[2] ?? 0) < 0) return false;
    return want[0] !== 0 || want[1] === null || minor === want[1];
  }
  if (op === "~") return major === want[0] && (want[1] === null || minor === want[1]) && cmp(want[0], want[1] ?? 0, want[2] ?? 0) >= 0;
  return major === want[0] && (want[1] === null || minor === want[1]) && (want[2] === null || patch === want[2]);
}

/** Whether package `name` exports `exported`. */
export function packageExports(name: string, exported: string): boolean {
  return EXPORTS.get(name)?.has(exported) ?? false;
}

/**
 * Whether the package is evaluated afresh in every execution (its module's default export
 * evaluates it and answers its exports) rather than once per realm and frozen.
 */
export function packageRunsPerExecution(name: string): boolean {
  return Object.hasOwn(BUNDLED_PACKAGES, name) && BUNDLED_PACKAGES[name]!.perExecution === true;
}

/** The bundled ES module of an allowed package. */
export function packageSource(name: string): string | undefined {
  return Object.hasOwn(BUNDLED_PACKAGES, name) ? BUNDLED_PACKAGES[name]!.source : undefined;
}

/** "a, b and c": the allowed names, for messages. */
export function allowedPackageList(): string {
  return PACKAGES.map((p) => p.name).join(", ");
}
