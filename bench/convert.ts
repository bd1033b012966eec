// `npm run bench:convert`: how fast the one-pass BiLLa → GGUF conversion is next to the disk, on a synthetic
// ~1.4 GB checkpoint in BiLLa's released layout, float16 weights with a float32 embedding as BiLLa publishes it
// (see support/synthetic-billa.ts):
//
//   1. copy baseline  read every input byte (the shards and the original's embedding) and write them to one file,
//                     fsync: the disk-bound limit of any one-pass converter on this machine.
//   2. F16            released + original → restored on the fly → F16 GGUF.
//   3. Q4_K_M         the same into Q4_K_M, quantized by ggml on a QuantizePool.
//
// Each conversion runs the real pipeline (openSourceModel + convertToGguf + QuantizePool, compiled in build/main) in a
// child process of its own, so that its peak RSS is its own. Every file lives in one temp dir that is removed at
// the end, on failure, and on Ctrl+C. The inputs were just written, so all passes read them from a warm page cache:
// the figures compare the pipeline's own work with a plain copy, not cold-disk reads.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readGgufFileInfo } from "node-llama-cpp";
import type { ChildResult, ChildSpec } from "./support/convert-child.js";
import { BENCH_SHAPE, weightValueCount, writeSyntheticCheckpoint, type SyntheticCheckpoint } from "./support/synthetic-billa.js";

const APP_ROOT = fileURLToPath(new URL("..", import.meta.url));
const COMPILED_PIPELINE = join(APP_ROOT, "build", "main", "services", "conversion");
const TOKENIZER_DIR = join(APP_ROOT, "resources", "demo", "billa-demo");
/** The pipeline's own piece size (convert-to-gguf.ts DEFAULT_CHUNK_BYTES), so the copy reads as it does. */
const COPY_PIECE_BYTES = 32 * 1024 * 1024;
const MB = 1e6;

const log = (line: string) => process.stdout.write(`${line}\n`);

// ---------------------------------------------------------------------------------------------------------------
// The temp dir, removed whatever happens.

let tempDir: string | undefined;
let running: ChildProcess | undefined;

function removeTempDir(): void {
  running?.kill("SIGKILL");
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  tempDir = undefined;
}

