import { describe, expect, it } from "vitest";
import { evaluate, newSandbox, thrown } from "./helpers";

/** Hex and bytes helpers defined inside the script. */
const HEX = `const hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s) => new Uint8Array(s.match(/../g).map((x) => parseInt(x, 16)));
const utf8 = (s) => new TextEncoder().encode(s);`;

describe("crypto.subtle: known-answer vectors (host-backed WebCrypto)", () => {
  const sandbox = newSandbox();

  it("digest: SHA-1/256/384/512 (FIPS 180 examples)", async () => {
    const result = await evaluate(
      sandbox,
      `${HEX}
      const out = {};
      for (const name of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"]) out[name] = hex(await crypto.subtle.digest(name, utf8("abc")));
      out.empty = hex(await crypto.subtle.digest({ name: "SHA-256" }, new ArrayBuffer(0)));
      out.long = hex(await crypto.subtle.digest("SHA-256", utf8("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")));
      out.view = hex(await crypto.subtle.digest("SHA-256", new DataView(utf8("xabcx").buffer, 1, 3)));
      return out;`,
    );
    expect(result).toEqual({
      "SHA-1": "a9993e364706816aba3e25717850c26c9cd0d89d",
      "SHA-256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
      "SHA-384": "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
      "SHA-512": "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
      empty: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      long: "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
      view: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    });
  });

  it("HMAC-SHA256 sign and verify (RFC 4231 test cases 1 and 2), raw and JWK keys", async () => {
    const result = await evaluate(
      sandbox,
      `${HEX}
      const algorithm = { name: "HMAC", hash: "SHA-256" };
      const k1 = await crypto.subtle.importKey("raw", new Uint8Array(20).fill(0x0b), algorithm, false, ["sign", "verify"]);
      const s1 = await crypto.subtle.sign("HMAC", k1, utf8("Hi There"));
      const k2 = await crypto.subtle.importKey("jwk", { kty: "oct", k: btoa("Jefe").replace(/=+$/, ""), alg: "HS256" }, algorithm, true, ["sign", "verify"]);
      const s2 = await crypto.subtle.sign("HMAC", k2, utf8("what do ya want for nothing?"));
      const tampered = new Uint8Array(s2.slice(0)); tampered[0] ^= 1;
      return {
        s1: hex(s1), s2: hex(s2),
        verifies: await crypto.subtle.verify("HMAC", k2, s2, utf8("what do ya want for nothing?")),
        rejects: await crypto.subtle.verify("HMAC", k2, tampered, utf8("what do ya want for nothing?")),
        key: [k1 instanceof CryptoKey, k1.type, k1.extractable, k1.algorithm.name, k1.algorithm.hash.name, k1.algorithm.length, k1.usages],
        jwk: (await crypto.subtle.exportKey("jwk", k2)).k,
      };`,
    );
    expect(result).toEqual({
      s1: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
      s2: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
      verifies: true,
      rejects: false,
      key: [true, "secret", false, "HMAC", "SHA-256", 160, ["sign", "verify"]],
      jwk: "SmVmZQ",
    });
  });

  it("Ed25519 verify (RFC 8032 tests 1 and 2)", async () => {
    const result = await evaluate(
      sandbox,
      `${HEX}
      const verify = async (publicKey, signature, message) => {
        const key = await crypto.subtle.importKey("raw", unhex(publicKey), { name: "Ed25519" }, false, ["verify"]);
        return crypto.subtle.verify("Ed25519", key, unhex(signature), message);
      };
      return [
        await verify("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
          "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b", new Uint8Array(0)),
        await verify("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
          "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00", unhex("72")),
        await verify("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
          "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00", unhex("73")),
      ];`,
    );
    expect(result).toEqual([true, true, false]);
  });

  it("ECDSA P-256 verify (a fixed vector, JWK and SPKI keys)", async () => {
    const result = await evaluate(
      sandbox,
      `${HEX}
      const message = utf8("iota: a fixed ECDSA P-256 vector");
      const signature = unhex("732c918776b298144c15a58ddc548bbb1b9f481644706c7032df8fe6534326ac536192262ff024a2faf3f9964d7a1d23a56703526756cabba2a1af458a283f40");
      const algorithm = { name: "ECDSA", namedCurve: "P-256" };
      const jwk = await crypto.subtle.importKey("jwk", { kty: "EC", crv: "P-256", x: "k9UkZmlQV4pC4kvzguhlqezjzLpGbi3y17Gyz6Oicd8", y: "vyJobG3shD-Epif2qvB5MdnN0rGw1pJRZ5TW6YZvc30" }, algorithm, true, ["verify"]);
      const spkiBytes = Uint8Array.from(atob("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEk9UkZmlQV4pC4kvzguhlqezjzLpGbi3y17Gyz6Oicd+/ImhsbeyEP4SmJ/aq8Hkx2c3SsbDWklFnlNbphm9zfQ=="), (c) => c.charCodeAt(0));
      const spki = await crypto.subtle.importKey("spki", spkiBytes, algorithm, false, ["verify"]);
      const signed = { name: "ECDSA", hash: "SHA-256" };
      return [
        await crypto.subtle.verify(signed, jwk, signature, message),
        await crypto.subtle.verify(signed, spki, signature, message),
        await crypto.subtle.verify(signed, spki, signature, utf8("something else")),
        jwk.algorithm.namedCurve, jwk.type,
      ];`,
    );
    expect(result).toEqual([true, true, false, "P-256", "public"]);
  });

  it("AES-GCM encrypt and decrypt (GCM spec test cases 2 and 3)", async () => {
    const result = await evaluate(
      sandbox,
      `${HEX}
      const run = async (key, iv, plain) => {
        const k = await crypto.subtle.importKey("raw", unhex(key), "AES-GCM", false, ["encrypt", "decrypt"]);
        const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv: unhex(iv) }, k, unhex(plain));
        const opened = await crypto.subtle.decrypt({ name: "AES-GCM", iv: unhex(iv) }, k, sealed);
        return [hex(sealed), hex(opened) === plain];
      };
      const k = await crypto.subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["decrypt"]);
      let tamper;
      try { await crypto.subtle.decrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, k, new Uint8Array(32)); } catch (e) { tamper = [e.name, e instanceof DOMException]; }
      return {
        two: await run("00000000000000000000000000000000", "000000000000000000000000", "00000000000000000000000000000000"),
        three: await run("feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
          "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"),
        tamper,
      };`,
    );
    expect(result).toEqual({
      two: ["0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf", true],
      three: [
        "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f59854d5c2af327cd64a62cf35abd2ba6fab4",
        true,
      ],
      tamper: ["OperationError", true],
    });
  });

  it("generateKey and exportKey where cheap (HMAC, AES, ECDSA, Ed25519); RSA generation is refused", async () => {
    const result = await evaluate(
      sandbox,
      `${HEX}
      const hmac = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
      const aes = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt"]);
      const ec = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
      const ed = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
      const signature = await crypto.subtle.sign("Ed25519", ed.privateKey, utf8("m"));
      let rsa;
      try { await crypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, false, ["sign"]); } catch (e) { rsa = e.name; }
      return {
        hmac: (await crypto.subtle.exportKey("raw", hmac)).byteLength,
        aes: (await crypto.subtle.exportKey("raw", aes)).byteLength,
        ec: [ec.publicKey.type, ec.privateKey.type, ec.privateKey.extractable],
        ed: await crypto.subtle.verify("Ed25519", ed.publicKey, signature, utf8("m")),
        edRaw: (await crypto.subtle.exportKey("raw", ed.publicKey)).byteLength,
        rsa,
      };`,
    );
    expect(result).toEqual({ hmac: 64, aes: 32, ec: ["public", "private", false], ed: true, edRaw: 32, rsa: "NotSupportedError" });
  });

  it("PBKDF2 and HKDF deriveBits (RFC 6070 test 2, RFC 5869 test 1)", async () => {
    const result = await evaluate(
      sandbox,
      `${HEX}
      const password = await crypto.subtle.importKey("raw", utf8("password"), "PBKDF2", false, ["deriveBits"]);
      const pbkdf2 = await crypto.subtle.deriveBits({ name: "PBKDF2", salt: utf8("salt"), iterations: 2, hash: "SHA-1" }, password, 160);
      const ikm = await crypto.subtle.importKey("raw", new Uint8Array(22).fill(0x0b), "HKDF", false, ["deriveBits"]);
      const hkdf = await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: unhex("000102030405060708090a0b0c"), info: unhex("f0f1f2f3f4f5f6f7f8f9") }, ikm, 42 * 8);
      return [hex(pbkdf2), hex(hkdf)];`,
    );
    expect(result).toEqual([
      "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957",
      "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
    ]);
  });

  it("timingSafeEqual compares buffers of the same length, as in Workers", async () => {
    const result = await evaluate(
      sandbox,
      `const a = new Uint8Array([1, 2, 3]);
      let mismatch;
      try { crypto.subtle.timingSafeEqual(a, new Uint8Array(2)); } catch (e) { mismatch = e.name; }
      return [crypto.subtle.timingSafeEqual(a, new Uint8Array([1, 2, 3])), crypto.subtle.timingSafeEqual(a.buffer, new Uint8Array([1, 2, 4])), mismatch];`,
    );
    expect(result).toEqual([true, false, "TypeError"]);
  });

  it("refuses bad input with the standard errors", async () => {
    expect(await thrown(sandbox, `await crypto.subtle.digest("SHA-999", new Uint8Array(1));`)).toEqual(["NotSupportedError", expect.any(String)]);
    expect((await thrown(sandbox, `await crypto.subtle.digest("SHA-256", "text");`))[0]).toBe("TypeError");
    expect((await thrown(sandbox, `await crypto.subtle.digest("SHA-256");`))[0]).toBe("TypeError");
    expect((await thrown(sandbox, `await crypto.subtle.sign("HMAC", { type: "secret" }, new Uint8Array(1));`))[0]).toBe("TypeError");
    expect((await thrown(sandbox, `await crypto.subtle.importKey("raw", new Uint8Array(1), { name: "HMAC", hash: "SHA-256" }, false, ["encrypt"]);`))[0]).toBe("SyntaxError");
    expect(await thrown(sandbox, `new CryptoKey();`)).toEqual(["TypeError", expect.stringContaining("Illegal constructor")]);
  });
});

