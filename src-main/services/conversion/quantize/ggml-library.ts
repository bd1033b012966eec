// ggml's own quantization kernels, called in node-llama-cpp's prebuilt `libggml-base` through koffi, so that our
// GGUF files hold the very bytes llama-quantize would write.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import koffi from "koffi";
import { BillaError } from "../../../contract/errors.js";
import { GgmlType, ggmlRowBytes } from "../gguf/gguf-types.js";

/** node-llama-cpp's builds per `<platform>-<arch>`, named as its packages and bins folders are; plain CPU first. */
const BUILDS: Readonly<Record<string, readonly string[]>> = {
  "linux-x64": ["linux-x64", "linux-x64-vulkan", "linux-x64-cuda"],
  "linux-arm64": ["linux-arm64"],
  "linux-arm": ["linux-armv7l"],
  "linux-riscv64": ["linux-riscv64"],
  "mac-x64": ["mac-x64"],
  "mac-arm64": ["mac-arm64-metal"],
  "win-x64": ["win-x64", "win-x64-vulkan", "win-x64-cuda"],
  "win-arm64": ["win-arm64"],
};

const LIBRARY_FILE = { linux: "libggml-base.so", mac: "libggml-base.dylib", win: "ggml-base.dll" } as const;

/** The types ggml_quantize_chunk writes; any other type makes it abort the whole process. */
const QUANTIZABLE: ReadonlySet<GgmlType> = new Set([
  GgmlType.F32,
  GgmlType.F16,
  GgmlType.BF16,
  GgmlType.Q4_0,
  GgmlType.Q4_1,
  GgmlType.Q5_0,
  GgmlType.Q5_1,
  GgmlType.Q8_0,
  GgmlType.Q2_K,
  GgmlType.Q3_K,
  GgmlType.Q4_K,
  GgmlType.Q5_K,
  GgmlType.Q6_K,
]);

export interface LibrarySearch {
  platform: NodeJS.Platform;
  arch: string;
  /** The folder of an installed package, or undefined when it is not installed. */
  packageDir: (name: string) => string | undefined;
}

const requireHere = createRequire(import.meta.url);

/** Node's own node_modules lookup, without `exports` (which hides these packages' package.json and bins). */
function installedPackageDir(name: string): string | undefined {
  const lookup = requireHere.resolve.paths(name) ?? [];
  return lookup.map((dir) => join(dir, name)).find((dir) => existsSync(join(dir, "package.json")));
}

/** dlopen cannot read inside an asar archive; Electron packagers put unpacked files beside it. */
function outsideAsar(path: string): string {
  return path.replace(/\.asar([\\/])/, ".asar.unpacked$1");
}

function nodeLlamaCppPlatform(platform: NodeJS.Platform): keyof typeof LIBRARY_FILE | undefined {
  if (platform === "linux" || platform === "android") return "linux";
  if (platform === "darwin") return "mac";
  if (platform === "win32" || platform === "cygwin") return "win";
  return undefined;
}

/**
 * Where libggml-base is, searched as node-llama-cpp searches for its binaries (a local build, its own bins folder,
 * then the prebuilt package), build by build with the plain CPU build first.
 */
export function findGgmlBase(
  search: LibrarySearch = { platform: process.platform, arch: process.arch, packageDir: installedPackageDir },
): string {
  const platform = nodeLlamaCppPlatform(search.platform);
  const builds = platform ? (BUILDS[`${platform}-${search.arch}`] ?? []) : [];
  const file = platform ? LIBRARY_FILE[platform] : "libggml-base";
  const nodeLlamaCpp = search.packageDir("node-llama-cpp");
  const folders = builds.flatMap((build) => {
    const prebuiltPackage = search.packageDir(`@node-llama-cpp/${build}`);
    return [
      nodeLlamaCpp && join(nodeLlamaCpp, "llama", "localBuilds", build, "Release"),
      nodeLlamaCpp && join(nodeLlamaCpp, "bins", build),
      prebuiltPackage && join(prebuiltPackage, "bins", build),
    ].filter((folder) => folder !== undefined);
  });
  const found = folders.map((folder) => outsideAsar(join(folder, file))).find((path) => existsSync(path));
  if (found) return found;
  throw new BillaError(
    "internal",
    `ggml's library (${file}) is missing: no node-llama-cpp build for ${search.platform}-${search.arch} holds it ` +
      `(looked for ${builds.map((build) => `@node-llama-cpp/${build}`).join(", ") || "a supported platform"}). ` +
      "Reinstall BiLLa Desktop (from source: run npm install) to restore node-llama-cpp's prebuilt binaries.",
  );
}