process.on("exit", removeTempDir);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping, removing ${tempDir ?? "nothing"}\n`);
    const child = running;
    const exited = child && child.exitCode === null && child.signalCode === null ? new Promise((resolve) => child.once("exit", resolve)) : Promise.resolve();
    child?.kill("SIGKILL");
    // The child's last writes must be over before its folder can be removed.
    void Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]).then(() => {
      removeTempDir();
      process.exit(130);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Measurements.

interface CopyResult {
  seconds: number;
  bytes: number;
  load: Load;
}

/** The 1-minute load average before and after a pass: above the core count, other processes took CPU time from it. */
interface Load {
  before: number;
  after: number;
}

/** Reads each source range in the pipeline's piece size and appends it to `outFile`; fsync at the end. */
async function copyBaseline(sources: readonly { file: string; offset: number; length: number }[], outFile: string): Promise<CopyResult> {
  const started = performance.now();
  const loadBefore = loadavg()[0]!;
  const out = await open(outFile, "wx");
  const piece = Buffer.allocUnsafeSlow(COPY_PIECE_BYTES);
  let written = 0;
  try {
    for (const source of sources) {
      const input = await open(source.file, "r");
      try {
        for (let done = 0; done < source.length; ) {
          const { bytesRead } = await input.read(piece, 0, Math.min(piece.length, source.length - done), source.offset + done);
          if (bytesRead === 0) throw new Error(`${source.file} ended early`);
          await out.write(piece, 0, bytesRead, written);
          written += bytesRead;
          done += bytesRead;
        }
      } finally {
        await input.close();
      }
    }
    await out.sync();
  } finally {
    await out.close();
  }
  return { seconds: (performance.now() - started) / 1000, bytes: written, load: { before: loadBefore, after: loadavg()[0]! } };
}

/** The child runs through tsx like this bench; tsx's own memory is in "RSS before work". */
const CHILD_SCRIPT = fileURLToPath(new URL("./support/convert-child.ts", import.meta.url));

async function runChild(spec: ChildSpec): Promise<{ result: ChildResult; processSeconds: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, ["--import", "tsx", CHILD_SCRIPT, JSON.stringify(spec)], { stdio: ["ignore", "pipe", "inherit"] });
  running = child;
  let stdout = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (exitCode, signal) => resolve(signal ? -1 : exitCode));
  });
  running = undefined;
  if (code !== 0) throw new Error(`the ${spec.label} conversion failed (child exit code ${code}); its error is above`);
  const last = stdout.trim().split("\n").pop() ?? "";
  return { result: JSON.parse(last) as ChildResult, processSeconds: (performance.now() - started) / 1000 };
}

interface ConversionFigures {
  outType: string;
  wallSeconds: number;
  processSeconds: number;
  openSeconds: number;
  checksumSeconds: number;
  verifySeconds: number;
  inputMBps: number;
  outputBytes: number;
  tensorCount: number;
  peakRssBytes: number;
  rssBeforeBytes: number;
  wallOverCopy: number;
  cpuSeconds: number;
  cpuCores: number;
  load: Load;
  restoredEmbeddingSum: number;
  warnings: string[];
  quantize: null | {
    poolSize: number;
    calls: number;
    valuesM: number;
    kernelCoreSeconds: number;
    /** Kernel time per pool worker: the wall time the kernels alone would take with every worker always busy. */
    kernelFloorSeconds: number;
    /** kernelFloorSeconds / wall. */
    kernelShareOfWall: number;
    /** kernel core-seconds / wall: how many cores were, on average, inside ggml's kernels. */
    kernelCoresBusy: number;
    /** Values per second per worker while inside the kernel. */
    kernelMValuesPerCoreSecond: number;
    /** Main thread's wall time awaiting pool.quantize(), over the wall. */
    awaitShareOfWall: number;
  };
}

async function convert(checkpoint: SyntheticCheckpoint, outType: ChildSpec["outType"], label: string, inputBytes: number, copy: CopyResult): Promise<ConversionFigures> {
  const outFile = join(tempDir!, `billa-bench.${outType}.gguf`);
  log(`\n${label}: converting (in a child process) …`);
  const loadBefore = loadavg()[0]!;
  const { result, processSeconds } = await runChild({
    appRoot: APP_ROOT,
    modelDir: checkpoint.modelDir,
    originalLlama: checkpoint.originalFile,
    outFile,
    outType,
    label,
  });
  const load = { before: loadBefore, after: loadavg()[0]! };
  // A second, independent read-back (convertToGguf already checked names before renaming).
  const info = await readGgufFileInfo(outFile, { logWarnings: false });
  const tensorCount = info.tensorInfo?.length ?? 0;
  const { size } = await stat(outFile);
  if (tensorCount !== checkpoint.ggufTensorCount || size !== result.fileBytes) {
    throw new Error(`${label}: the GGUF holds ${tensorCount} tensors in ${size} bytes; expected ${checkpoint.ggufTensorCount} in ${result.fileBytes}`);
  }
  await rm(outFile);
  log(`${label}: ${tensorCount} tensors, ${(size / MB).toFixed(1)} MB, read back by node-llama-cpp and deleted`);

  const wallSeconds = result.openSeconds + result.convertSeconds;
  const kernelCoreSeconds = result.quantizeKernelMs / 1000;
  return {
    outType,
    wallSeconds,
    processSeconds,
    openSeconds: result.openSeconds,
    checksumSeconds: result.checksumSeconds,
    verifySeconds: result.verifySeconds,
    inputMBps: inputBytes / MB / wallSeconds,
    outputBytes: size,
    tensorCount,
    peakRssBytes: result.peakRssBytes,
    rssBeforeBytes: result.rssBeforeBytes,
    wallOverCopy: wallSeconds / copy.seconds,
    cpuSeconds: result.userCpuSeconds + result.systemCpuSeconds,
    cpuCores: (result.userCpuSeconds + result.systemCpuSeconds) / processSeconds,
    load,
    restoredEmbeddingSum: result.restoredEmbeddingSum,
    warnings: result.warnings,
    // The share of wall time inside ggml's kernels, i.e. how close the run is to its compute floor. The pool's
    // quantizeMilliseconds adds up the kernel time of all its workers (2 here, running at once), so it is
    // core-seconds: divided by the worker count it is the wall time the kernels need when every worker is busy all
    // along (the compute floor); divided again by the measured wall it is the share of the wall spent at that
    // floor. 100% would mean nothing else (reading, restoring, RoPE reordering, fp16 widening, writing, the
    // main thread's waits) ever kept a worker idle. On this 2-core machine the main thread shares the cores with
    // the two workers, so 100% is out of reach; the gap is what overlapping I/O with the kernels could win.
    quantize:
      result.quantizeCalls === 0
        ? null
        : {
            poolSize: result.poolSize,
            calls: result.quantizeCalls,
            valuesM: result.quantizedValues / 1e6,
            kernelCoreSeconds,
            kernelFloorSeconds: kernelCoreSeconds / result.poolSize,
            kernelShareOfWall: kernelCoreSeconds / result.poolSize / wallSeconds,
            kernelCoresBusy: kernelCoreSeconds / wallSeconds,
            kernelMValuesPerCoreSecond: result.quantizedValues / 1e6 / kernelCoreSeconds,
            awaitShareOfWall: result.quantizeAwaitMs / 1000 / wallSeconds,
          },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The report.

const mb = (bytes: number) => (bytes / MB).toFixed(1);
const percent = (share: number) => `${(100 * share).toFixed(1)}%`;

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ");
  return [line(rows[0]!), widths.map((width) => "-".repeat(width)).join("  "), ...rows.slice(1).map(line)].join("\n");
}

function report(checkpoint: SyntheticCheckpoint, inputBytes: number, copy: CopyResult, runs: ConversionFigures[]): void {
  // The F16 pass calls the pool too (a few small tensors), so the quantizing pass is picked by its type.
  const q4 = runs.find((run) => run.outType === "q4_k_m")?.quantize;
  log("");
  log(
    `Results (${availableParallelism()} cores; input ${mb(inputBytes)} MB = ${checkpoint.shardFiles.length} shards + the original's embedding; ` +
      `warm page cache; MB = 10^6 bytes; wall = openSourceModel + convertToGguf in the child)`,
  );
  log("");
  log(
    table([
      ["pass", "wall s", "input MB/s", "output MB", "peak RSS MB", "largest tensor MB", "wall/copy"],
      ["copy baseline (read + write + fsync)", copy.seconds.toFixed(2), (inputBytes / MB / copy.seconds).toFixed(0), mb(copy.bytes), "-", "-", "1.00"],
      ...runs.map((run) => [
        `convert → ${run.outType.toUpperCase()} (restore on the fly)`,
        run.wallSeconds.toFixed(2),
        run.inputMBps.toFixed(0),
        mb(run.outputBytes),
        mb(run.peakRssBytes),
        mb(checkpoint.largestTensor.bytes),
        run.wallOverCopy.toFixed(2),
      ]),
    ]),
  );
  log("");
  log(
    table([
      ["pass", "open s", "checksum pass s (≤)", "verify s", "RSS before work MB", "CPU s", "CPU cores used", "load avg before→after", "embedding sum"],
      ["copy baseline", "-", "-", "-", "-", "-", "-", `${copy.load.before.toFixed(2)}→${copy.load.after.toFixed(2)}`, "-"],
      ...runs.map((run) => [
        run.outType.toUpperCase(),
        run.openSeconds.toFixed(2),
        run.checksumSeconds.toFixed(2),
        run.verifySeconds.toFixed(2),
        mb(run.rssBeforeBytes),
        run.cpuSeconds.toFixed(1),
        run.cpuCores.toFixed(2),
        `${run.load.before.toFixed(2)}→${run.load.after.toFixed(2)}`,
        run.restoredEmbeddingSum.toFixed(3),
      ]),
    ]),
  );
  const busiest = Math.max(copy.load.before, copy.load.after, ...runs.flatMap((run) => [run.load.before, run.load.after]));
  if (busiest > availableParallelism()) {
    log(
      `note: the 1-minute load average reached ${busiest.toFixed(2)} on ${availableParallelism()} cores: other processes competed for the CPU, so wall ` +
        "times (and ggml's kernel times, which are wall time inside the call) include time spent waiting for a core. Rerun on a quiet machine to compare.",
    );
  }
  if (q4) {
    log("");
    log(`Q4_K_M quantization (QuantizePool of ${q4.poolSize} workers, ${q4.calls} jobs, ${q4.valuesM.toFixed(0)} M values):`);
    log(
      table([
        ["figure", "value"],
        ["time inside ggml's kernels, summed over workers", `${q4.kernelCoreSeconds.toFixed(2)} core-s`],
        [`compute floor = kernel time per worker (÷ ${q4.poolSize})`, `${q4.kernelFloorSeconds.toFixed(2)} s`],
        ["share of wall inside the kernels = floor ÷ wall", percent(q4.kernelShareOfWall)],
        ["cores busy in the kernels on average = kernel core-s ÷ wall", q4.kernelCoresBusy.toFixed(2)],
        ["kernel speed per worker", `${q4.kernelMValuesPerCoreSecond.toFixed(1)} M values/s`],
        ["main thread waiting on pool.quantize() ÷ wall", percent(q4.awaitShareOfWall)],
      ]),
    );
  }
  for (const run of runs) for (const warning of run.warnings) log(`warning (${run.outType}): ${warning}`);
  log("");
  log(
    JSON.stringify({
      bench: "convert",
      shape: BENCH_SHAPE,
      cores: availableParallelism(),
      inputBytes,
      largestTensor: checkpoint.largestTensor,
      copy: { seconds: copy.seconds, bytes: copy.bytes, MBps: inputBytes / MB / copy.seconds, load: copy.load },
      conversions: runs,
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  for (const file of ["pipeline/convert-to-gguf.js", "quantize/quantize-worker.js"]) {
    if (!existsSync(join(COMPILED_PIPELINE, file))) throw new Error(`build/main has no ${file}: run \`npm run build\` first (npm run bench:convert does).`);
  }
  tempDir = await mkdtemp(join(tmpdir(), "billa-bench-"));
  log(`bench:convert in ${tempDir} (removed at the end)`);

  log(`writing a synthetic released BiLLa: ${JSON.stringify(BENCH_SHAPE)}, ${(weightValueCount(BENCH_SHAPE) / 1e6).toFixed(0)} M values (float16, the embedding float32) …`);
  const generating = performance.now();
  const checkpoint = await writeSyntheticCheckpoint(tempDir, {
    tokenizerDir: TOKENIZER_DIR,
    onFile: (file, bytes, seconds) => log(`  wrote ${file.replace(tempDir!, "<tmp>")}: ${mb(bytes)} MB in ${seconds.toFixed(1)} s`),
  });
  log(`  done in ${((performance.now() - generating) / 1000).toFixed(1)} s (not measured)`);

  const sources = [
    ...(await Promise.all(checkpoint.shardFiles.map(async (file) => ({ file, offset: 0, length: (await stat(file)).size })))),
    { file: checkpoint.originalFile, offset: checkpoint.originalEmbedding.offset, length: checkpoint.originalEmbedding.byteLength },
  ];
  const inputBytes = sources.reduce((total, source) => total + source.length, 0);

  log(`\ncopy baseline: reading ${mb(inputBytes)} MB in ${COPY_PIECE_BYTES / 2 ** 20} MiB pieces into one file, then fsync …`);
  const copyFile = join(tempDir, "copy-baseline.bin");
  const copy = await copyBaseline(sources, copyFile);
  await rm(copyFile);
  log(`copy baseline: ${copy.seconds.toFixed(2)} s, ${(inputBytes / MB / copy.seconds).toFixed(0)} MB/s`);

  const runs = [
    await convert(checkpoint, "f16", "F16", inputBytes, copy),
    await convert(checkpoint, "q4_k_m", "Q4_K_M", inputBytes, copy),
  ];
  report(checkpoint, inputBytes, copy, runs);
}

try {
  await main();
} catch (error) {
  process.stderr.write(`bench:convert failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
} finally {
  removeTempDir();
}
