import { describe, expect, it } from "vitest";
import { redactSecrets, secretForms } from "../../src/host/host-api";

/** `JSON.stringify` applied `times` times over. */
const json = (value: unknown, times: number): string => (times === 0 ? String(value) : json(JSON.stringify(value), times - 1));

describe("secret redaction in execution records (decisions: executions)", () => {
  const secret = 'pa"ss\\wo/rd-Z9x7 é';
  const table: Array<[string, string, Set<string>, string]> = [
    ["the value as it is", `key=${secret}.`, new Set([secret]), "key=[secret]."],
    ["JSON-escaped once (an object logged)", JSON.stringify({ s: secret }), new Set([secret]), '{"s":"[secret]"}'],
    ["JSON-escaped twice (JSON.stringify(JSON.stringify(s)) logged)", json(secret, 2), new Set([secret]), json("[secret]", 2)],
    ["JSON-escaped three times (the same returned as a result)", json(secret, 3), new Set([secret]), json("[secret]", 3)],
    ["JSON-escaped four times", json(secret, 4), new Set([secret]), json("[secret]", 4)],
    ["percent-encoded (in a logged URL)", `https://x.test/?k=${encodeURIComponent(secret)}&a=1`, new Set([secret]), "https://x.test/?k=[secret]&a=1"],
    ["form-encoded", new URLSearchParams({ k: secret }).toString(), new Set([secret]), "k=[secret]"],
    ["every occurrence", `${secret} ${secret}`, new Set([secret]), "[secret] [secret]"],
    ["a secret inside a longer one: the longer goes first", "abcdefgh-ijklmnop abcdefgh", new Set(["abcdefgh", "abcdefgh-ijklmnop"]), "[secret] [secret]"],
    ["8 characters are redacted", "token=12345678", new Set(["12345678"]), "token=[secret]"],
    ["fewer than 8 characters are left, so unrelated text stays whole", "the data is here", new Set(["data", "is here"]), "the data is here"],
    ["fewer than 8 characters, counted as characters, not UTF-16 units", "😀😀😀😀", new Set(["😀😀😀😀"]), "😀😀😀😀"],
    ["no secrets read", "anything", new Set(), "anything"],
  ];
  for (const [what, text, secrets, expected] of table) {
    it(what, () => {
      const redacted = redactSecrets(text, secrets);
      expect(redacted).toBe(expected);
      for (const s of secrets) if ([...s].length >= 8) expect(redacted).not.toContain(s);
    });
  }

  it("no JSON decoding of a record, up to four levels deep, finds the secret", () => {
    for (let levels = 1; levels <= 4; levels++) {
      let value: unknown = redactSecrets(json({ secret }, levels), new Set([secret]));
      for (let i = 0; i < levels; i++) {
        expect(value).not.toContain("Z9x7");
        value = JSON.parse(value as string);
      }
      expect(value).toEqual({ secret: "[secret]" });
    }
  });

  it("knows the forms of a secret without special characters as the value and its encodings", () => {
    expect(secretForms("plain-secret")).toEqual(["plain-secret"]);
    expect(secretForms("with space/x")).toEqual(["with space/x", "with%20space%2Fx", "with+space%2Fx"]);
  });
});
