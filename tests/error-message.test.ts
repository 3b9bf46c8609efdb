import { describe, expect, it } from "vitest";
import { firstLineOf, messageOf } from "../lib/error-message";

describe("messageOf", () => {
  it("gives an Error's own message, and anything else thrown as a string", () => {
    expect(messageOf(new TypeError("values[3] is NaN"))).toBe("values[3] is NaN");
    expect(messageOf("plain")).toBe("plain");
    expect(messageOf(404)).toBe("404");
    expect(messageOf(undefined)).toBe("undefined");
  });

  it("firstLineOf keeps an Error's first line only, and anything else whole", () => {
    expect(firstLineOf(new Error("Code: 60. Table missing\nStack trace:\n0. DB::Exception"))).toBe("Code: 60. Table missing");
    expect(firstLineOf("two\nlines")).toBe("two\nlines");
  });
});
