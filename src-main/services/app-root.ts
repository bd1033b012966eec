import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The folder holding our package.json. Found by walking up from this module, because the module runs
 * from src-main (tests), build/main (web mode, CLI) or an asar archive (the packaged app), at different depths.
 */
function findAppRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "package.json");
    if (existsSync(candidate) && (JSON.parse(readFileSync(candidate, "utf8")) as { name?: string }).name === "billa-desktop") {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error("BiLLa Desktop's package.json was not found above its code; the installation is incomplete.");
    dir = parent;
  }
}

export const APP_ROOT = findAppRoot();
export const APP_VERSION: string = (JSON.parse(readFileSync(join(APP_ROOT, "package.json"), "utf8")) as { version: string }).version;
/** The renderer as Vite built it; web mode serves it and Electron loads it. */
export const RENDERER_DIR = join(APP_ROOT, "build", "renderer");
/**
 * The bundled demo model: BiLLa's release layout in miniature, plus its golden answers. The packaged app
 * ships it as an extra resource next to the asar archive (Electron's `process.resourcesPath`).
 */
const packagedResources = (process as { resourcesPath?: string }).resourcesPath;
const resource = (name: string) => (packagedResources !== undefined && existsSync(join(packagedResources, name)) ? join(packagedResources, name) : join(APP_ROOT, "resources", name));
export const DEMO_DIR = resource("demo");
/** The evaluation texts quality measurements use by default (resources/eval-texts, shipped next to the demo). */
export const EVAL_TEXTS_DIR = resource("eval-texts");
/** The demo's released checkpoint and its stand-in for Meta's original LLaMA file. */
export const DEMO_CHECKPOINT = {
  released: join(DEMO_DIR, "billa-demo"),
  originalLlama: join(DEMO_DIR, "llama-original", "consolidated.00.pth"),
};
