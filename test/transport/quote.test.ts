// Bounded quoting of client and peer input in error messages (quote) and log fields (clip).

import { describe, expect, it } from "vitest";
import { quotedInputCharsMax } from "../../src/base/limits.js";
import { clip, quote } from "../../src/base/quote.js";

describe("quote", () => {
  it("JSON-quotes a text that fits whole", () => {
    expect(quote("shard-01")).toBe('"shard-01"');
    expect(quote('a"b\\c\n')).toBe('"a\\"b\\\\c\\n"');
    expect(quote("x".repeat(quotedInputCharsMax))).toBe(JSON.stringify("x".repeat(quotedInputCharsMax)));
  });

  it("cuts a longer text to the bound and says how much was cut", () => {
    expect(quote("x".repeat(100_000))).toBe(
      `"${"x".repeat(quotedInputCharsMax)}"... (${100_000 - quotedInputCharsMax} more characters)`,
    );
    expect(quote("abcdef", 4)).toBe('"abcd"... (2 more characters)');
  });

  it("counts escapes in the bound, so control characters cannot inflate the message", () => {
    const quoted = quote("\u0001".repeat(1_000), 12);
    expect(quoted).toBe(`"${"\\u0001".repeat(2)}"... (998 more characters)`);
  });

  it("never splits a surrogate pair or an escape", () => {
    expect(quote("ab😀cd", 3)).toBe('"ab"... (4 more characters)');
    expect(quote('a"b', 2)).toBe('"a"... (2 more characters)');
  });
});

describe("clip", () => {
  it("leaves a short text as it is and cuts a long one with a note", () => {
    expect(clip("n9")).toBe("n9");
    expect(clip("y".repeat(1_000), 10)).toBe(`${"y".repeat(10)}… (990 more characters)`);
    expect(clip("abcdefghi😀", 10)).toBe("abcdefghi… (2 more characters)");
  });
});
