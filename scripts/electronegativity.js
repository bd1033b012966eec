#!/usr/bin/env node
// @ts-check
// Doyensec's Electronegativity over the Electron layer and the renderer's sources, offline. Fails (exit 1) on any
// finding above INFORMATIONAL that scripts/electronegativity-config.json does not justify, on a justification
// that matches no finding any more, and on a file it could not parse. test/unit/electronegativity.test.ts runs
// the same scan inside `npm test`.
//
//   node scripts/electronegativity.js [--output report.sarif|report.csv]
//
// The TypeScript sources are scanned rather than the build (Electronegativity's JS parser rejects the private
// class fields tsc and Vite emit); .cts files are scanned under a .ts name, since it skips other extensions.
// .svelte components are not scanned: Electronegativity cannot parse them.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const CONFIG_FILE = join(ROOT, "scripts", "electronegativity-config.json");
const SOURCE_EXTENSIONS = /\.(ts|cts|js|html)$/;

/**
 * @typedef {{ check: string, id: string, reason: string }} Exclusion
 * @typedef {{ id: string, file: string, sample: string, reason: string }} Justification
 * @typedef {{ scan: string[], excludedChecks: Exclusion[], justified: Justification[] }} Config
 * @typedef {{ id: string, severity: string, confidence: string, file: string, line: number, column: number, sample: string, description: string }} Finding
 * @typedef {{ findings: Finding[], unjustified: Finding[], stale: Justification[], parseErrors: { file: string, message: string }[], scanned: string[] }} ScanResult
 */

/** @returns {Config} */
export function loadConfig(file = CONFIG_FILE) {
  return JSON.parse(readFileSync(file, "utf8"));
}

/**
 * Electronegativity fetches translations (and, in one check, Electron's release list) with `got` on every run.
 * Its `got` is replaced by one that fails at once, so a scan never touches the network.
 * @param {string} packageDir
 */
function offlineGot(packageDir) {
  const requireFromPackage = createRequire(join(packageDir, "dist", "runner.js"));
  const gotPath = requireFromPackage.resolve("got");
  const stub = new Module(gotPath);
  stub.filename = gotPath;
  stub.loaded = true;
  const offline = () => Promise.reject(new Error("offline: BiLLa Desktop's scan makes no network requests"));
  stub.exports = Object.assign(offline, { head: offline, get: offline });
  requireFromPackage.cache[gotPath] = stub;
  return requireFromPackage;
}

/** Electronegativity reads only .js/.ts/.html (and package.json): a .cts file is staged as .cts.ts. */
const stagedName = (/** @type {string} */ file) => (file.endsWith(".cts") ? `${file}.ts` : file);
const originalName = (/** @type {string} */ file) => toPosix(file).replace(/\.cts\.ts$/, ".cts");

/**
 * Copies the configured sources into a scratch folder with the same layout (so findings name the real paths),
 * plus package.json, from which Electronegativity reads the Electron version.
 * @param {string} root @param {string[]} entries
 * @returns {{ dir: string, files: string[] }}
 */
function stageSources(root, entries) {
  const files = entries
    .flatMap((entry) =>
      statSync(join(root, entry)).isDirectory()
        ? readdirSync(join(root, entry), { recursive: true, withFileTypes: true })
            .filter((dirent) => dirent.isFile())
            .map((dirent) => relative(root, join(dirent.parentPath, dirent.name)))
        : [entry],
    )
    .map(toPosix)
    .filter((file) => SOURCE_EXTENSIONS.test(file))
    .sort();
  const dir = mkdtempSync(join(tmpdir(), "billa-electronegativity-"));
  for (const file of [...files, "package.json"]) {
    const target = join(dir, stagedName(file));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(join(root, file), target);
  }
  return { dir, files };
}

/** @param {string} path */
function toPosix(path) {
  return path.split(sep).join("/");
}

/**
 * @param {{ root?: string, config?: Config, output?: string }} [options]
 * @returns {Promise<ScanResult>}
 */
export async function scan({ root = ROOT, config = loadConfig(), output } = {}) {
  const packageDir = dirname(createRequire(import.meta.url).resolve("@doyensec/electronegativity/package.json"));
  const requireFromPackage = offlineGot(packageDir);
  /** @type {(options: object) => Promise<{ errors: { file: string, message: string, tolerable: boolean }[], issues: any[] }>} */
  const run = requireFromPackage(join(packageDir, "dist", "runner.js"));
  const staged = stageSources(root, config.scan);
  // Electronegativity prints progress and translation notes with console.log; only its result matters here.
  const log = console.log;
  console.log = () => {};
  let result;
  try {
    result = await run({
      input: staged.dir,
      isRelative: true,
      excludeFromScan: config.excludedChecks.map((exclusion) => exclusion.check),
      ...(output ? { output, isSarif: output.endsWith(".sarif") } : {}),
    });
  } finally {
    console.log = log;
    rmSync(staged.dir, { recursive: true, force: true });
  }

  /** @type {Finding[]} */
  const findings = result.issues.map((issue) => ({
    id: issue.id,
    severity: issue.severity.name,
    confidence: issue.confidence.name,
    file: originalName(issue.file),
    line: issue.location.line,
    column: issue.location.column,
    sample: String(issue.sample ?? ""),
    description: String(issue.description),
  }));
  /** @param {Justification} j @param {Finding} f */
  const covers = (j, f) => j.id === f.id && j.file === f.file && f.sample.includes(j.sample);
  const aboveInformational = findings.filter((finding) => finding.severity !== "INFORMATIONAL");
  return {
    findings,
    unjustified: aboveInformational.filter((finding) => !config.justified.some((justification) => covers(justification, finding))),
    stale: config.justified.filter((justification) => !findings.some((finding) => covers(justification, finding))),
    parseErrors: result.errors
      .filter((error) => !error.tolerable)
      .map((error) => ({ file: originalName(relative(staged.dir, error.file)), message: error.message })),
    scanned: staged.files,
  };
}

/** @param {ScanResult} result */
export function report(result) {
  const lines = [`Electronegativity: ${result.scanned.length} files, ${result.findings.length} findings.`];
  for (const f of result.unjustified) {
    lines.push(`  NOT JUSTIFIED ${f.id} (${f.severity}/${f.confidence}) ${f.file}:${f.line}:${f.column} ${f.sample.trim()}`, `    ${f.description}`);
  }
  for (const j of result.stale) lines.push(`  STALE JUSTIFICATION ${j.id} ${j.file} "${j.sample}": no such finding any more; remove it from the config.`);
  for (const e of result.parseErrors) lines.push(`  NOT PARSED ${e.file}: ${e.message}`);
  return lines.join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const output = process.argv[process.argv.indexOf("--output") + 1];
  const result = await scan(process.argv.includes("--output") && output ? { output } : {});
  console.log(report(result));
  const failed = result.unjustified.length + result.stale.length + result.parseErrors.length > 0;
  if (!failed) console.log("Nothing above INFORMATIONAL that the config does not justify.");
  process.exitCode = failed ? 1 : 0;
}
