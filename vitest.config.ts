import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**", "build/**", ".mfi/**", "applets/**/assembly/**"],
    testTimeout: 300_000,
    hookTimeout: 600_000,
    // Two cores: keep files from fighting over them (proving and anvil are CPU-heavy).
    fileParallelism: true,
    maxWorkers: 2,
  },
});
