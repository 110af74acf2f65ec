// The logger factory: JSON lines, level words, bigints as exact decimal strings.

import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/base/logger.js";

function capture(): { lines: string[]; destination: { write(line: string): void } } {
  const lines: string[] = [];
  return { lines, destination: { write: (line: string) => void lines.push(line) } };
}

describe("createLogger", () => {
  it("writes one JSON object per line with the name, the level as a word and the message", () => {
    const { lines, destination } = capture();
    createLogger({ name: "unit", destination }).info({ address: "127.0.0.1:1" }, "listening");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      name: "unit",
      level: "info",
      msg: "listening",
      address: "127.0.0.1:1",
    });
  });

  it("writes bigints, nested too, as exact decimal strings", () => {
    const { lines, destination } = capture();
    const big = (1n << 63n) - 1n;
    createLogger({ name: "unit", destination }).info({ amount: big, nested: { ids: [1n, -2n] } }, "moved");
    expect(JSON.parse(lines[0]!)).toMatchObject({ amount: big.toString(), nested: { ids: ["1", "-2"] } });
  });

  it("drops lines below the level", () => {
    const { lines, destination } = capture();
    const logger = createLogger({ name: "unit", level: "warn", destination });
    logger.info("hidden");
    logger.warn("shown");
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(["shown"]);
  });
});
