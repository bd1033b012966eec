import { svelte } from "@sveltejs/vite-plugin-svelte";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL("..", import.meta.url));

export default defineConfig({
  test: {
    root,
    // Tests run build/ output (web mode, the CLI, quantize workers, the preload, the renderer bundle): refuse a stale one.
    globalSetup: ["test/support/fresh-build.ts"],
    projects: [
      {
        // Real work (conversions, model loads, CLI processes) takes seconds, not milliseconds.
        test: { name: "node", include: ["test/unit/**/*.test.ts"], environment: "node", testTimeout: 60_000, hookTimeout: 60_000 },
      },
      {
        plugins: [svelte()],
        resolve: { conditions: ["browser"] },
        test: { name: "renderer", include: ["test/renderer/**/*.test.ts"], environment: "jsdom" },
      },
      {
        // Drives the built app in Debian's Chromium; each file gets its own data directory and server.
        test: { name: "e2e", include: ["test/e2e/**/*.test.ts"], environment: "node", testTimeout: 60_000, hookTimeout: 60_000 },
      },
    ],
  },
});
