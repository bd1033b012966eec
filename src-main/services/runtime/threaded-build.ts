import { readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LlamaOptions } from "node-llama-cpp";

// The threaded CPU build of llama.cpp that `npm run build:llama` makes and the runtime prefers. node-llama-cpp's
// prebuilt CPU binaries are built without OpenMP, and its addon attaches no ggml threadpool, so ggml starts and
// joins its worker threads for every decoded token: with 2 threads that is slower than with 1. A build with OpenMP
// keeps its threads alive between tokens, as llama.cpp's own release builds do.
//
// The options are node-llama-cpp's CPU defaults for a portable build (no -march=native: it would crash on other
// CPUs; every CPU variant, chosen at load time through the backend loader) with OpenMP turned on. node-llama-cpp
// names a local build's folder after its options, so the build script and the runtime must use exactly these.

/** Why there is no threaded build for a platform; null where there is one. */
export function threadedBuildUnavailable(platform: NodeJS.Platform): string | null {
  // Apple's clang has no OpenMP, and on a Mac Metal does the work: the prebuilt Metal binary is what runs there.
  if (platform === "darwin") return "macOS runs llama.cpp on Metal; Apple's compiler has no OpenMP for a threaded CPU build";
  return null;
}

export function threadedBuildCmakeOptions(platform: NodeJS.Platform): Record<string, string> | null {
  if (threadedBuildUnavailable(platform) !== null) return null;
  return {
    GGML_OPENMP: "ON",
    GGML_NATIVE: "OFF",
    GGML_CPU_ALL_VARIANTS: "ON",
    GGML_BACKEND_DL: "ON",
    // On Windows node-llama-cpp builds CPU binaries with LLVM and then turns OpenMP off; naming a backend that
    // needs MSVC (here to keep it off) makes it build with MSVC, whose OpenMP runtime is vcomp140.dll.
    ...(platform === "win32" ? { GGML_BLAS: "OFF" } : {}),
  };
}

/** getLlama's options that pick the threaded build where one is made (getLlama falls back to the prebuilt by itself). */
export function threadedBuildLlamaOptions(platform: NodeJS.Platform): Pick<LlamaOptions, "cmakeOptions"> {
  const cmakeOptions = threadedBuildCmakeOptions(platform);
  return cmakeOptions ? { cmakeOptions } : {};
}

/** node-llama-cpp's folder of builds made on this computer (unpacked beside app.asar in the installers). */
function localBuildsFolder(): string {
  return join(dirname(fileURLToPath(import.meta.resolve("node-llama-cpp"))), "..", "llama", "localBuilds");
}

/**
 * The folder of binaries of the threaded build `npm run build:llama` left for this platform and architecture
 * (node-llama-cpp's `<build>/Release`), or null when there is none.
 */
export async function threadedBuildFolder(platform: NodeJS.Platform = process.platform, arch: string = process.arch): Promise<string | null> {
  const wanted = threadedBuildCmakeOptions(platform);
  if (wanted === null) return null;
  for (const folder of await readdir(localBuildsFolder()).catch(() => [])) {
    const binaries = join(localBuildsFolder(), folder, "Release");
    const metadata = await readFile(join(binaries, "_nlcBuildMetadata.json"), "utf8").catch(() => null);
    if (metadata === null) continue;
    const { buildOptions } = JSON.parse(metadata) as { buildOptions?: { customCmakeOptions?: Record<string, string>; arch?: string; gpu?: unknown } };
    const options = buildOptions?.customCmakeOptions ?? {};
    const sameOptions = Object.keys(options).length === Object.keys(wanted).length && Object.entries(wanted).every(([key, value]) => options[key] === value);
    if (sameOptions && buildOptions?.arch === arch && buildOptions.gpu === false) return binaries;
  }
  return null;
}
