// ggml's kernels through koffi, from node-llama-cpp's prebuilt libggml-base: sizes, byte layout, and how the
// library is found.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { halfToFloat } from "../../src-main/services/conversion/float16.js";
import { GGML_BLOCK, GgmlType } from "../../src-main/services/conversion/gguf/gguf-types.js";
import {
  bfloat16sToFloats,
  findGgmlBase,
  halvesToFloats,
  quantizeRows,
  rowSize,
} from "../../src-main/services/conversion/quantize/ggml-library.js";
import { makeTempDir } from "../support/temp-dir.js";

const ALL_TYPES = Object.values(GgmlType).filter((value) => typeof value === "number");
/** ggml_quantize_chunk has no kernel for these: they are only ever computed on the fly. */
const NOT_QUANTIZABLE = [GgmlType.Q8_1, GgmlType.Q8_K];
const QUANTIZABLE = ALL_TYPES.filter((type) => !NOT_QUANTIZABLE.includes(type));
const PER_ROW = 512; // whole blocks for every type

function wave(count: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 7)));
}

describe("ggml's row sizes", () => {
  it.each(ALL_TYPES.map((type) => [GgmlType[type], type] as const))("%s matches GGML_BLOCK", (_, type) => {
    const { elements, bytes } = GGML_BLOCK[type];
    expect(rowSize(type, PER_ROW)).toBe((PER_ROW / elements) * bytes);
  });
});

describe("quantizeRows", () => {
  it.each(QUANTIZABLE.map((type) => [GgmlType[type], type] as const))("writes exactly rows × rowSize bytes of %s", (_, type) => {
    const output = quantizeRows(type, wave(3 * PER_ROW), 3, PER_ROW);
    expect(output.length).toBe(3 * rowSize(type, PER_ROW));
  });

  it.each(QUANTIZABLE.map((type) => [GgmlType[type], type] as const))("gives the same %s bytes in two chunks as in one call", (_, type) => {
    const rows = 10;
    const values = wave(rows * PER_ROW);
    const whole = quantizeRows(type, values, rows, PER_ROW);
    const first = quantizeRows(type, values.subarray(0, 4 * PER_ROW), 4, PER_ROW);
    const rest = quantizeRows(type, values.subarray(4 * PER_ROW), rows - 4, PER_ROW);
    expect(Buffer.concat([first, rest]).equals(whole)).toBe(true);
  });

  it("writes Q8_0 blocks as an f16 scale max|x|/127 and 32 int8 round(x/scale)", () => {
    const ramp = Array.from({ length: 32 }, (_, i) => 127 - 8 * i); // 127 … -121: scale 1
    const halves = ramp.map((x) => x / 2); // 63.5 … -60.5: scale 0.5
    const negative = Array.from({ length: 32 }, (_, i) => (i === 5 ? -254 : 2 * i)); // max |x| = 254: scale 2
    const zeros = Array.from({ length: 32 }, () => 0); // scale 0, all zero
    const output = quantizeRows(GgmlType.Q8_0, Float32Array.from([...ramp, ...halves, ...negative, ...zeros]), 1, 128);

    const block = (index: number) => ({
      scale: [...output.subarray(index * 34, index * 34 + 2)],
      values: [...new Int8Array(output.buffer, output.byteOffset + index * 34 + 2, 32)],
    });
    expect(block(0)).toEqual({ scale: [0x00, 0x3c], values: ramp }); // f16 1.0 = 0x3c00, little-endian
    expect(block(1)).toEqual({ scale: [0x00, 0x38], values: ramp }); // f16 0.5 = 0x3800
    expect(block(2)).toEqual({ scale: [0x00, 0x40], values: negative.map((x) => x / 2) }); // f16 2.0 = 0x4000
    expect(block(3)).toEqual({ scale: [0, 0], values: zeros });
  });

  it("refuses types ggml cannot quantize and rows that do not fill whole blocks, instead of letting ggml abort", () => {
    for (const type of NOT_QUANTIZABLE) expect(() => quantizeRows(type, wave(256), 1, 256)).toThrow(RangeError);
    expect(() => quantizeRows(GgmlType.Q4_K, wave(100), 1, 100)).toThrow(RangeError);
    expect(() => quantizeRows(GgmlType.Q8_0, wave(64), 3, 32)).toThrow(RangeError);
    expect(() => quantizeRows(GgmlType.Q8_0, wave(64), 2, 32, Buffer.alloc(67))).toThrow(RangeError);
  });
});

