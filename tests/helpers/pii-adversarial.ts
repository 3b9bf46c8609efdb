/**
 * Inputs that make a careless regular expression slow: runs of the
 * characters the PII patterns start, continue or end on. Each text ends with
 * what every pattern's prefilter looks for, so no pattern is skipped and the
 * regular expressions themselves are measured (tests/pii-linear.test.ts, the
 * ingest bench).
 */
export const ADVERSARIAL = [
  "a_",
  "a-",
  "1-",
  "pass_",
  "a.",
  "a@",
  "a@a.",
  "a:a@",
  "1 ",
  "1.",
  "0 ",
  "01 ",
  "00 ",
  "0/",
  "(0) ",
  "+1 ",
  ":",
  "1:",
  "f:f.",
  "a",
  "aA1",
  "eyJa.",
  "Bearer ",
  "tel:1 ",
  "password=",
  "a://a:",
  "authorization: ",
  "-----BEGIN A PRIVATE KEY-----",
  "a%",
  "1.1.1.1.",
];

export const TRIGGERS = " = : :: @ + 00 0123456789 -----BEGIN eyJ tel: bearer authorization :// ";

/** `unit` repeated to `bytes` characters, ending with TRIGGERS. */
export const adversarialText = (unit: string, bytes: number) => unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes - TRIGGERS.length) + TRIGGERS;
