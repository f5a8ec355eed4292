import { describe, expect, it } from "vitest";
import { evaluate, newSandbox, thrown } from "./helpers";

const parts = `const parts = (u) => ({ href: u.href, origin: u.origin, protocol: u.protocol, username: u.username, password: u.password,
  host: u.host, hostname: u.hostname, port: u.port, pathname: u.pathname, search: u.search, hash: u.hash });`;

describe("URL (host-backed WHATWG parsing)", () => {
  const sandbox = newSandbox();

  it("parses every component", async () => {
    expect(await evaluate(sandbox, `${parts} return parts(new URL("https://user:pa%20ss@Example.COM:8443/a/./b/../c?x=1&y=%41#frag"));`)).toEqual({
      href: "https://user:pa%20ss@example.com:8443/a/c?x=1&y=%41#frag",
      origin: "https://example.com:8443",
      protocol: "https:",
      username: "user",
      password: "pa%20ss",
      host: "example.com:8443",
      hostname: "example.com",
      port: "8443",
      pathname: "/a/c",
      search: "?x=1&y=%41",
      hash: "#frag",
    });
  });

  it("applies IDNA to hosts, and keeps IPv4 and IPv6 hosts canonical", async () => {
    const result = await evaluate(
      sandbox,
      `return [
        new URL("http://münchen.de").href,
        new URL("https://BÜCHER.example/").hostname,
        new URL("http://[::1]:8080/").host,
        new URL("http://[::1]:8080/").hostname,
        new URL("http://[0:0:0:0:0:0:0:1]/").href,
        new URL("http://[::ffff:192.168.0.1]/").hostname,
        new URL("http://0x7f.1/").hostname,
        new URL("http://2130706433/").hostname,
        new URL("https://example.com:443/").href,
      ];`,
    );
    expect(result).toEqual([
      "http://xn--mnchen-3ya.de/",
      "xn--bcher-kva.example",
      "[::1]:8080",
      "[::1]",
      "http://[::1]/",
      "[::ffff:c0a8:1]",
      "127.0.0.1",
      "127.0.0.1",
      "https://example.com/",
    ]);
  });

  it("percent-encodes paths, queries and fragments as the standard says", async () => {
    const result = await evaluate(
      sandbox,
      `return [
        new URL("http://ex.com/a b/ü?c d&é=ü#e f").href,
        new URL("http://ex.com/?q='x'").search,
        new URL("foo://ex.com/?q='x'").search,
        new URL("http://ex.com/%7e/%zz").pathname,
        new URL("http://ex.com/\\uD800").pathname,
      ];`,
    );
    expect(result).toEqual(["http://ex.com/a%20b/%C3%BC?c%20d&%C3%A9=%C3%BC#e%20f", "?q=%27x%27", "?q='x'", "/%7e/%zz", "/%EF%BF%BD"]);
  });

  it("resolves relative references against a base", async () => {
    const result = await evaluate(
      sandbox,
      `const base = "https://ex.com/a/b/c?old#h";
      return ["../d?q", "d", "/root", "//other.org/x", "?new", "#frag", "", "https://abs.org/"].map((r) => new URL(r, base).href)
        .concat([new URL("x", new URL("http://ex.com/dir/")).href]);`,
    );
    expect(result).toEqual([
      "https://ex.com/a/d?q",
      "https://ex.com/a/b/d",
      "https://ex.com/root",
      "https://other.org/x",
      "https://ex.com/a/b/c?new",
      "https://ex.com/a/b/c?old#frag",
      "https://ex.com/a/b/c?old",
      "https://abs.org/",
      "http://ex.com/dir/x",
    ]);
  });

  it("throws a TypeError for an invalid URL; canParse and parse answer without throwing", async () => {
    for (const input of ["nope", "http://", "http://[::1", "https://ex ample.com", "http://a:99999/", "/relative"]) {
      expect(await thrown(sandbox, `new URL(${JSON.stringify(input)});`), input).toEqual(["TypeError", expect.stringContaining("Invalid URL")]);
    }
    expect(await evaluate(sandbox, `return [URL.canParse("x:"), URL.canParse("/x"), URL.canParse("/x", "http://a/"), URL.parse("nope"), URL.parse("/p", "http://a/").href];`)).toEqual([
      true,
      false,
      true,
      null,
      "http://a/p",
    ]);
    expect((await thrown(sandbox, `new URL();`))[0]).toBe("TypeError");
  });

  it("refuses a URL longer than 2 MiB without crossing to the host", async () => {
    expect(await thrown(sandbox, `new URL("http://ex.com/" + "a".repeat(3 * 1024 * 1024));`)).toEqual(["TypeError", expect.stringContaining("Invalid URL")]);
  });

  it("setters go through the host's parser", async () => {
    const result = await evaluate(
      sandbox,
      `const u = new URL("http://ex.com/p?a=1#x");
      u.protocol = "https"; u.port = "8080"; u.pathname = "a b"; u.hash = "y"; u.hostname = "münchen.de"; u.username = "me";
      const bad = new URL("http://ex.com/"); bad.port = "nope"; bad.protocol = "mailto";
      u.search = "b=2";
      return [u.href, u.searchParams.get("b"), bad.href, JSON.stringify({ u }), String(u) === u.href, u.toJSON() === u.href];`,
    );
    expect(result).toEqual(["https://me@xn--mnchen-3ya.de:8080/a%20b?b=2#y", "2", "http://ex.com/", '{"u":"https://me@xn--mnchen-3ya.de:8080/a%20b?b=2#y"}', true, true]);
    expect(await thrown(sandbox, `const u = new URL("http://a/"); u.href = "nope";`)).toEqual(["TypeError", expect.stringContaining("Invalid URL")]);
  });

  it("keeps searchParams and the URL in step", async () => {
    const result = await evaluate(
      sandbox,
      `const u = new URL("http://ex.com/?a=1&b=2");
      const p = u.searchParams;
      p.append("c", "x y&z");
      const afterAppend = u.href;
      p.delete("a");
      u.search = "?q=9";
      const afterSearch = [...p];
      p.delete("q");
      return [afterAppend, afterSearch, u.href, u.searchParams === p];`,
    );
    expect(result).toEqual(["http://ex.com/?a=1&b=2&c=x+y%26z", [["q", "9"]], "http://ex.com/", true]);
  });
});

