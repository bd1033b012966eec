import { svelte } from "@sveltejs/vite-plugin-svelte";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root: here,
  // Relative asset URLs: Electron loads the page from file://, web mode from http://127.0.0.1.
  base: "./",
  plugins: [svelte()],
  build: {
    outDir: fileURLToPath(new URL("../build/renderer", import.meta.url)),
    emptyOutDir: true,
    // No inline assets: the Content-Security-Policy allows scripts and styles from files only.
    assetsInlineLimit: 0,
  },
});
