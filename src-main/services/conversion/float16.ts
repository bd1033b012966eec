// The 16-bit float formats ↔ single precision. Node 20 has no Float16Array, so the conversions are written out;
// rounding is to nearest, ties to even, as PyTorch's `.half()` and numpy do.
import type { FloatDType } from "./tensor.js";

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

export function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Subnormal half: shift the implicit 1 in, round to nearest even on the bits shifted out.
    if (halfExponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - halfExponent;
    const half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    return sign | (half + (rest > midpoint || (rest === midpoint && half & 1) ? 1 : 0));
  }
  const half = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
}

/** The float32 nearest a float64, as `np.float32(x)` gives. */
export function toFloat32(value: number): number {
  return Math.fround(value);
}

const HALF_TO_FLOAT = Float32Array.from({ length: 0x10000 }, (_, bits) => halfToFloat(bits));

/** Little-endian values of a float dtype as float32, exactly (every float16 and bfloat16 is a float32). */
export function floatsFrom(bytes: Buffer, dtype: FloatDType, into: Float32Array = new Float32Array(bytes.length / (dtype === "F32" ? 4 : 2))): Float32Array {
  if (dtype === "F32") {
    new Uint8Array(into.buffer, into.byteOffset, bytes.length).set(bytes);
    return into;
  }
  // Row pieces start at even offsets (checkpoints align tensors), so the bits can be read in place.
  const bits = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
  if (dtype === "F16") {
    for (let i = 0; i < bits.length; i++) into[i] = HALF_TO_FLOAT[bits[i]!]!;
  } else {
    // bfloat16 is the upper half of a float32.
    const words = new Uint32Array(into.buffer, into.byteOffset, bits.length);
    for (let i = 0; i < bits.length; i++) words[i] = bits[i]! << 16;
  }
  return into;
}

/** float32 values as float16 bytes, rounded as `.half()` rounds. */
export function halvesFrom(values: Float32Array, into: Buffer = Buffer.alloc(values.length * 2)): Buffer {
  const bits = new Uint16Array(into.buffer, into.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) bits[i] = floatToHalf(values[i]!);
  return into;
}
