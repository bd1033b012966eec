// Output files appear only when complete: they are written under a temporary name in the same folder and
// renamed into place after a final check, so a crash, a cancel or a failure never leaves a file that looks
// like a model.
import { randomBytes } from "node:crypto";
import { access, open, rename, rm, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { BillaError } from "../../../contract/errors.js";
import { DISK_HEADROOM, freeBytes } from "../../system/free-space.js";

export async function checkFreeSpace(folder: string, bytesNeeded: number): Promise<void> {
  const free = await freeBytes(folder);
  if (free < bytesNeeded + DISK_HEADROOM) {
    const gib = (bytes: number) => (bytes / 1024 ** 3).toFixed(2);
    throw new BillaError("bad_file", `The output needs ${gib(bytesNeeded)} GiB but ${folder} has only ${gib(free)} GiB free. Free some space or choose another folder.`);
  }
}

export async function refuseExisting(path: string): Promise<void> {
  const taken = await access(path).then(
    () => true,
    () => false,
  );
  if (taken) throw new BillaError("bad_file", `${basename(path)} already exists. Choose another name, or delete the old file first.`);
}

/** Writes through `write` into a temporary file, runs `verify` on it, then renames it to `path`. */
export async function writeAtomically<T>(
  path: string,
  write: (file: FileHandle) => Promise<T>,
  verify: (temporaryPath: string) => Promise<void>,
): Promise<T> {
  await refuseExisting(path);
  const temporary = join(dirname(path), `.${basename(path)}.partial-${randomBytes(6).toString("hex")}`);
  const file = await open(temporary, "wx");
  let closed = false;
  try {
    const result = await write(file);
    await file.close();
    closed = true;
    await verify(temporary);
    await rename(temporary, path);
    return result;
  } catch (error) {
    if (!closed) await file.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
}
