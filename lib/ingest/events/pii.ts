import { isIP } from "node:net";
import { UAParser } from "ua-parser-js";

/**
 * PII scrubbing of UI events before they reach ClickHouse (api.md, "Privacy").
 *
 * No well-kept PII library is installed and none may be added, so this is a
 * small set of anchored regular expressions, each tested in tests/pii.test.ts.
 * The bias is deliberate: over-redacting an odd string is cheaper than storing
 * one e-mail address. Every pattern is anchored with a look-behind so it starts
 * only at a token boundary, and no pattern has a nested unbounded repetition,
 * which keeps the scan linear on 16 KiB strings (tests/pii-linear.test.ts
 * checks that 16 KiB costs about 16 × 1 KiB on adversarial inputs).
 *
 * Not covered (stated, not forgotten): PII inside JSON numbers (a phone number
 * sent as a bare number is indistinguishable from an id), names and postal
 * addresses, MAC addresses, card numbers.
 */

export const MARKERS = {
  email: "[email]",
  ip: "[ip]",
  phone: "[phone]",
  token: "[token]",
  key: "[key]",
  secret: "[secret]",
} as const;

// ---------------------------------------------------------------------------
// User agent

/**
 * Families we keep (ua-parser-js 1.x, MIT; v2 is AGPL). Anything else becomes
 * "unknown", so a name the parser captured from the raw string can never
 * carry arbitrary text through.
 */
const KNOWN_BROWSERS = new Set<string>([
  "Chrome",
  "Chromium",
  "Chrome Headless",
  "Chrome WebView",
  "Mobile Chrome",
  "Firefox",
  "Mobile Firefox",
  "Safari",
  "Mobile Safari",
  "Edge",
  "Opera",
  "Opera Mobi",
  "Opera Mini",
  "Samsung Browser",
  "Brave",
  "Vivaldi",
  "Yandex",
  "UCBrowser",
  "Electron",
  "WebKit",
  "Android Browser",
  "Facebook",
  "Instagram",
  "DuckDuckGo",
  "Silk",
  "IE",
  "IEMobile",
  "OBS",
]);
const KNOWN_OSES = new Set<string>([
  "Windows",
  "Mac OS",
  "macOS",
  "iOS",
  "Android",
  "Linux",
  "Ubuntu",
  "Debian",
  "Fedora",
  "Chromium OS",
  "Chrome OS",
  "FreeBSD",
  "OpenBSD",
  "HarmonyOS",
  "Windows Phone",
  "Tizen",
  "KaiOS",
  "watchOS",
  "tvOS",
]);
const OS_ALIASES: Record<string, string> = { "Mac OS": "macOS", "Chromium OS": "ChromeOS", "Chrome OS": "ChromeOS" };
/** Longer strings are not user agents; ua-parser itself reads only the first 500 characters. */
const UA_PARSE_LIMIT = 512;

/**
 * "Chrome 131 / Windows": browser family + major version + OS family, nothing
 * else, and only from the families above.
 */
export function reduceUserAgent(userAgent: string | null | undefined): string {
  if (!userAgent || !userAgent.trim()) return "unknown";
  const input = userAgent.slice(0, UA_PARSE_LIMIT);
  // Parsing is ~30 µs and a batch carries a handful of distinct user agents: remember the last few hundred.
  const known = reducedAgents.get(input);
  if (known !== undefined) return known;
  const reduced = parseAndReduce(input);
  if (reducedAgents.size >= REDUCED_AGENTS_MAX) reducedAgents.clear();
  reducedAgents.set(input, reduced);
  return reduced;
}

/** Bounded memo of reduceUserAgent (process memory only; cleared whole when full). */
const REDUCED_AGENTS_MAX = 512;
const reducedAgents = new Map<string, string>();

