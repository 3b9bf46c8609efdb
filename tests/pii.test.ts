import { describe, expect, it } from "vitest";
import { isSecretKey, reduceUserAgent, scrubMetadata, scrubText } from "../lib/ingest/events/pii";

describe("scrubText", () => {
  it.each([
    ["reach me at john.doe+muse@example.co.uk today", "reach me at [email] today"],
    ["Jörg.Müller@beispiel.de", "[email]"],
    ['{"to":"a_b-c@sub.mail.example.org"}', '{"to":"[email]"}'],
  ])("redacts e-mail addresses: %s", (input, expected) => {
    expect(scrubText(input)).toBe(expected);
  });

  it.each([
    ["client 192.168.1.10 connected", "client [ip] connected"],
    ["upstream 10.0.0.1:8080.", "upstream [ip]:8080."],
    ["http://203.0.113.7/path", "http://[ip]/path"],
  ])("redacts IPv4 addresses: %s", (input, expected) => {
    expect(scrubText(input)).toBe(expected);
  });

  it.each([
    ["from 2001:db8::8a2e:370:7334 ok", "from [ip] ok"],
    ["link-local fe80::1%eth0", "link-local [ip]"],
    ["[::1]:443", "[[ip]]:443"],
    ["mapped ::ffff:192.0.2.1.", "mapped [ip]."],
    ["full 2001:0db8:0000:0000:0000:ff00:0042:8329", "full [ip]"],
  ])("redacts IPv6 addresses: %s", (input, expected) => {
    expect(scrubText(input)).toBe(expected);
  });

  it.each([
    ["Authorization: Bearer abc.def-ghi_jkl", "Authorization: [token]"],
    ["sent Bearer mF_9.B5f-4.1JqM with the call", "sent Bearer [token] with the call"],
    ["authorization=Basic dXNlcjpwYXNzd29yZA==", "authorization=[token]"],
  ])("redacts bearer and authorization tokens: %s", (input, expected) => {
    expect(scrubText(input)).toBe(expected);
  });

  it.each([
    ["OpenAI", "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"],
    ["Anthropic", "sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345"],
    ["Stripe", "sk_live_51HqLyjWDarjtT1zdp7dc"],
    ["GitHub classic", "ghp_1234567890abcdefghijklmnopqrstuvwxyzAB"],
    ["GitHub OAuth", "gho_1234567890abcdefghijklmnopqrstuvwxyzAB"],
    ["GitHub fine-grained", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"],
    ["AWS access key id", "AKIAIOSFODNN7EXAMPLE"],
    ["AWS secret key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"],
    ["Slack bot", "xoxb-123456789012-1234567890123-abcdefghijklmnop"],
    ["Slack user", "xoxp-123456789012-abcdefghij"],
    ["Google", "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe"],
    ["long hex", "3f786850e387550fdab836ed7e6dc881de23001b4c1d0e2f"],
    ["long base64", "q8Zk3Lr0Vb9XyT2mW7pNc4Hs6Jd1Fg5AeRt0YuIo"],
  ])("redacts %s keys", (_vendor, key) => {
    const out = scrubText(`value ${key} end`);
    expect(out).not.toContain(key);
    expect(out).toMatch(/\[(key|token)\]/);
  });

  it("redacts JWTs", () => {
    const jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    expect(scrubText(`session ${jwt}`)).toBe("session [token]");
  });

  it("redacts private key blocks, URL credentials and secret-named parameters in text", () => {
    expect(scrubText("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----")).toBe("[key]");
    expect(scrubText("postgres://admin:hunter2@db.internal:5432/app")).toBe("postgres://[secret]@db.internal:5432/app");
    expect(scrubText("/cb?access_token=abc123&page=2")).toBe("/cb?access_token=[secret]&page=2");
    expect(scrubText("login failed password=hunter2 user=bob")).toBe("login failed password=[secret] user=bob");
    expect(scrubText('{"api_key": "zzz", "n": 1}')).toBe('{"api_key": "[secret]", "n": 1}');
  });

  it.each([
    "+1 (555) 123-4567",
    "+1-555-123-4567",
    "+44 20 7946 0958",
    "+44 (0)20 7946 0958",
    "+49 30 12345678",
    "+33 1 23 45 67 89",
    "+91 98765 43210",
    "+8613800138000",
    "0044 20 7946 0958",
    "(555) 123-4567",
    "555-123-4567",
    "555.123.4567",
    "555 123 4567",
    "020 7946 0958",
    "07700 900123",
    "(030) 1234567",
    "030/1234567",
    "0151 23456789",
    "01 23 45 67 89",
  ])("redacts the phone number %s", (phone) => {
    expect(scrubText(`call ${phone} now`)).toBe("call [phone] now");
  });

  it("redacts tel: links", () => {
    expect(scrubText("tel:+15551234567")).toBe("tel:[phone]");
  });

  it.each([
    "order 12345 shipped",
    "took 1532 ms",
    "ts 1700000000000",
    "epoch 1700000000",
    "at 2026-01-15T12:34:56.789Z",
    "on 01.02.2026 12:34",
    "on 2026-01-15",
    "at 12:34:56",
    "version 1.2.3",
    "v2.1.3.4",
    "Chrome/131.0.0.0 Safari/537.36",
    "Windows 10.0.19045.1234",
    "pi is 3.14159 or 0.123456789",
    "session 123e4567-e89b-12d3-a456-426614174000",
    "std::vector<int>",
    "handleUserProfileSettingsUpdateButtonClick",
    "/api/ingest/events/ComponentV2UserProfileSettingsPage",
    "ERROR_CODE_404_NOT_FOUND_IN_THE_API_LAYER",
    "item 0012345678",
    "author: Jane, tokens: 123",
    "Clicked the Settings button twice",
    "-12.5% vs +3.2%",
  ])("leaves non-PII intact: %s", (text) => {
    expect(scrubText(text)).toBe(text);
  });

  it("stays fast on long adversarial strings (linear patterns)", () => {
    const started = performance.now();
    for (const s of ["a:".repeat(8_000) + "g", "x".repeat(16_000) + "@", "aB3".repeat(5_000), "1 ".repeat(8_000), "+1".repeat(8_000), "0.".repeat(8_000)]) {
      scrubText(s);
    }
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe("isSecretKey", () => {
  it.each([
    "password",
    "Password",
    "passwd",
    "user_password",
    "token",
    "access_token",
    "sessionToken",
    "session_token",
    "refresh-token",
    "secret",
    "client_secret",
    "Authorization",
    "cookie",
    "Set-Cookie",
    "api_key",
    "apiKey",
    "API-KEY",
    "x-api-key",
    "apikey",
    "access_key",
    "AWS_ACCESS_KEY_ID",
    "private_key",
    "privateKey",
    "credentials",
    "pwd",
    "csrf",
  ])("drops %s", (key) => {
    expect(isSecretKey(key, "value")).toBe(true);
  });

  it.each(["key", "keyboard", "author", "session_id", "email_opt_in", "passes", "bypass", "tokens_in", "max_tokens", "token_count", "prompt_tokens"])(
    "keeps %s (with a number value)",
    (key) => {
      expect(isSecretKey(key, 42)).toBe(false);
    },
  );

  it("drops a token-count-looking key whose value is a string", () => {
    expect(isSecretKey("tokens", "abc123")).toBe(true);
  });
});

describe("scrubMetadata", () => {
  it("drops secret-named keys at any depth, inside arrays too", () => {
    const scrubbed = scrubMetadata({
      password: "hunter2",
      ok: "fine",
      nested: { deeper: { Authorization: "Bearer x", api_key: "k", kept: 1 } },
      list: [{ cookie: "c=1", name: "a" }, [{ session_token: "s" }], "plain"],
      tokens_in: 120,
      max_tokens: 256,
      key: "Enter",
    });
    expect(scrubbed).toEqual({
      ok: "fine",
      nested: { deeper: { kept: 1 } },
      list: [{ name: "a" }, [{}], "plain"],
      tokens_in: 120,
      max_tokens: 256,
      key: "Enter",
    });
  });

  it("scrubs strings in values, arrays and keys; keeps numbers, booleans and null", () => {
    const scrubbed = scrubMetadata({
      note: "mail bob@example.com from 10.1.2.3",
      phones: ["+44 20 7946 0958", "n/a"],
      "bob@example.com": true,
      count: 5551234567,
      flag: false,
      missing: null,
    });
    expect(scrubbed).toEqual({
      note: "mail [email] from [ip]",
      phones: ["[phone]", "n/a"],
      "[email]": true,
      count: 5551234567,
      flag: false,
      missing: null,
    });
  });

  it("keeps a git sha under a key that says so, redacts the same hex elsewhere", () => {
    const sha = "3f786850e387550fdab836ed7e6dc881de23001b";
    expect(scrubMetadata({ parent_sha: sha, blob: sha })).toEqual({ parent_sha: sha, blob: "[key]" });
  });

  it("keeps __proto__ as plain data", () => {
    const scrubbed = scrubMetadata(JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(scrubbed)).toBe(Object.prototype);
    expect(JSON.stringify(scrubbed)).toBe('{"__proto__":{"polluted":true},"a":1}');
  });
});

describe("reduceUserAgent", () => {
  it.each([
    ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome 131 / Windows"],
    ["Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox 133 / macOS"],
    ["Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox 128 / Linux"],
    ["Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "Safari 18 / macOS"],
    ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86", "Edge 131 / Windows"],
    [
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
      "Mobile Safari 17 / iOS",
    ],
    ["Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36", "Chrome 131 / Android"],
  ])("reduces %s", (ua, expected) => {
    expect(reduceUserAgent(ua)).toBe(expected);
  });

  it("drops device models and OS versions", () => {
    const reduced = reduceUserAgent(
      "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
    );
    expect(reduced).toBe("Chrome 131 / Android");
    expect(reduced).not.toMatch(/SM-S918B|14|6778/);
  });

  it.each(["", "   ", "curl/8.5.0", "garbage", "john@example.com"])("answers unknown for %j", (ua) => {
    expect(reduceUserAgent(ua)).toBe("unknown");
  });
});
