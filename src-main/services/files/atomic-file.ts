// Files that appear only when complete: everything the app writes for the user (models, restored checkpoints,
// backups, exports) is written under a temporary name in the same folder and renamed into place at the end, so a
// crash, a cancel, a full disk or a failure never leaves a file that looks finished. The temporary name carries the
// writer's pid: what a killed process leaves behind is recognised and removed by the next write into that folder.
import { randomBytes } from "node:crypto";
import { access, open, readdir, rename, rm, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { BillaError } from "../../contract/errors.js";
import { isProcessAlive } from "../system/process-alive.js";
import { DISK_HEADROOM, freeBytes } from "./free-space.js";
const PARTIAL_NAME = /^\..+\.partial-(\d+)-[0-9a-f]{8}$/;

export function partialPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.partial-${process.pid}-${randomBytes(4).toString("hex")}`);
}

/** Removes the partial files and folders that processes which died mid-write left in `folder`. */
export async function removeStalePartials(folder: string): Promise<void> {
  const names = await readdir(folder).catch(() => []);
  for (const name of names) {
    const pid = Number(PARTIAL_NAME.exec(name)?.[1]);
    if (Number.isInteger(pid) && pid !== process.pid && !isProcessAlive(pid)) await rm(join(folder, name), { recursive: true, force: true });
  }
}

export async function checkFreeSpace(folder: string, bytesNeeded: number): Promise<void> {
  const free = await freeBytes(folder);
  if (free < bytesNeeded + DISK_HEADROOM) {
    const gib = (bytes: number) => (bytes / 1024 ** 3).toFixed(2);
    throw new BillaError("disk_full", `The output needs ${gib(bytesNeeded)} GiB but ${folder} has only ${gib(free)} GiB free. Free some space or choose another folder.`);
  }
}

export async function refuseExisting(path: string): Promise<void> {
  const taken = await access(path).then(
    () => true,
    () => false,
  );
  if (taken) throw new BillaError("bad_file", `${basename(path)} already exists. Choose another name, or delete the old file first.`);
}

/**
 * Runs `write` on a temporary path beside `path` (a file or a folder it creates), then renames it to `path`;
 * on any failure the temporary path is removed.
 */
export async function replaceWhenComplete<T>(path: string, write: (temporaryPath: string) => Promise<T>): Promise<T> {
  await removeStalePartials(dirname(path));
  const temporary = partialPathFor(path);
  try {
    const result = await write(temporary);
    await rename(temporary, path);
    return result;
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
}

/** A new file written through `write`, checked by `verify` before it gets its name. */
export async function writeAtomically<T>(
  path: string,
  write: (file: FileHandle) => Promise<T>,
  verify: (temporaryPath: string) => Promise<void>,
): Promise<T> {
  await refuseExisting(path);
  return replaceWhenComplete(path, async (temporary) => {
    const file = await open(temporary, "wx");
    let result: T;
    try {
      result = await write(file);
    } finally {
      await file.close();
    }
    await verify(temporary);
    return result;
  });
}