function allSixteenBitPatterns(): Buffer {
  const bytes = Buffer.alloc(0x20000);
  for (let bits = 0; bits < 0x10000; bits++) bytes.writeUInt16LE(bits, bits * 2);
  return bytes;
}

describe("16-bit floats widened by ggml", () => {
  it("agree with float16.ts's halfToFloat on every half but NaNs", () => {
    const floats = halvesToFloats(allSixteenBitPatterns());
    const disagreements: number[] = [];
    for (let bits = 0; bits < 0x10000; bits++) {
      const expected = halfToFloat(bits);
      if (Number.isNaN(expected) ? !Number.isNaN(floats[bits]!) : !Object.is(floats[bits], expected)) disagreements.push(bits);
    }
    expect(disagreements).toEqual([]);
  });

  it("read bfloat16 as the top half of a float32", () => {
    const floats = bfloat16sToFloats(allSixteenBitPatterns());
    const asFloat32 = new Float32Array(new Uint32Array(0x10000).map((_, bits) => bits << 16).buffer);
    const disagreements = [...floats.keys()].filter((bits) => !Number.isNaN(asFloat32[bits]!) && !Object.is(floats[bits], asFloat32[bits]));
    expect(disagreements).toEqual([]);
  });

  it("fill a given array", () => {
    const into = new Float32Array(2);
    expect(halvesToFloats(Buffer.from([0x00, 0x3c, 0x00, 0xc0]), into)).toBe(into);
    expect([...into]).toEqual([1, -2]);
  });
});

describe("finding libggml-base", () => {
  const root = makeTempDir();
  afterAll(() => root.remove());

  /** A fake node_modules holding the given files; returns a packageDir that finds its packages. */
  function installed(files: string[]): (name: string) => string | undefined {
    for (const file of files) {
      mkdirSync(join(root.path, file, ".."), { recursive: true });
      writeFileSync(join(root.path, file), "");
    }
    return (name) => (existsSync(join(root.path, name)) ? join(root.path, name) : undefined);
  }

  it("finds this machine's library in node-llama-cpp's prebuilt binaries", () => {
    const path = findGgmlBase();
    expect(existsSync(path)).toBe(true);
    expect(basename(path)).toMatch(/^(lib)?ggml-base\.(so|dylib|dll)$/);
    expect(path).toContain("@node-llama-cpp");
  });

  it("prefers the plain CPU build, and a local build over a prebuilt one, as node-llama-cpp does", () => {
    const packageDir = installed([
      "@node-llama-cpp/linux-x64-vulkan/bins/linux-x64-vulkan/libggml-base.so",
      "@node-llama-cpp/linux-x64/bins/linux-x64/libggml-base.so",
      "node-llama-cpp/llama/localBuilds/linux-x64/Release/libggml-base.so",
    ]);
    expect(findGgmlBase({ platform: "linux", arch: "x64", packageDir })).toBe(
      join(root.path, "node-llama-cpp/llama/localBuilds/linux-x64/Release/libggml-base.so"),
    );
  });

  it("uses each platform's file name and package", () => {
    const packageDir = installed([
      "@node-llama-cpp/win-x64/bins/win-x64/ggml-base.dll",
      "@node-llama-cpp/mac-arm64-metal/bins/mac-arm64-metal/libggml-base.dylib",
      "@node-llama-cpp/linux-armv7l/bins/linux-armv7l/libggml-base.so",
    ]);
    expect(findGgmlBase({ platform: "win32", arch: "x64", packageDir })).toBe(join(root.path, "@node-llama-cpp/win-x64/bins/win-x64/ggml-base.dll"));
    expect(findGgmlBase({ platform: "darwin", arch: "arm64", packageDir })).toBe(
      join(root.path, "@node-llama-cpp/mac-arm64-metal/bins/mac-arm64-metal/libggml-base.dylib"),
    );
    expect(findGgmlBase({ platform: "linux", arch: "arm", packageDir })).toBe(join(root.path, "@node-llama-cpp/linux-armv7l/bins/linux-armv7l/libggml-base.so"));
  });

  it("says what is missing and what to do when no build holds it", () => {
    const search = { platform: "linux", arch: "x64", packageDir: () => undefined } as const;
    expect(() => findGgmlBase(search)).toThrow(
      expect.objectContaining({ name: "BillaError", code: "internal", message: expect.stringMatching(/libggml-base\.so.*@node-llama-cpp\/linux-x64.*Reinstall/) }),
    );
  });
});
