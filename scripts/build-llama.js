#!/usr/bin/env node
// npm run build:llama: builds the threaded CPU llama.cpp (OpenMP, every CPU variant, no -march=native) from the
// source node-llama-cpp pins, into node_modules/node-llama-cpp/llama/localBuilds, where getLlama finds it by its
// options (src-main/services/runtime/threaded-build.ts) and electron-builder packs it. Linux, Windows (MSVC) and
// macOS (where it says why there is nothing to build). Takes 15–30 minutes on 2 cores; run it once.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const compiled = join(root, "build", "main", "services", "runtime", "threaded-build.js");
if (!existsSync(compiled)) {
  console.error("build/main is missing: run `npm run build` first (npm run build:llama does).");
  process.exit(1);
}
const { threadedBuildCmakeOptions, threadedBuildFolder, threadedBuildUnavailable } = await import(compiled);

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
if ((await threadedBuildFolder(process.platform, process.arch)) !== null && !process.argv.includes("--rebuild")) {
  console.log("A threaded build is already here (`npm run build:llama -- --rebuild` makes it again).");
} else {
  // The llama.cpp source comes from the git bundle inside node-llama-cpp's package: no network needed.
  run("source", "download", "--skipBuild");
  run("source", "build", "--gpu", "false", "--noUsageExample");
}

/**
 * The OpenMP runtime the build links against, from this machine's compiler: libgomp from GCC on Linux, vcomp140.dll
 * from the MSVC redistributable on Windows. It goes beside the binaries, where they look first ($ORIGIN on Linux,
 * the DLL's own folder on Windows), so the installers carry it and users need no compiler runtime installed.
 */
function openMpRuntime() {
  if (process.platform === "linux") {
    const path = execFileSync(process.env.CC ?? "gcc", ["-print-file-name=libgomp.so.1"], { encoding: "utf8" }).trim();
    return existsSync(path) ? path : null;
  }
  if (process.platform === "win32") {
    const redist = process.env.VCToolsRedistDir; // set in a Visual Studio developer prompt
    const folder = redist && join(redist, process.arch === "arm64" ? "arm64" : "x64");
    const openMp = folder && existsSync(folder) ? readdirSync(folder).find((name) => /^Microsoft\.VC\d+\.OpenMP$/.test(name)) : undefined;
    return openMp ? join(folder, openMp, "vcomp140.dll") : null;
  }
  return null;
}

const binaries = await threadedBuildFolder(process.platform, process.arch);
const runtime = openMpRuntime();
if (binaries === null) {
  console.error("The build finished but its binaries were not found under node-llama-cpp's local builds.");
  process.exit(1);
}
if (runtime === null) {
  console.warn("The OpenMP runtime was not found (libgomp.so.1 / vcomp140.dll); the installers will need it on users' computers.");
} else {
  copyFileSync(runtime, join(binaries, basename(runtime)));
  console.log(`Copied ${runtime} beside the binaries.`);
}
console.log("Threaded build ready. The app uses it on this computer's CPU from the next start (billa info says which binary runs).");