function parseAndReduce(userAgent: string): string {
  const { browser, os } = new UAParser(userAgent).getResult();
  const browserName = browser.name && KNOWN_BROWSERS.has(browser.name) ? browser.name : undefined;
  const major = browser.major && /^\d{1,5}$/.test(browser.major) ? browser.major : undefined;
  const osName = os.name && KNOWN_OSES.has(os.name) ? (OS_ALIASES[os.name] ?? os.name) : undefined;
  if (!browserName && !osName) return "unknown";
  const browserPart = browserName ? [browserName, major].filter(Boolean).join(" ") : "unknown";
  return `${browserPart} / ${osName ?? "unknown"}`;
}

// ---------------------------------------------------------------------------
// Keys that name secrets

/**
 * Matched against the key lower-cased with separators removed, so `api_key`,
 * `apiKey`, `API-KEY` and `x-api-key` are all one case. Plain `key` is not a
 * secret here: UI events carry `{"key": "Enter"}`.
 */
const SECRET_KEY_PARTS =
  /pass(word|wd|phrase)|secret|token|authori[sz]ation|cookie|apikey|accesskey|privatekey|signingkey|encryptionkey|credential|bearer|jwt|csrf|xsrf|sessionkey/;
const SECRET_KEY_EXACT = new Set(["pwd", "pass", "auth", "sig", "signature", "otp", "pin"]);
/**
 * LLM token counts (`tokens_in`, `max_tokens`, `token_count`) are telemetry,
 * not credentials: kept when the value is a number.
 */
const TOKEN_COUNT_KEY = /tokens|token(count|usage|limit|len|length|budget)/;

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, "");
}

/** True for keys whose value must be dropped whatever it is (`password`, `Authorization`, `api-key`...). */
export function isSecretKey(key: string, value?: unknown): boolean {
  const k = normalizeKey(key);
  if (!k) return false;
  if (SECRET_KEY_EXACT.has(k)) return true;
  if (!SECRET_KEY_PARTS.test(k)) return false;
  const countOfLlmTokens = TOKEN_COUNT_KEY.test(k) && (typeof value === "number" || value === null);
  return !countOfLlmTokens || /pass|secret|auth|cookie|apikey|accesskey|privatekey|credential/.test(k);
}

// ---------------------------------------------------------------------------
// Free text

/**
 * Names of secrets inside text: `password=...`, `?access_token=...`, `"api_key": "..."`.
 * The name starts at a token boundary or after `_`/`-` (`db_password=`,
 * `x-api-key:`): the prefix (`db_`, `x-`) stays in the text as it was. It is
 * not part of the pattern: `(?:[A-Za-z0-9]+[_-])*` before the name made the
 * scan quadratic on `a_a_a_...` (every boundary re-read the rest of the run).
 */
const SECRET_NAME_IN_TEXT =
  "(?:pass(?:word|wd|phrase)?|pwd|secret|token|auth(?:orization)?|cookie|api[_-]?key|access[_-]?key|private[_-]?key|signature|sig|credentials?|session[_-]?key|jwt|csrf|xsrf)";

/**
 * What a pattern needs to find anything in a text, checked before it runs
 * (plain substring and character tests, linear and native): most strings in
 * UI metadata ("Enter", "overlay.open", a CSS selector) skip most patterns.
 * A prefilter may only skip texts in which the pattern cannot match.
 */
interface TextFacts {
  text: string;
  lower: string;
  digits: number;
}

function factsOf(text: string): TextFacts {
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
  }
  return { text, lower: text.toLowerCase(), digits };
}

const twoColons = (t: string) => {
  const first = t.indexOf(":");
  return first >= 0 && t.indexOf(":", first + 1) >= 0;
};

