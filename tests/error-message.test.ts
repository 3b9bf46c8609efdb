import { describe, expect, it } from "vitest";
import { messageOf } from "../lib/error-message";

describe("messageOf", () => {
  it("gives an Error's own message, and anything else thrown as a string", () => {
    expect(messageOf(new TypeError("values[3] is NaN"))).toBe("values[3] is NaN");
    expect(messageOf("plain")).toBe("plain");
    expect(messageOf(404)).toBe("404");
    expect(messageOf(undefined)).toBe("undefined");
  });
});
