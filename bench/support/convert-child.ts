// One conversion in a process of its own, so that its peak RSS is the conversion's alone. It loads the compiled
// pipeline from build/main, exactly the code the app runs, and prints one JSON line.
//
//   node --import tsx bench/support/convert-child.ts '<ChildSpec as JSON>'
//
// Progress goes to stderr; the result (ChildResult) is the last line of stdout.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { ConversionProgress } from "../../src-main/contract/api.js";
import type { OutputType } from "../../src-main/services/conversion/gguf/gguf-types.js";
import type { QuantizeJob } from "../../src-main/services/conversion/quantize/quantize-pool.js";

type ConvertModule = typeof import("../../src-main/services/conversion/pipeline/convert-to-gguf.js");
type SourceModule = typeof import("../../src-main/services/conversion/pipeline/source-model.js");
type PoolModule = typeof import("../../src-main/services/conversion/quantize/quantize-pool.js");

export interface ChildSpec {
  /** The repository, whose build/main holds the compiled pipeline. */
  appRoot: string;
  modelDir: string;
  originalLlama: string;
  outFile: string;
  outType: OutputType;
  /** Prefix of the progress lines. */
  label: string;
}

export interface ChildResult {
  outType: OutputType;
  /** openSourceModel: config, tokenizer, every shard's pickle and zip directory. */
  openSeconds: number;
  /** convertToGguf: checksum pass, convert pass, fsync, read-back check, rename. */
  convertSeconds: number;
  /**
   * Until the first "convert" progress event, i.e. the embedding checksum pass (restoring every embedding row once)
   * plus the first piece of the convert pass: an upper bound on the checksum pass, off by at most one piece.
   */
  checksumSeconds: number;
  /** From the first "verify" event to the end: readGgufFileInfo on the temporary file, and the rename. */
  verifySeconds: number;
  fileBytes: number;
  tensorCount: number;
  restoredEmbeddingSum: number;
  warnings: string[];
  poolSize: number;
  /** QuantizePool.quantizeMilliseconds: time inside ggml_quantize_chunk, summed over the workers. */
  quantizeKernelMs: number;
  /** Wall time the pipeline's main thread spent waiting for pool.quantize() (widening, kernels, messaging, idle). */
  quantizeAwaitMs: number;
  quantizeCalls: number;
  quantizedValues: number;
  /** process.resourceUsage().maxRSS once the pipeline's modules are loaded, before any work. */
  rssBeforeBytes: number;
  /** process.resourceUsage().maxRSS at the end: the peak of the whole process. */
  peakRssBytes: number;
  /** CPU time of the whole process (main thread + workers). */
  userCpuSeconds: number;
  systemCpuSeconds: number;
}

const spec = JSON.parse(process.argv[2] ?? "null") as ChildSpec | null;
if (!spec) throw new Error("usage: node convert-child.mjs '<ChildSpec as JSON>'");

const compiled = (path: string) => pathToFileURL(join(spec.appRoot, "build", "main", "services", "conversion", path)).href;
const { convertToGguf } = (await import(compiled("pipeline/convert-to-gguf.js"))) as ConvertModule;
const { openSourceModel } = (await import(compiled("pipeline/source-model.js"))) as SourceModule;
const { QuantizePool } = (await import(compiled("quantize/quantize-pool.js"))) as PoolModule;

const rssBeforeBytes = process.resourceUsage().maxRSS * 1024;
const pool = new QuantizePool();
let quantizeAwaitMs = 0;
let quantizeCalls = 0;
let quantizedValues = 0;
const quantizer = {
  async quantize(job: QuantizeJob, signal?: AbortSignal): Promise<Buffer> {
    const started = performance.now();
    try {
      return await pool.quantize(job, signal);
    } finally {
      quantizeAwaitMs += performance.now() - started;
      quantizeCalls++;
      quantizedValues += job.rows * job.perRow;
    }
  },
};

const stageStarts = new Map<ConversionProgress["stage"], number>();
let lastLine = 0;
const onProgress = (progress: ConversionProgress) => {
  const now = performance.now();
  const newStage = !stageStarts.has(progress.stage);
  if (newStage) stageStarts.set(progress.stage, now);
  if (!newStage && now - lastLine < 3000) return;
  lastLine = now;
  const percent = ((100 * progress.doneBytes) / progress.totalBytes).toFixed(1).padStart(5);
  const speed = (progress.bytesPerSecond / 1e6).toFixed(0).padStart(4);
  const eta = progress.etaSeconds === null ? "?" : progress.etaSeconds.toFixed(0);
  process.stderr.write(
    `  [${spec.label}] ${progress.stage.padEnd(8)} ${percent}%  tensor ${Math.min(progress.tensorIndex + 1, progress.tensorCount)}/${progress.tensorCount}  ${speed} MB/s  eta ${eta} s\n`,
  );
};

const warnings: string[] = [];
try {
  const opening = performance.now();
  const model = await openSourceModel({ modelDir: spec.modelDir, originalLlama: spec.originalLlama, method: "decrypt" });
  const converting = performance.now();
  const report = await convertToGguf({
    model,
    outFile: spec.outFile,
    outType: spec.outType,
    name: "billa-bench",
    quantizer,
    onProgress,
    onWarning: (warning) => warnings.push(warning),
  });
  const finished = performance.now();
  const usage = process.resourceUsage();
  const result: ChildResult = {
    outType: spec.outType,
    openSeconds: (converting - opening) / 1000,
    convertSeconds: (finished - converting) / 1000,
    checksumSeconds: ((stageStarts.get("convert") ?? finished) - converting) / 1000,
    verifySeconds: (finished - (stageStarts.get("verify") ?? finished)) / 1000,
    fileBytes: report.fileBytes,
    tensorCount: report.tensorCount,
    restoredEmbeddingSum: report.restoredEmbeddingSum,
    warnings: [...new Set([...warnings, ...report.warnings])],
    poolSize: pool.size,
    quantizeKernelMs: pool.quantizeMilliseconds,
    quantizeAwaitMs,
    quantizeCalls,
    quantizedValues,
    rssBeforeBytes,
    peakRssBytes: usage.maxRSS * 1024,
    userCpuSeconds: usage.userCPUTime / 1e6,
    systemCpuSeconds: usage.systemCPUTime / 1e6,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await pool.close();
}