const PATTERNS: { name: string; needs: (f: TextFacts) => boolean; re: RegExp; replace: string | ((match: string, ...groups: string[]) => string) }[] = [
  // Blocks first: they contain characters later patterns would split on.
  {
    name: "private key block",
    needs: (f) => f.text.includes("-----BEGIN "),
    re: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
    replace: MARKERS.key,
  },
  // https://user:pass@host — before e-mail, which would otherwise eat "pass@host" and leave the user.
  {
    name: "url credentials",
    needs: (f) => f.text.includes("://") && f.text.includes("@"),
    re: /(?<![\w+.-])([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@:]+:[^\s/?#@]*@/gi,
    replace: (_m, scheme: string) => `${scheme}${MARKERS.secret}@`,
  },
  {
    name: "authorization header",
    needs: (f) => f.lower.includes("authorization"),
    re: /(?<![\w])((?:proxy-)?authorization"?\s*[:=]\s*"?)(?:(?:Basic|Digest|Token|Negotiate|NTLM|Bearer)\s+)?[^\s",;]+/gi,
    replace: (_m, head: string) => `${head}${MARKERS.token}`,
  },
  { name: "bearer token", needs: (f) => f.lower.includes("bearer"), re: /(?<![\w-])Bearer\s+[A-Za-z0-9\-._~+/]+=*/gi, replace: `Bearer ${MARKERS.token}` },
  {
    name: "jwt",
    needs: (f) => f.text.includes("eyJ"),
    re: /(?<![\w-])eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g,
    replace: MARKERS.token,
  },
  {
    name: "vendor api key",
    needs: (f) => f.text.length >= 14,
    re: new RegExp(
      "(?<![A-Za-z0-9_-])(?:" +
        [
          "sk-(?:proj-|ant-|svcacct-)?[A-Za-z0-9_-]{20,}", // OpenAI, Anthropic
          "(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{10,}", // Stripe
          "whsec_[A-Za-z0-9]{20,}", // Stripe webhook secret
          "gh[pousr]_[A-Za-z0-9]{30,}", // GitHub tokens
          "github_pat_[A-Za-z0-9_]{22,}", // GitHub fine-grained
          "glpat-[A-Za-z0-9_-]{20,}", // GitLab
          "(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}", // AWS access key ids
          "xox[abposr]-[A-Za-z0-9-]{10,}", // Slack
          "AIza[0-9A-Za-z_-]{35}", // Google
          "npm_[A-Za-z0-9]{36}", // npm
          "hf_[A-Za-z0-9]{30,}", // Hugging Face
          "SG\\.[A-Za-z0-9_-]{16,}\\.[A-Za-z0-9_-]{16,}", // SendGrid
          "dd[ap]_[A-Za-z0-9]{20,}", // Datadog (newer prefixed keys)
        ].join("|") +
        ")",
      "g",
    ),
    replace: MARKERS.key,
  },
  // password=hunter2, ?access_token=..., "api_key": "..." inside a string.
  {
    name: "secret-named parameter",
    needs: (f) => f.text.includes("=") || f.text.includes(":"),
    re: new RegExp(`(?<![A-Za-z0-9])(${SECRET_NAME_IN_TEXT}"?\\s*[:=]\\s*"?)(?!\\[)[^\\s"&,;#]+`, "gi"),
    replace: (_m, head: string) => `${head}${MARKERS.secret}`,
  },
  {
    name: "email",
    needs: (f) => f.text.includes("@"),
    re: /(?<![\p{L}\p{N}._%+'-])[\p{L}\p{N}._%+'-]+@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+\p{L}{2,63}(?![\p{L}\p{N}])/gu,
    replace: MARKERS.email,
  },
  // Bounded runs of one character class keep the scan linear; net.isIP decides.
  { name: "ipv6", needs: (f) => twoColons(f.text), re: /(?<![\w:.%])[0-9A-Fa-f:.]{2,46}(?:%[\w.-]{1,32})?(?![\w:.%])/g, replace: redactIpv6Candidate },
  { name: "ipv4", needs: (f) => f.digits >= 4 && f.text.includes("."), re: /(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w]|\.\d)/g, replace: redactIpv4Candidate },
  // +44 20 7946 0958, +1 (555) 123-4567, 0044 20..., +8613800138000
  {
    name: "international phone",
    needs: (f) => f.digits >= 7 && (f.text.includes("+") || f.text.includes("00")),
    re: /(?<![\w+])(?:\+|00(?=[1-9]))\d(?:[ .\-()]{0,2}\d){6,15}(?![\w]|[.-]\d)/g,
    replace: (candidate: string) =>
      // "00" without any separator is more often a zero-padded id than a phone number.
      candidate.startsWith("00") && /^\d+$/.test(candidate) ? candidate : phoneIfDigits(8, 15)(candidate),
  },
  { name: "tel uri", needs: (f) => f.lower.includes("tel:"), re: /(?<![\w])tel:[+\d][\d\-.() ]*\d/gi, replace: MARKERS.phone },
  // (555) 123-4567, 555-123-4567, 555.123.4567, 555 123 4567
  {
    name: "north american phone",
    needs: (f) => f.digits >= 10,
    re: /(?<![\w.+\-/])(?:\(\d{3}\)\s?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w]|[.-]\d)/g,
    replace: MARKERS.phone,
  },
  // National numbers with a trunk 0: 020 7946 0958, 07700 900123, (030) 1234567, 030/1234567, 01 23 45 67 89
  {
    name: "national phone",
    needs: (f) => f.digits >= 9 && f.text.includes("0"),
    re: /(?<![\w.+\-/])(?:\(0\d{1,4}\)\s?|0\d{1,4}[ .\-/])\d{2,8}(?:[ .-]\d{2,8}){0,3}(?![\w]|[.-]\d)/g,
    replace: nationalPhone,
  },
  // Hex ≥ 32 (API keys, secrets; a git sha is kept by key name, see scrubMetadata).
  { name: "long hex", needs: (f) => f.text.length >= 32, re: /(?<![A-Za-z0-9_+/=-])[0-9A-Fa-f]{32,}(?![A-Za-z0-9_+/=-])/g, replace: hexIfMixed },
  {
    name: "long base64",
    needs: (f) => f.text.length >= 32,
    re: /(?<![A-Za-z0-9_+/=-])[A-Za-z0-9_+/-]{32,}={0,2}(?![A-Za-z0-9_+/=-])/g,
    replace: base64IfRandom,
  },
];

function redactIpv6Candidate(candidate: string): string {
  if ((candidate.match(/:/g)?.length ?? 0) < 2) return candidate;
  if (isIP(candidate.split("%")[0]) === 6) return MARKERS.ip;
  // Trailing ':' or '.' is punctuation ("failed at fe80::1."), not part of the address.
  const trimmed = candidate.replace(/[.:]+$/, "");
  if (trimmed !== candidate && isIP(trimmed.split("%")[0]) === 6) return MARKERS.ip + candidate.slice(trimmed.length);
  return candidate;
}

function redactIpv4Candidate(candidate: string): string {
  if (isIP(candidate) !== 4) return candidate;
  // x.0.0.0 names a network (or Chrome's reduced "131.0.0.0" version), never a host.
  if (/\.0\.0\.0$/.test(candidate)) return candidate;
  return MARKERS.ip;
}

function phoneIfDigits(min: number, max: number) {
  return (candidate: string): string => {
    const digits = candidate.replace(/\D/g, "").length;
    return digits >= min && digits <= max ? MARKERS.phone : candidate;
  };
}

/** After the area code a number keeps one separator; "01.02.2026 12:34" mixes them and is a date. */
function nationalPhone(candidate: string): string {
  const afterAreaCode = candidate.replace(/^(?:\(0\d{1,4}\)\s?|0\d{1,4}[ .\-/])/, "");
  const separators = new Set(afterAreaCode.replace(/\d/g, ""));
  return separators.size <= 1 ? phoneIfDigits(9, 12)(candidate) : candidate;
}

function hexIfMixed(candidate: string): string {
  // All digits is a number, all letters is a word; a key has both.
  return /\d/.test(candidate) && /[A-Fa-f]/.test(candidate) ? MARKERS.key : candidate;
}

function shannonEntropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / s.length) * Math.log2(n / s.length);
  return bits;
}

