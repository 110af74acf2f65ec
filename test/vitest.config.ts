import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: new URL("..", import.meta.url).pathname,
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: process-spawning suites are heavy, keep parallelism modest.
    maxWorkers: 2,
    reporters: ["default", "./test/tools/summary-reporter.ts"],
  },
});
