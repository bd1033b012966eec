// Whether a file on disk is the one the Hub lists: LFS files by the sha256 of their content (the LFS oid),
// small files by their git blob id (sha1 of "blob <size>\0" + content), which git itself uses as their name.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { HubFile } from "./hub-client.js";

/** On a mismatch: what was compared ("size", "sha256", "git blob id") and the two values. */
export type CheckResult = { ok: true } | { ok: false; what: string; expected: string; actual: string };

async function digest(path: string, algorithm: "sha256" | "sha1", prefix: Buffer | null, onBytes: (bytes: number) => void): Promise<string> {
  const hash = createHash(algorithm);
  if (prefix) hash.update(prefix);
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    onBytes((chunk as Buffer).length);
  }
  return hash.digest("hex");
}

export async function checkFile(path: string, file: HubFile, onBytes: (bytes: number) => void = () => undefined): Promise<CheckResult> {
  const { size } = await stat(path);
  if (size !== file.size) return { ok: false, what: "size", expected: `${file.size} bytes`, actual: `${size} bytes` };
  if (file.sha256 !== null) {
    const actual = await digest(path, "sha256", null, onBytes);
    return actual === file.sha256 ? { ok: true } : { ok: false, what: "sha256", expected: file.sha256, actual };
  }
  const actual = await digest(path, "sha1", Buffer.from(`blob ${size}\0`), onBytes);
  return actual === file.gitOid ? { ok: true } : { ok: false, what: "git blob id", expected: file.gitOid, actual };
}
