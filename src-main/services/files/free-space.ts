// Free disk space, asked of the file system that holds a path (or would hold it: a folder not created yet
// lives on the disk of its nearest existing parent).
import { stat, statfs } from "node:fs/promises";
import { dirname, resolve } from "node:path";

/** Room left for the file system's own needs beyond the bytes we write. */
export const DISK_HEADROOM = 64 * 1024 * 1024;

/** The nearest existing folder at or above `path`. */
async function existingAncestor(path: string): Promise<string> {
  let dir = resolve(path);
  for (;;) {
    const info = await stat(dir).catch(() => null);
    if (info?.isDirectory()) return dir;
    const parent = dirname(dir);
    if (parent === dir) return dir;
    dir = parent;
  }
}

export async function freeBytes(path: string): Promise<number> {
  const { bavail, bsize } = await statfs(await existingAncestor(path));
  return bavail * bsize;
}

/** Whether two paths (existing or not) land on the same file system. */
export async function sameDisk(a: string, b: string): Promise<boolean> {
  const [first, second] = await Promise.all([existingAncestor(a), existingAncestor(b)]);
  const [statA, statB] = await Promise.all([stat(first), stat(second)]);
  return statA.dev === statB.dev;
}
