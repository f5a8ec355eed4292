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

/** `zod` and `npm:zod` name the package `zod`; answers the package's name, or null when the specifier names no allowed package. */
export function allowedPackage(specifier: string): string | null {
  const name = specifier.startsWith("npm:") ? specifier.slice(4) : specifier;
  return Object.hasOwn(BUNDLED_PACKAGES, name) ? name : null;
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
