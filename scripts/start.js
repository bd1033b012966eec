#!/usr/bin/env node
// @ts-check
// `npm start`: the desktop app. Electron's binary is fetched on first start, never by `npm install`;
// where it cannot be had (no network), the same UI is served in web mode instead of failing.
import { spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);

/** @returns {string | null} the Electron executable, or null when its binary is not installed. */
function electronExecutable() {
  try {
    // The electron package's main export is the binary's path; it throws while the binary is missing.
    return /** @type {string} */ (require("electron"));
  } catch {
    return null;
  }
}

/** @param {string} command @param {string[]} commandArgs */
function run(command, commandArgs) {
  const child = spawn(command, commandArgs, { stdio: "inherit", cwd: root });
  child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
  for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM"])) process.on(signal, () => child.kill(signal));
}

let electron = electronExecutable();
if (electron === null) {
  // Electron's own installer downloads the binary for this platform (about 100 MB, once).
  const installer = require.resolve("electron/install.js");
  const install = spawnSync(process.execPath, [installer], { stdio: ["ignore", "ignore", "pipe"], timeout: 10 * 60_000 });
  electron = install.status === 0 ? electronExecutable() : null;
}

if (electron === null) {
  console.log("Electron's binary could not be downloaded here, so BiLLa Desktop opens in web mode instead (same app, in your browser).");
  run(process.execPath, ["build/main/transports/web/web-host.js", ...args]);
} else {
  run(electron, [".", ...args]);
}