/** The functions used, typed as ggml.h declares them (64-bit sizes come back as numbers: they stay below 2^53). */
interface Ggml {
  quantizeChunk(type: GgmlType, src: ArrayBufferView, dst: ArrayBufferView, start: number, rows: number, perRow: number, imatrix: null): number;
  requiresImatrix(type: GgmlType): boolean;
  rowSize(type: GgmlType, elements: number): number;
  halvesToFloats(src: ArrayBufferView, dst: Float32Array, count: number): void;
  bfloat16sToFloats(src: ArrayBufferView, dst: Float32Array, count: number): void;
}

function bind(path: string): Ggml {
  let library: ReturnType<typeof koffi.load>;
  try {
    library = koffi.load(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new BillaError("internal", `ggml's library ${path} could not be loaded (${reason}). Reinstall BiLLa Desktop.`);
  }
  // enum ggml_type is a C int. Sources are `const void *` so that any byte view passes without a copy.
  return {
    quantizeChunk: library.func(
      "size_t ggml_quantize_chunk(int type, const void *src, void *dst, int64_t start, int64_t nrows, int64_t n_per_row, const float *imatrix)",
    ),
    requiresImatrix: library.func("bool ggml_quantize_requires_imatrix(int type)"),
    rowSize: library.func("size_t ggml_row_size(int type, int64_t ne)"),
    halvesToFloats: library.func("void ggml_fp16_to_fp32_row(const void *x, float *y, int64_t n)"),
    bfloat16sToFloats: library.func("void ggml_bf16_to_fp32_row(const void *x, float *y, int64_t n)"),
  };
}

let bound: Ggml | undefined;

/** Loaded on first use, once per thread. */
function ggml(): Ggml {
  bound ??= bind(findGgmlBase());
  return bound;
}

/**
 * Loads the library now. A worker thread that ends unloads its handle, and ggml aborts the process when loaded
 * again after an unload (its start-up code finds the terminate handler it left behind): loaded once in the main
 * thread, it stays loaded while workers come and go.
 */
export function loadGgml(): void {
  ggml();
}

/** Bytes of one row of `perRow` values of `type`, as ggml computes it. */
export function rowSize(type: GgmlType, perRow: number): number {
  return ggml().rowSize(type, perRow);
}

/**
 * Quantizes `rows` rows of `perRow` floats with ggml_quantize_chunk, into `into` (exactly the output's size) or a new
 * Buffer with an ArrayBuffer of its own, so it can be transferred.
 */
export function quantizeRows(type: GgmlType, src: Float32Array, rows: number, perRow: number): Buffer;
export function quantizeRows<Into extends Uint8Array>(type: GgmlType, src: Float32Array, rows: number, perRow: number, into: Into): Into;
export function quantizeRows(type: GgmlType, src: Float32Array, rows: number, perRow: number, into?: Uint8Array): Uint8Array {
  const lib = ggml();
  // ggml reports these mistakes with abort(), which would end the app: check them here.
  if (!QUANTIZABLE.has(type) || lib.requiresImatrix(type)) throw new RangeError(`ggml cannot quantize to ${GgmlType[type]}`);
  if (![rows, perRow].every((count) => Number.isSafeInteger(count) && count > 0)) throw new RangeError(`cannot quantize ${rows} rows of ${perRow} values`);
  ggmlRowBytes(type, perRow); // throws unless the rows fill whole blocks
  if (src.length !== rows * perRow) throw new RangeError(`${rows} rows of ${perRow} values need ${rows * perRow} floats, not ${src.length}`);
  const size = rows * rowSize(type, perRow);
  const dst = into ?? Buffer.allocUnsafeSlow(size);
  if (dst.length !== size) throw new RangeError(`${rows} rows of ${GgmlType[type]} take ${size} bytes, not ${dst.length}`);
  const written = lib.quantizeChunk(type, src, dst, 0, rows, perRow, null);
  if (written !== size) throw new Error(`ggml wrote ${written} bytes of ${GgmlType[type]} where ${size} were expected`);
  return dst;
}

function widen(convert: Ggml["halvesToFloats"], src: Uint8Array, into?: Float32Array): Float32Array {
  if (src.length % 2 !== 0) throw new RangeError(`16-bit values come in pairs of bytes, not ${src.length} bytes`);
  const out = into ?? new Float32Array(src.length / 2);
  if (out.length !== src.length / 2) throw new RangeError(`${src.length / 2} values do not fit ${out.length} floats`);
  convert(src, out, out.length);
  return out;
}

/** IEEE half precision values (little-endian bytes) as floats, with ggml_fp16_to_fp32_row. */
export function halvesToFloats(src: Uint8Array, into?: Float32Array): Float32Array {
  return widen(ggml().halvesToFloats, src, into);
}

/** bfloat16 values (little-endian bytes) as floats, with ggml_bf16_to_fp32_row. */
export function bfloat16sToFloats(src: Uint8Array, into?: Float32Array): Float32Array {
  return widen(ggml().bfloat16sToFloats, src, into);
}