/**
 * Random base64 mixes cases and digits all the way through; identifiers,
 * constants and URL paths of the same length do not.
 */
function base64IfRandom(candidate: string): string {
  const body = candidate.replace(/=+$/, "");
  if (!/\d/.test(body)) return candidate;
  // URL paths ("api/ingest/events/...") have plain lower-case words as segments.
  if (body.includes("/") && body.split("/").some((segment) => /^[a-z][a-z-]{2,}$/.test(segment))) return candidate;
  const upperOrDigit = (body.match(/[A-Z0-9]/g)?.length ?? 0) / body.length;
  const lower = (body.match(/[a-z]/g)?.length ?? 0) / body.length;
  const separators = (body.match(/[_-]/g)?.length ?? 0) / body.length;
  const looksRandom = upperOrDigit >= 0.3 && separators <= 0.1 && shannonEntropy(body) >= 4 && (lower >= 0.15 || upperOrDigit === 1);
  return looksRandom ? MARKERS.key : candidate;
}

/** Redacts e-mail and IP addresses, phone numbers, bearer tokens and API keys in one string. */
export function scrubText(text: string): string {
  // Nothing shorter than "::" (an IPv6 address) is redacted.
  if (text.length < 2) return text;
  let out = text;
  let facts: TextFacts | undefined;
  for (const { needs, re, replace } of PATTERNS) {
    facts ??= factsOf(out);
    if (!needs(facts)) continue;
    const next = typeof replace === "string" ? out.replace(re, replace) : out.replace(re, replace as (m: string, ...g: string[]) => string);
    // A replacement changed the text: the next prefilter looks at the new one.
    if (next !== out) facts = undefined;
    out = next;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Metadata

/** Git shas and content hashes under a key that says so are not secrets. */
const HASH_KEY = /sha|commit|hash|digest|checksum|etag/i;
const HASH_VALUE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

/**
 * A scrubbed copy of `metadata`: keys naming secrets dropped at any depth
 * (inside arrays too), strings — keys included — passed through scrubText.
 * Numbers, booleans and null are kept as they are.
 */
export function scrubMetadata(metadata: Record<string, unknown>): Record<string, unknown> {
  return scrubObject(metadata);
}

/**
 * What a key decides, whatever its value: metadata keys repeat from event to
 * event ("scene", "query_chars"), so the verdict is remembered (bounded).
 */
interface KeyVerdict {
  /** Dropped whatever the value. */
  secret: boolean;
  /** Dropped unless the value is a number or null (an LLM token count). */
  secretUnlessCount: boolean;
  hashKey: boolean;
  scrubbed: string;
}
const KEY_VERDICTS_MAX = 1_024;
const keyVerdicts = new Map<string, KeyVerdict>();

function keyVerdict(key: string): KeyVerdict {
  let verdict = keyVerdicts.get(key);
  if (verdict) return verdict;
  const always = isSecretKey(key, "text");
  const asCount = isSecretKey(key, 0);
  verdict = { secret: always && asCount, secretUnlessCount: always && !asCount, hashKey: HASH_KEY.test(key), scrubbed: scrubText(key) };
  if (keyVerdicts.size >= KEY_VERDICTS_MAX) keyVerdicts.clear();
  keyVerdicts.set(key, verdict);
  return verdict;
}

function scrubObject(object: Record<string, unknown>): Record<string, unknown> {
  const entries: [string, unknown][] = [];
  for (const key of Object.keys(object)) {
    const value = object[key];
    const verdict = keyVerdict(key);
    if (verdict.secret || (verdict.secretUnlessCount && typeof value !== "number" && value !== null)) continue;
    const keepHash = verdict.hashKey && typeof value === "string" && HASH_VALUE.test(value);
    entries.push([verdict.scrubbed, keepHash ? value : scrubValue(value)]);
  }
  // fromEntries defines own properties, so a "__proto__" key stays data.
  return Object.fromEntries(entries);
}

function scrubValue(value: unknown): unknown {
  if (typeof value === "string") return scrubText(value);
  if (Array.isArray(value)) return value.map(scrubValue);
  if (value !== null && typeof value === "object") return scrubObject(value as Record<string, unknown>);
  return value;
}
