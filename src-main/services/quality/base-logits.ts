// The base model's logits, computed once per (base file, text, context size, chunks) and cached in the data folder,
// so a 7B base is not loaded again for every comparison. llama-perplexity --kl-divergence-base stores every token's
// log-probability (2 bytes × 46,943 tokens ≈ 92 KiB per position for BiLLa, ~230 MB for both texts at 512);
// we keep the right next token's log-probability and the base's TOP_K most likely tokens (2 KiB per position).
//
// TOP_K = 256: the KL divergence from the kept tokens plus the rest of the probability as one remainder is a lower
// bound of the full sum (the log-sum inequality), and on the demo model, whose distributions are unusually flat
// (its top 256 tokens hold 96 % of the probability), it is within 1 % of llama-perplexity's full-vocabulary value
// (K = 64: −10 %). "Same top p" and RMS Δp need only the top token and the next token's probability: exact.
import { createHash, randomBytes } from "node:crypto";
import { open, readFile, rename, rm, stat, mkdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { BasePosition } from "./perplexity-stats.js";

export const TOP_K = 256;
const MAGIC = "BLQBASE1";
/** Bytes of one position: next-token log-probability, then K token ids and K log-probabilities. */
const positionBytes = (k: number) => 4 + 8 * k;
const HEADER_BYTES = 8 + 5 * 4;
const CHECKSUM_BYTES = 32;

/** The base's cached logits for one text: the tokens it evaluated, and what it said at each scored position. */
export interface BaseLogits {
  contextSize: number;
  k: number;
  /** Every chunk's tokens as they were evaluated (BOS in front), chunk after chunk. */
  tokens: Uint32Array;
  /** The base's own perplexity inputs come back from `nextLogProb`, so it is not evaluated again either. */
  positions: BasePosition[];
}

/** Collects a base's positions while it is evaluated. */
export class BaseLogitsRecorder {
  readonly positions: BasePosition[] = [];

  constructor(
    readonly contextSize: number,
    readonly tokens: Uint32Array,
  ) {}

  add(probabilities: ReadonlyMap<number, number>, nextToken: number): BasePosition {
    const k = Math.min(TOP_K, probabilities.size);
    const ids = new Uint32Array(k);
    const logProbs = new Float32Array(k);
    let i = 0;
    for (const [token, probability] of probabilities) {
      if (i === k) break;
      ids[i] = token;
      logProbs[i] = probability > 0 ? Math.log(probability) : -Infinity;
      i++;
    }
    const next = probabilities.get(nextToken) ?? 0;
    const position = { nextLogProb: Math.fround(next > 0 ? Math.log(next) : -Infinity), ids, logProbs };
    this.positions.push(position);
    return position;
  }
}

/**
 * Which base file this is, without reading all of it (an F16 7B is 13 GB): its size, modification time and the
 * first and last MiB, where a GGUF's metadata and its last tensors are.
 */
export async function fileFingerprint(path: string): Promise<string> {
  const info = await stat(path);
  const hash = createHash("sha256").update(`${info.size}:${Math.round(info.mtimeMs)}`);
  const file = await open(path, "r");
  try {
    const span = Math.min(info.size, 1 << 20);
    const buffer = Buffer.alloc(span);
    await file.read(buffer, 0, span, 0);
    hash.update(buffer);
    await file.read(buffer, 0, span, Math.max(0, info.size - span));
    hash.update(buffer);
  } finally {
    await file.close();
  }
  return hash.digest("hex");
}

export function cacheFileName(parts: { baseFingerprint: string; textSha256: string; contextSize: number; chunks: number }): string {
  const key = createHash("sha256").update(JSON.stringify([MAGIC, TOP_K, parts.baseFingerprint, parts.textSha256, parts.contextSize, parts.chunks])).digest("hex");
  return `${key.slice(0, 40)}.base-logits`;
}

function encode(logits: BaseLogits): Buffer {
  const { k, positions, tokens } = logits;
  const body = Buffer.alloc(HEADER_BYTES + tokens.byteLength + positions.length * positionBytes(k));
  body.write(MAGIC, 0, "latin1");
  let offset = 8;
  for (const value of [1, logits.contextSize, k, tokens.length, positions.length]) offset = body.writeUInt32LE(value, offset);
  for (const token of tokens) offset = body.writeUInt32LE(token, offset);
  for (const position of positions) {
    offset = body.writeFloatLE(position.nextLogProb, offset);
    for (let i = 0; i < k; i++) offset = body.writeUInt32LE(position.ids[i] ?? 0, offset);
    for (let i = 0; i < k; i++) offset = body.writeFloatLE(position.logProbs[i] ?? -Infinity, offset);
  }
  return Buffer.concat([body, createHash("sha256").update(body).digest()]);
}

function decode(data: Buffer): BaseLogits | null {
  if (data.length < HEADER_BYTES + CHECKSUM_BYTES || data.toString("latin1", 0, 8) !== MAGIC) return null;
  const body = data.subarray(0, data.length - CHECKSUM_BYTES);
  if (!createHash("sha256").update(body).digest().equals(data.subarray(body.length))) return null;
  const [version, contextSize, k, tokenCount, positionCount] = [0, 1, 2, 3, 4].map((i) => body.readUInt32LE(8 + 4 * i)) as [number, number, number, number, number];
  if (version !== 1 || body.length !== HEADER_BYTES + 4 * tokenCount + positionCount * positionBytes(k)) return null;
  const tokens = new Uint32Array(tokenCount);
  let offset = HEADER_BYTES;
  for (let i = 0; i < tokenCount; i++, offset += 4) tokens[i] = body.readUInt32LE(offset);
  const positions: BasePosition[] = [];
  for (let p = 0; p < positionCount; p++) {
    const nextLogProb = body.readFloatLE(offset);
    offset += 4;
    const ids = new Uint32Array(k);
    const logProbs = new Float32Array(k);
    for (let i = 0; i < k; i++, offset += 4) ids[i] = body.readUInt32LE(offset);
    for (let i = 0; i < k; i++, offset += 4) logProbs[i] = body.readFloatLE(offset);
    positions.push({ nextLogProb, ids, logProbs });
  }
  return { contextSize, k, tokens, positions };
}

/** The cached logits, or null when there are none (or the file is damaged: then they are computed again). */
export async function readBaseLogits(path: string): Promise<BaseLogits | null> {
  const data = await readFile(path).catch(() => null);
  return data ? decode(data) : null;
}

/** Written under a temporary name and renamed: a cancel or a crash never leaves half a cache file. */
export async function writeBaseLogits(path: string, logits: BaseLogits): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = join(dirname(path), `.${basename(path)}.partial-${randomBytes(6).toString("hex")}`);
  const file = await open(temporary, "wx");
  try {
    await file.writeFile(encode(logits));
    await file.sync();
    await file.close();
    await rename(temporary, path);
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
}
