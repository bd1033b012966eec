// Many tests run the compiled build/ rather than the sources: web mode and the `billa` CLI as child processes,
// the quantize workers every conversion starts (worker threads cannot run TypeScript), the compiled preload, and
// the renderer bundle web mode serves to Chromium. `npm test` builds first; `npx vitest` does not. So before any
// test runs (the vitest config's globalSetup), the build must be newer than every source it is made from.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { APP_ROOT } from "../../src-main/services/app-root.js";

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** What is missing or older than its sources in `root`'s build/, as sentences; empty when the build is fresh. */
export function staleBuildOutputs(root: string): string[] {
  const shown = (path: string) => relative(root, path).split(sep).join("/");
  const problems: string[] = [];

  // tsc -p src-main: each src-main/**/*.ts (.cts) becomes build/main/**/*.js (.cjs).
  for (const source of filesUnder(join(root, "src-main")).filter((file) => /(?<!\.d)\.c?ts$/.test(file))) {
    const output = join(root, "build", "main", relative(join(root, "src-main"), source)).replace(/\.ts$/, ".js").replace(/\.cts$/, ".cjs");
    if (!existsSync(output)) problems.push(`${shown(output)} is missing (from ${shown(source)})`);
    else if (statSync(output).mtimeMs < statSync(source).mtimeMs) problems.push(`${shown(output)} is older than ${shown(source)}`);
  }

  // vite build: one bundle from src-renderer and the contract it imports, rewritten whole each time.
  const bundle = filesUnder(join(root, "build", "renderer"));
  const bundleSources = [...filesUnder(join(root, "src-renderer")), ...filesUnder(join(root, "src-main", "contract"))];
  if (!bundle.some((file) => file.endsWith(`${sep}index.html`))) {
    problems.push("build/renderer/index.html is missing");
  } else {
    const oldest = Math.min(...bundle.map((file) => statSync(file).mtimeMs));
    for (const source of bundleSources) {
      if (statSync(source).mtimeMs > oldest) problems.push(`build/renderer is older than ${shown(source)}`);
    }
  }
  return problems;
}

/** vitest globalSetup: refuses to run the tests on a build that is missing or older than its sources. */
export default function refuseStaleBuild(): void {
  const problems = staleBuildOutputs(APP_ROOT);
  if (problems.length === 0) return;
  const listed = problems.slice(0, 5).map((problem) => `  ${problem}`);
  if (problems.length > 5) listed.push(`  …and ${problems.length - 5} more`);
  throw new Error(`The compiled build in build/ is not the current source, and tests run it:\n${listed.join("\n")}\nRun \`npm run build\` first (\`npm test\` does).`);
}
