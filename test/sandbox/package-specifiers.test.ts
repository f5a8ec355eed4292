import { describe, expect, it } from "vitest";
import { allowedPackage, satisfies } from "../../src/packages/registry";
import { resolveSpecifier } from "../../src/sandbox/modules";

// Package specifiers as Workers, Node and Deno code writes them (API.md §13): `zod`,
// `npm:zod`, and Deno's pinned `npm:zod@3`, resolved against the bundled versions.

describe("satisfies (the version forms import specifiers use)", () => {
  const cases: Array<[string, string, boolean]> = [
    ["3.25.76", "3", true],
    ["3.25.76", "4", false],
    ["3.25.76", "3.25", true],
    ["3.25.76", "3.24", false],
    ["3.25.76", "3.x", true],
    ["3.25.76", "3.25.76", true],
    ["3.25.76", "3.25.75", false],
    ["3.25.76", "^3.20.0", true],
    ["3.25.76", "^3.26.0", false],
    ["3.25.76", "^4.0.0", false],
    ["0.9.1", "^0.9.0", true],
    ["0.9.1", "^0.8.0", false],
    ["3.25.76", "~3.25.0", true],
    ["3.25.76", "~3.24.0", false],
    ["3.25.76", ">=3", true],
    ["3.25.76", ">=4", false],
    ["3.25.76", "*", true],
    ["3.25.76", "latest", true],
    ["3.25.76", "next", false],
    ["3.25.76", "3 || 4", false],
  ];
  it.each(cases)("%s satisfies %s: %s", (version, range, expected) => {
    expect(satisfies(version, range)).toBe(expected);
  });
});

describe("package specifiers", () => {
  it("resolve bare, npm: and npm:<name>@<range> forms to the bundled package", () => {
    for (const specifier of ["zod", "npm:zod", "npm:zod@3", "npm:zod@^3.20.0", "npm:zod@*"]) expect(allowedPackage(specifier), specifier).toBe("zod");
    expect(resolveSpecifier("npm:zod@3")).toEqual({ kind: "package", name: "zod" });
  });

  it("refuse a range the bundled version is outside of, and subpaths, saying what to write", () => {
    expect(resolveSpecifier("npm:zod@4")).toMatch(/^cannot import "npm:zod@4": the platform bundles zod 3\.\d+\.\d+, which is not 4 \(import "npm:zod" or "zod"\)$/);
    expect(resolveSpecifier("lodash-es/debounce")).toBe('cannot import "lodash-es/debounce": import from the package itself ("lodash-es"); subpaths of allowed packages are not served');
    expect(resolveSpecifier("npm:lodash-es/debounce.js")).toMatch(/import from the package itself \("lodash-es"\)/);
    expect(resolveSpecifier("left-pad")).toMatch(/not an allowed package; allowed packages are/);
  });
});
