#!/usr/bin/env node
// npm run build:llama: builds the threaded CPU llama.cpp (OpenMP, every CPU variant, no -march=native) from the
// source node-llama-cpp pins, into node_modules/node-llama-cpp/llama/localBuilds, where getLlama finds it by its
// options (src-main/services/runtime/threaded-build.ts) and electron-builder packs it. Linux, Windows (MSVC) and
// macOS (where it says why there is nothing to build). Takes 15–30 minutes on 2 cores; run it once.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const compiled = join(root, "build", "main", "services", "runtime", "threaded-build.js");
if (!existsSync(compiled)) {
  console.error("build/main is missing: run `npm run build` first (npm run build:llama does).");
  process.exit(1);
}
const { threadedBuildCmakeOptions, threadedBuildUnavailable } = await import(compiled);

const why = threadedBuildUnavailable(process.platform);
if (why !== null) {
  console.log(`No threaded build on this system: ${why}. The prebuilt binaries are used.`);
  process.exit(0);
}

const cli = join(root, "node_modules", "node-llama-cpp", "dist", "cli", "cli.js");
const env = { ...process.env, NODE_LLAMA_CPP_SKIP_DOWNLOAD: "true" };
for (const [key, value] of Object.entries(threadedBuildCmakeOptions(process.platform))) env[`NODE_LLAMA_CPP_CMAKE_OPTION_${key}`] = value;
const run = (...args) => {
  console.log(`> node-llama-cpp ${args.join(" ")}`);
  const result = spawnSync(process.execPath, [cli, ...args], { cwd: root, env, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
};
// The llama.cpp source comes from the git bundle inside node-llama-cpp's package: no network needed.
run("source", "download", "--skipBuild");
run("source", "build", "--gpu", "false", "--noUsageExample");
console.log("Threaded build ready. The app uses it on this computer's CPU from the next start (billa info says which binary runs).");
