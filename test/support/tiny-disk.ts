// A small, real file system for disk-full tests: a tmpfs mounted on a temporary folder (root can mount one; CI
// and this project's machines run as root), and a filler that takes its last free byte on demand.
import { execFileSync } from "node:child_process";
import { closeSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "./temp-dir.js";

export interface TinyDisk {
  path: string;
  /** Writes a file until the disk is full (synchronously: nothing else runs meanwhile). */
  fill(): void;
  /** Frees what fill() took. */
  free(): void;
  remove(): void;
}

/** Whether this process may mount a tmpfs; disk-full tests skip, saying so, where it may not. */
export const canMountTmpfs = process.getuid?.() === 0;

export function mountTinyDisk(bytes: number): TinyDisk {
  const dir = makeTempDir("billa-tiny-disk-");
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", dir.path]);
  const filler = join(dir.path, "filler");
  return {
    path: dir.path,
    fill() {
      const fd = openSync(filler, "a");
      const chunk = Buffer.alloc(64 * 1024, 1);
      try {
        for (let size = chunk.length; size >= 1; ) {
          try {
            writeSync(fd, chunk, 0, size);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
            size >>= 1; // the last free blocks: ever smaller writes until not one byte fits
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free: () => rmSync(filler, { force: true }),
    remove() {
      execFileSync("umount", [dir.path]);
      dir.remove();
    },
  };
}
