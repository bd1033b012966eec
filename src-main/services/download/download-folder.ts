// A download's place on disk. Finished, checked files carry their own names in the destination folder; everything
// else lives in its hidden work folder, so a download in progress never looks finished:
//   .billa-download/state.json     the repository, the pinned commit and the file list (resuming needs nothing else)
//   .billa-download/lock           the pid of the process downloading into this folder
//   .billa-download/parts/<file>   files being transferred (the downloader keeps its progress in <file>.ipull)
//   .billa-download/quarantine/    files that failed their checksum, kept aside until the download succeeds
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { z } from "zod";
import { BillaError } from "../../contract/errors.js";
import { isProcessAlive } from "../system/process-alive.js";
import type { HubFile } from "./hub-client.js";

export const WORK_FOLDER = ".billa-download";
/** The downloader's name for a file in transfer (ipull's PROGRESS_FILE_EXTENSION). */
export const IN_TRANSFER_SUFFIX = ".ipull";

const stateSchema = z.object({
  format: z.literal("billa-download"),
  version: z.literal(1),
  repo: z.string(),
  revision: z.string(),
  commit: z.string().regex(/^[0-9a-f]{40}$/),
  endpoint: z.string(),
  files: z.array(
    z.object({
      path: z.string(),
      size: z.number().int().nonnegative(),
      sha256: z.string().nullable(),
      gitOid: z.string(),
    }),
  ),
});
export type FolderState = Omit<z.infer<typeof stateSchema>, "format" | "version">;

/** Writes through a temporary name and renames, so a crash leaves the old file or the new one, never half of one. */
export async function writeFileAtomically(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(temporary, content);
  await rename(temporary, path);
}

async function size(path: string): Promise<{ bytes: number; allocated: number } | null> {
  const info = await stat(path).catch(() => null);
  if (!info?.isFile()) return null;
  // Parts are written at their offsets, leaving holes: the blocks in use are what has arrived (0 where unknown).
  return { bytes: info.size, allocated: Number.isFinite(info.blocks) ? info.blocks * 512 : 0 };
}

export class DownloadFolder {
  readonly destination: string;
  readonly work: string;

  constructor(destination: string) {
    this.destination = resolve(destination);
    this.work = join(this.destination, WORK_FOLDER);
  }

  finalPath(file: HubFile): string {
    return join(this.destination, file.path);
  }

  /** Where the downloader delivers the file; it becomes `finalPath` only after its checksum matched. */
  partPath(file: HubFile): string {
    return join(this.work, "parts", file.path);
  }

  async readState(): Promise<FolderState | null> {
    const text = await readFile(join(this.work, "state.json"), "utf8").catch(() => null);
    if (text === null) return null;
    try {
      const parsed = stateSchema.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  writeState(state: FolderState): Promise<void> {
    return writeFileAtomically(join(this.work, "state.json"), JSON.stringify({ format: "billa-download", version: 1, ...state }, null, 2));
  }

  /** Claims the folder for this process; another live process downloading into it makes this `busy`. */
  async acquire(): Promise<void> {
    const lock = join(this.work, "lock");
    await mkdir(this.work, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
      throw new BillaError("bad_file", `${this.destination} cannot hold the download (${error.code ?? error.message}): choose a folder, new or existing, that you may write to.`);
    });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(lock, "wx");
        await handle.writeFile(String(process.pid));
        await handle.close();
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const holder = Number(await readFile(lock, "utf8").catch(() => ""));
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isProcessAlive(holder)) {
        throw new BillaError("busy", `Another BiLLa Desktop process (pid ${holder}) is downloading into ${this.destination}. Wait for it, or stop it first.`);
      }
      // Left by a process that ended without cleaning up (or by this one): take it over.
      await rm(lock, { force: true });
    }
    throw new BillaError("busy", `Could not claim ${this.destination} for the download; try again.`);
  }

  async release(): Promise<void> {
    const lock = join(this.work, "lock");
    const holder = Number(await readFile(lock, "utf8").catch(() => ""));
    if (holder === process.pid) await rm(lock, { force: true });
  }

  /** Bytes of `file` already here: a finished-looking file (checked later), or what has arrived of its part. */
  async onDiskBytes(file: HubFile): Promise<number> {
    const finished = await size(this.finalPath(file));
    if (finished) return Math.min(finished.bytes, file.size);
    const part = (await size(this.partPath(file))) ?? (await size(this.partPath(file) + IN_TRANSFER_SUFFIX));
    return part ? Math.min(part.allocated, file.size) : 0;
  }

  /** Moves a file that failed its checksum aside (never deleted silently, never accepted); returns where it went. */
  async quarantine(path: string, file: HubFile): Promise<string> {
    const target = join(this.work, "quarantine", `${file.path}.${new Date().toISOString().replace(/[:.]/g, "-")}`);
    await mkdir(dirname(target), { recursive: true });
    await rename(path, target);
    return target;
  }

  /**
   * Makes a part ready for the downloader, and says whether it is already whole:
   * - ipull 3.9.5, closed while its last chunk is short but every other chunk is in, miscounts itself as done and
   *   renames the unfinished file (its progress still appended after the data) to the delivered name. Such a file
   *   is longer than the real one: it gets its in-transfer name back, so the transfer continues instead of restarting.
   * - A part of exactly the right size without progress was delivered but not checked yet (the app stopped in
   *   between): "whole", to be checked, not fetched again.
   */
  async recoverPart(file: HubFile): Promise<"whole" | "partial" | "none"> {
    const part = this.partPath(file);
    if (await size(part + IN_TRANSFER_SUFFIX)) return "partial";
    const delivered = await size(part);
    if (!delivered) return "none";
    if (delivered.bytes === file.size) return "whole";
    if (delivered.bytes > file.size) {
      await rename(part, part + IN_TRANSFER_SUFFIX);
      return "partial";
    }
    await rm(part, { force: true });
    return "none";
  }

  /** Forgets a part entirely, so the next transfer starts it from its first byte. */
  async discardPart(file: HubFile): Promise<void> {
    await rm(this.partPath(file), { force: true });
    await rm(this.partPath(file) + IN_TRANSFER_SUFFIX, { force: true });
  }

  /** A checked part takes its final name. */
  async accept(file: HubFile): Promise<void> {
    await mkdir(dirname(this.finalPath(file)), { recursive: true });
    await rename(this.partPath(file), this.finalPath(file));
  }

  /** Removes the work folder: state, parts, quarantine and lock. */
  async removeWork(): Promise<void> {
    await rm(this.work, { recursive: true, force: true });
  }
}
