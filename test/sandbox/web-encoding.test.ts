import { describe, expect, it } from "vitest";
import { evaluate, newSandbox, thrown } from "./helpers";

describe("TextEncoder and TextDecoder (host-backed)", () => {
  const sandbox = newSandbox();

  it("encodes UTF-8, a lone surrogate as U+FFFD", async () => {
    const result = await evaluate(
      sandbox,
      `const e = new TextEncoder();
      return [e.encoding, [...e.encode("")], [...e.encode("A€")], [...e.encode("😀")], [...e.encode("\\uD800x")], [...e.encode()], e.encode("é") instanceof Uint8Array];`,
    );
    expect(result).toEqual(["utf-8", [], [65, 226, 130, 172], [240, 159, 152, 128], [239, 191, 189, 120], [], true]);
  });

  it("encodeInto writes only whole characters", async () => {
    const result = await evaluate(
      sandbox,
      `const target = new Uint8Array(5);
      const r = new TextEncoder().encodeInto("a€€", target);
      return [r.read, r.written, [...target]];`,
    );
    expect(result).toEqual([2, 4, [97, 226, 130, 172, 0]]);
  });

  it("decodes UTF-8: BOM stripped, invalid bytes as U+FFFD, fatal throws a TypeError", async () => {
    const result = await evaluate(
      sandbox,
      `const bytes = (a) => new Uint8Array(a);
      const d = new TextDecoder();
      let fatal;
      try { new TextDecoder("utf-8", { fatal: true }).decode(bytes([0x61, 0xff])); } catch (e) { fatal = e.name; }
      return {
        bom: d.decode(bytes([0xef, 0xbb, 0xbf, 0x68, 0x69])),
        kept: new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes([0xef, 0xbb, 0xbf, 0x68])).length,
        invalid: d.decode(bytes([0x68, 0xff, 0x69, 0xc3])),
        fatal,
        empty: d.decode(),
        view: d.decode(new DataView(bytes([0x20, 0xc3, 0xa9, 0x20]).buffer, 1, 2)),
        buffer: d.decode(bytes([0xe2, 0x82, 0xac]).buffer),
        flags: [d.encoding, d.fatal, d.ignoreBOM, new TextDecoder("UTF8", { fatal: true }).fatal],
      };`,
    );
    expect(result).toEqual({ bom: "hi", kept: 2, invalid: "h\uFFFDi\uFFFD", fatal: "TypeError", empty: "", view: "é", buffer: "€", flags: ["utf-8", false, false, true] });
  });

  it("streams across chunks, and knows other labels", async () => {
    const result = await evaluate(
      sandbox,
      `const d = new TextDecoder();
      const euro = new Uint8Array([0xe2, 0x82, 0xac]);
      const streamed = d.decode(euro.subarray(0, 1), { stream: true }) + d.decode(euro.subarray(1, 2), { stream: true }) + d.decode(euro.subarray(2));
      const cut = d.decode(euro.subarray(0, 2), { stream: true }) + d.decode();
      const utf16 = new TextDecoder("utf-16le");
      return [streamed, cut, utf16.encoding, utf16.decode(new Uint8Array([0x68, 0, 0x69, 0]))];`,
    );
    expect(result).toEqual(["€", "\uFFFD", "utf-16le", "hi"]);
    expect(await thrown(sandbox, `new TextDecoder("no-such-encoding");`)).toEqual(["RangeError", expect.any(String)]);
    expect((await thrown(sandbox, `new TextDecoder().decode("text");`))[0]).toBe("TypeError");
  });
});

describe("large text crosses exactly (plain strings, not JSON, for well-formed text without NUL)", () => {
  const sandbox = newSandbox();

  it("round-trips 200 000 characters of ASCII, of multi-byte text, with lone surrogates, and with NUL", async () => {
    const result = await evaluate(
      sandbox,
      `const roundTrip = (text) => new TextDecoder().decode(new TextEncoder().encode(text));
      const ascii = "abc".repeat(70000), multi = "é€😀".repeat(50000), lone = "a\uD800".repeat(100000), nul = "a\0".repeat(100000);
      const bytes = new TextEncoder().encode(multi);
      return [roundTrip(ascii) === ascii, roundTrip(multi) === multi, roundTrip(lone) === "a\uFFFD".repeat(100000), roundTrip(nul) === nul,
        bytes.length, atob(btoa("\xff\x00".repeat(100000))) === "\xff\x00".repeat(100000), (await new Response(multi).text()) === multi];`,
      { limits: { outputBytes: 2 * 1024 * 1024 } },
    );
    expect(result).toEqual([true, true, true, true, 50000 * (2 + 3 + 4), true, true]);
  });
});

describe("atob and btoa (host-backed)", () => {
  const sandbox = newSandbox();

  it("round-trips binary strings, forgiving whitespace and missing padding", async () => {
    const result = await evaluate(
      sandbox,
      `return [btoa("hello"), btoa(""), btoa("\\xe9\\xff"), atob("aGVsbG8="), atob("aGVsbG8"), atob(" aG Vs\\nbG8= "), atob("").length, btoa(undefined)];`,
    );
    expect(result).toEqual(["aGVsbG8=", "", "6f8=", "hello", "hello", "hello", 0, "dW5kZWZpbmVk"]);
  });

  it("throws the InvalidCharacterError DOMException for what is not base64 or not Latin-1", async () => {
    for (const call of [`btoa("€")`, `atob("***")`, `atob("a")`, `atob("aGVsbG8==x")`]) {
      const result = await evaluate(sandbox, `try { ${call}; return "no error"; } catch (e) { return [e.name, e.code, e instanceof DOMException, e instanceof Error]; }`);
      expect(result, call).toEqual(["InvalidCharacterError", 5, true, true]);
    }
    expect((await thrown(sandbox, `atob();`))[0]).toBe("TypeError");
  });
});