describe("crypto: randomness from the host's CSPRNG", () => {
  const sandbox = newSandbox();

  it("getRandomValues fills integer typed arrays in place and answers the same array", async () => {
    const result = await evaluate(
      sandbox,
      `const a = new Uint8Array(64), b = new Uint32Array(16), c = new Int16Array(new ArrayBuffer(40), 8, 8);
      const same = crypto.getRandomValues(a) === a;
      crypto.getRandomValues(b); crypto.getRandomValues(c);
      const empty = crypto.getRandomValues(new Uint8Array(0)).length;
      return { same, zeros: a.filter((x) => x === 0).length, distinct: new Set(b).size, untouched: new Int16Array(c.buffer, 0, 4).every((x) => x === 0), empty };`,
    );
    expect(result.same).toBe(true);
    expect(result.zeros).toBeLessThan(10);
    expect(result.distinct).toBe(16);
    expect(result.untouched).toBe(true);
    expect(result.empty).toBe(0);
  });

  it("getRandomValues refuses more than 65 536 bytes with the QuotaExceededError DOMException, and float arrays", async () => {
    expect(await evaluate(sandbox, `return crypto.getRandomValues(new Uint8Array(65536)).length;`)).toBe(65536);
    const over = await evaluate(sandbox, `try { crypto.getRandomValues(new Uint8Array(65537)); } catch (e) { return [e.name, e.code, e instanceof DOMException, e instanceof iota.QuotaExceededError]; }`);
    expect(over).toEqual(["QuotaExceededError", 22, true, false]);
    expect(await thrown(sandbox, `crypto.getRandomValues(new Float64Array(2));`)).toEqual(["TypeMismatchError", expect.any(String)]);
    expect((await thrown(sandbox, `crypto.getRandomValues([1, 2]);`))[0]).toBe("TypeMismatchError");
  });

  it("randomUUID answers version 4 UUIDs", async () => {
    const uuids = (await evaluate(sandbox, `return Array.from({ length: 20 }, () => crypto.randomUUID());`)) as string[];
    for (const uuid of uuids) expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(uuids).size).toBe(20);
  });
});
