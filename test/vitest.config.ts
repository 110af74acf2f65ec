import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: new URL("..", import.meta.url).pathname,
    include: ["test/**/*.test.ts"],
    // The processes tests start run the compiled code: build it first.
    globalSetup: ["./test/build-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: process-spawning suites are heavy, keep parallelism modest.
    maxWorkers: 2,
    reporters: ["default", "./test/tools/summary-reporter.ts"],
  },
});
