// The worker pool against single-threaded ggml calls. Worker threads cannot run TypeScript, so the pool's workers run
// the compiled build in build/main even here (test/support/fresh-build.ts refuses to run the tests on a stale one).
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { APP_ROOT } from "../../src-main/services/app-root.js";
import { floatToHalf } from "../../src-main/services/conversion/float16.js";
import { GgmlType } from "../../src-main/services/conversion/gguf/gguf-types.js";
import { bfloat16sToFloats, halvesToFloats, quantizeRows } from "../../src-main/services/conversion/quantize/ggml-library.js";
import { QuantizePool } from "../../src-main/services/conversion/quantize/quantize-pool.js";
import { makeTempDir } from "../support/temp-dir.js";

const BUILD_DIR = join(APP_ROOT, "build", "main", "services", "conversion", "quantize");
const COMPILED_POOL = join(BUILD_DIR, "quantize-pool.js");

/** Seeded (mulberry32), so a failure can be replayed. */
function randomFloats(count: number, seed: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length: count }, () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * 4 - 2;
  });
}

const pool = new QuantizePool({ size: 2 });
afterAll(() => pool.close());

// 600 rows of 4096 values: three chunks of unequal length, over both workers.
const ROWS = 600;
const PER_ROW = 4096;
const floats = randomFloats(ROWS * PER_ROW, 7);

describe("the quantize pool", () => {
  it.each([GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.Q8_0].map((type) => [GgmlType[type], type] as const))("writes the same %s bytes as one ggml call", async (_, type) => {
    const output = await pool.quantize({ type, source: floats, sourceType: "F32", rows: ROWS, perRow: PER_ROW });
    expect(output.equals(quantizeRows(type, floats, ROWS, PER_ROW))).toBe(true);
  });

  it("widens F16 and BF16 sources in the workers, as ggml does", async () => {
    const halves = Buffer.from(Uint16Array.from(floats, floatToHalf).buffer);
    const bfloat16s = Buffer.from(Uint16Array.from(new Uint32Array(floats.buffer), (bits) => bits >>> 16).buffer);
    const fromHalves = await pool.quantize({ type: GgmlType.Q4_K, source: halves, sourceType: "F16", rows: ROWS, perRow: PER_ROW });
    const fromBfloat16s = await pool.quantize({ type: GgmlType.Q6_K, source: bfloat16s, sourceType: "BF16", rows: ROWS, perRow: PER_ROW });
    expect(fromHalves.equals(quantizeRows(GgmlType.Q4_K, halvesToFloats(halves), ROWS, PER_ROW))).toBe(true);
    expect(fromBfloat16s.equals(quantizeRows(GgmlType.Q6_K, bfloat16sToFloats(bfloat16s), ROWS, PER_ROW))).toBe(true);
  });

  it("takes sources at any offset, shared or not", async () => {
    const rows = 9;
    const values = floats.subarray(0, rows * 256);
    const unaligned = Buffer.alloc(values.byteLength + 1).subarray(1);
    unaligned.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    const shared = new Float32Array(new SharedArrayBuffer(values.byteLength + 4), 4, values.length);
    shared.set(values);
    const expected = quantizeRows(GgmlType.Q4_K, values, rows, 256);
    for (const source of [unaligned, shared]) {
      const output = await pool.quantize({ type: GgmlType.Q4_K, source, sourceType: "F32", rows, perRow: 256 });
      expect(output.equals(expected)).toBe(true);
    }
  });

  it("adds up the time its workers spend inside ggml's quantize calls", async () => {
    const before = pool.quantizeMilliseconds;
    await pool.quantize({ type: GgmlType.Q4_K, source: floats, sourceType: "F32", rows: ROWS, perRow: PER_ROW });
    expect(pool.quantizeMilliseconds).toBeGreaterThan(before);
  });

  it("rejects an aborted job with the signal's AbortError and keeps working", async () => {
    const controller = new AbortController();
    const job = pool.quantize({ type: GgmlType.Q4_K, source: floats, sourceType: "F32", rows: ROWS, perRow: PER_ROW }, controller.signal);
    controller.abort();
    await expect(job).rejects.toMatchObject({ name: "AbortError" });
    await expect(pool.quantize({ type: GgmlType.Q8_0, source: floats, sourceType: "F32", rows: 1, perRow: 32 }, controller.signal)).rejects.toMatchObject({
      name: "AbortError",
    });
    const output = await pool.quantize({ type: GgmlType.Q6_K, source: floats, sourceType: "F32", rows: ROWS, perRow: PER_ROW });
    expect(output.equals(quantizeRows(GgmlType.Q6_K, floats, ROWS, PER_ROW))).toBe(true);
  });

  it("rejects jobs ggml cannot do, and keeps working", async () => {
    const job = (type: GgmlType, rows: number) => pool.quantize({ type, source: floats.subarray(0, 256), sourceType: "F32", rows, perRow: 256 });
    await expect(job(GgmlType.Q8_K, 1)).rejects.toMatchObject({ name: "BillaError", code: "internal" });
    await expect(job(GgmlType.Q4_K, 2)).rejects.toThrow(RangeError);
    expect((await job(GgmlType.Q4_K, 1)).length).toBe(144);
  });

  it("rejects its unfinished jobs when closed, and lets the process exit", async () => {
    // Plain Node, so the compiled pool.
    const script = `
      import { QuantizePool } from ${JSON.stringify(pathToFileURL(COMPILED_POOL).href)};
      const job = { type: ${GgmlType.Q4_K}, source: new Float32Array(512 * 4096), sourceType: "F32", rows: 512, perRow: 4096 };
      const closed = new QuantizePool({ size: 2 });
      await closed.quantize(job);
      const unfinished = closed.quantize(job).catch((error) => error.message);
      await closed.close();
      console.log(await unfinished);
      // A pool nobody closed must not keep the process alive either.
      await new QuantizePool({ size: 2 }).quantize(job);
    `;
    const folder = makeTempDir();
    try {
      writeFileSync(join(folder.path, "pool.mjs"), script);
      const { stdout } = await promisify(execFile)(process.execPath, [join(folder.path, "pool.mjs")], { timeout: 30_000 });
      expect(stdout.trim()).toBe("the quantize pool was closed");
    } finally {
      folder.remove();
    }
  });
});