describe("URLSearchParams (host-backed application/x-www-form-urlencoded)", () => {
  const sandbox = newSandbox();

  it("parses and serializes as the standard says", async () => {
    const result = await evaluate(
      sandbox,
      `const p = new URLSearchParams("?a=1&b=x+y&a=3&c=%zz&d=%C3%A9&e&=f");
      return {
        all: p.getAll("a"), b: p.get("b"), c: p.get("c"), d: p.get("d"), e: p.get("e"), empty: p.get(""), missing: p.get("z"), size: p.size,
        has: [p.has("a"), p.has("a", "3"), p.has("a", "2")],
        out: new URLSearchParams({ sp: "a b", tilde: "~*-._!'()", u: "é€", nl: "a\\nb" }).toString(),
        pairs: new URLSearchParams([["x", 1], ["y", true]]).toString(),
        copy: new URLSearchParams(new URLSearchParams("k=v")).toString(),
        lone: new URLSearchParams({ s: "\\uD800" }).toString(),
      };`,
    );
    expect(result).toEqual({
      all: ["1", "3"],
      b: "x y",
      c: "%zz",
      d: "é",
      e: "",
      empty: "f",
      missing: null,
      size: 7,
      has: [true, true, false],
      out: "sp=a+b&tilde=%7E*-._%21%27%28%29&u=%C3%A9%E2%82%AC&nl=a%0Ab",
      pairs: "x=1&y=true",
      copy: "k=v",
      lone: "s=%EF%BF%BD",
    });
  });

  it("set, delete, sort (stable) and iteration", async () => {
    const result = await evaluate(
      sandbox,
      `const p = new URLSearchParams("z=1&a=2&z=3&b=4&a=5");
      p.set("z", "9");
      const afterSet = p.toString();
      p.sort();
      const sorted = p.toString();
      p.delete("a", "5");
      const seen = [];
      p.forEach((value, key) => seen.push(key + "=" + value));
      return [afterSet, sorted, seen, [...p.keys()], [...p.values()], [...p.entries()].length];`,
    );
    expect(result).toEqual(["z=9&a=2&b=4&a=5", "a=2&a=5&b=4&z=9", ["a=2", "b=4", "z=9"], ["a", "b", "z"], ["2", "4", "9"], 3]);
  });

  it("refuses pairs that are not pairs", async () => {
    expect((await thrown(sandbox, `new URLSearchParams([["a", "b", "c"]]);`))[0]).toBe("TypeError");
    expect((await thrown(sandbox, `new URLSearchParams().append("a");`))[0]).toBe("TypeError");
  });
});
