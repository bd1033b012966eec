// What a download will fetch and whether it fits: the manifest (pinned to one commit) and the free-space check
// for the rest of the download plus the conversion's output.
import type { DownloadPlan, OutputTypeName } from "../../contract/api.js";
import { BillaError } from "../../contract/errors.js";
import { DISK_HEADROOM, sameDisk } from "../files/free-space.js";
import type { DownloadFolder } from "./download-folder.js";
import type { HubClient, HubFile } from "./hub-client.js";
import { conversionFiles, conversionOutputBytes } from "./manifest.js";

export interface Manifest {
  commit: string;
  files: HubFile[];
}

/**
 * The files of `repo` at `revision`. A download already begun in this folder keeps the commit it began with, so a
 * push to the repository in between cannot mix two versions of the release.
 */
export async function fetchManifest(hub: HubClient, folder: DownloadFolder, repo: string, revision: string): Promise<Manifest> {
  const state = await folder.readState();
  if (state && state.repo === repo && state.revision === revision) return { commit: state.commit, files: state.files };
  const commit = await hub.commitOf(repo, revision);
  return { commit, files: conversionFiles(repo, commit, await hub.listFiles(repo, commit)) };
}

export interface PlanContext {
  repo: string;
  revision: string;
  endpoint: string;
  folder: DownloadFolder;
  outType: OutputTypeName;
  /** Where the conversion writes by default (the library's models folder). */
  outputFolder: string;
  freeBytes: (path: string) => Promise<number>;
}

export async function planDownload(manifest: Manifest, context: PlanContext): Promise<DownloadPlan> {
  const { folder } = context;
  const files = await Promise.all(manifest.files.map(async (file) => ({ path: file.path, size: file.size, sha256: file.sha256, onDiskBytes: await folder.onDiskBytes(file) })));
  const totalBytes = files.reduce((sum, file) => sum + file.size, 0);
  const remainingBytes = files.reduce((sum, file) => sum + (file.size - file.onDiskBytes), 0);
  const conversionBytes = conversionOutputBytes(manifest.files, context.outType);
  const outputHere = await sameDisk(folder.destination, context.outputFolder);
  const neededBytes = remainingBytes + (outputHere ? conversionBytes : 0);
  const freeBytes = await context.freeBytes(folder.destination);
  return {
    repo: context.repo,
    revision: context.revision,
    commit: manifest.commit,
    endpoint: context.endpoint,
    destination: folder.destination,
    files,
    totalBytes,
    remainingBytes,
    conversionBytes,
    freeBytes,
    neededBytes,
    enoughSpace: freeBytes >= neededBytes + DISK_HEADROOM,
  };
}

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(2)} GiB`;

export function notEnoughSpace(plan: DownloadPlan): BillaError {
  const forConversion = plan.neededBytes > plan.remainingBytes ? ` (${gib(plan.remainingBytes)} to download and about ${gib(plan.conversionBytes)} for the converted model)` : "";
  return new BillaError("disk_full", `The download needs ${gib(plan.neededBytes)}${forConversion} but ${plan.destination} has only ${gib(plan.freeBytes)} free. Free some space or choose a folder on another disk.`);
}
