// The gateway's real randomness: ids from a pooled CSPRNG draw.

import { describe, expect, it } from "vitest";
import { randomIdPoolBytes } from "../../src/gateway/limits.js";
import { cryptoRandomU64 } from "../../src/gateway/system-deps.js";

describe("cryptoRandomU64", () => {
  it("gives distinct uint64 values across several pool refills, with high and low bits both used", () => {
    const draws = (randomIdPoolBytes / 8) * 5 + 3;
    const seen = new Set<bigint>();
    let orHigh = 0n;
    let orLow = 0n;
    for (let i = 0; i < draws; i++) {
      const v = cryptoRandomU64();
      expect(v >= 0n && v < 1n << 64n).toBe(true);
      seen.add(v);
      orHigh |= v >> 56n;
      orLow |= v & 0xffn;
    }
    // 64-bit collisions among a few thousand draws: probability ~1e-13.
    expect(seen.size).toBe(draws);
    expect(orHigh).toBe(0xffn);
    expect(orLow).toBe(0xffn);
  });
});
