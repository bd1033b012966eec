// Downloading a model's release from the Hugging Face Hub (or a mirror of it): the plan shown before it starts,
// the state of a running download, and its events.
import { z } from "zod";
import { OUTPUT_TYPE_NAMES, RECOMMENDED_TYPE } from "./output-types.js";

const byteCount = z.number().int().nonnegative();
const id = z.string().min(1).max(200);

/** `owner/name` as the Hub spells repository ids: letters, digits, `-`, `_`, `.`, no `..`, no leading or trailing `.`/`-`. */
export const repoIdSchema = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9](?:[\w.-]{0,94}[A-Za-z0-9])?\/[A-Za-z0-9](?:[\w.-]{0,94}[A-Za-z0-9])?$/, "Give the repository as owner/name, e.g. Neutralzz/BiLLa-7B-SFT.")
  .refine((repo) => !repo.includes(".."), "A repository id cannot contain “..”.");

/** A branch, tag or commit, as the Hub takes it in `resolve/{revision}/…` (`refs/pr/1` included). */
export const revisionSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\w.\-/]+$/, "A revision is a branch, tag or commit id, e.g. main.")
  .refine((revision) => !revision.split("/").some((part) => part === "" || part === "." || part === ".."), "A revision cannot have empty, “.” or “..” parts.");

/** The Hub or a mirror speaking its API. No credentials in the URL: the access token is a setting of its own. */
export const hubEndpointSchema = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .refine((url) => !/^https?:\/\/[^/]*@/.test(url), "Put the access token in its own setting, not in the endpoint's address.");

/** Files transferred at the same time. */
export const parallelDownloadsSchema = z.number().int().min(2).max(4);

const destination = z.string().min(1).max(4096);

export const downloadRequestSchema = z
  .object({
    repo: repoIdSchema,
    revision: revisionSchema.default("main"),
    /** The folder the release goes into (created when missing). */
    destination,
    /** Overrides the endpoint setting and `HF_ENDPOINT` for this download. */
    endpoint: hubEndpointSchema.optional(),
    /** Overrides the setting. */
    parallel: parallelDownloadsSchema.optional(),
    /** The conversion planned afterwards, whose output the free-space check makes room for. */
    outType: z.enum(OUTPUT_TYPE_NAMES).default(RECOMMENDED_TYPE),
  })
  .strict();

export const plannedFileSchema = z.object({
  /** The file's path in the repository, which is also its name in the destination folder. */
  path: z.string(),
  size: byteCount,
  /** The content's sha256 for LFS files (the Hub's LFS oid); null for small files kept in git itself. */
  sha256: z.string().nullable(),
  /** What is already in the destination: a finished-looking file of the right size, or part of one. */
  onDiskBytes: byteCount,
});

export const downloadPlanSchema = z.object({
  repo: z.string(),
  revision: z.string(),
  /** The commit `revision` pointed to when the download began; every file comes from it. */
  commit: z.string(),
  endpoint: z.string(),
  destination: z.string(),
  /** What conversion needs (weights, index, config, tokenizer), not the whole repository. */
  files: z.array(plannedFileSchema),
  totalBytes: byteCount,
  /** Bytes still to transfer (what is on disk already counts as done until it is checked). */
  remainingBytes: byteCount,
  /** The estimated size of the conversion's output (`outType`). */
  conversionBytes: byteCount,
  /** Free space where the download goes. */
  freeBytes: byteCount,
  /** Room needed there: the rest of the download, and the conversion's output when it lands on the same disk. */
  neededBytes: byteCount,
  enoughSpace: z.boolean(),
});
export type DownloadPlan = z.infer<typeof downloadPlanSchema>;

export const DOWNLOAD_STATES = ["running", "paused", "done", "failed", "cancelled", "interrupted"] as const;
/**
 * - waiting: not begun yet; downloading: bytes arriving (a file downloaded again after a failed check too);
 * - verifying: its checksum is being computed; verified: downloaded and checked; present: was already there, checked;
 * - failed: what stopped the download.
 */
export const DOWNLOAD_FILE_STATES = ["waiting", "downloading", "verifying", "verified", "present", "failed"] as const;

export const downloadFileStatusSchema = z.object({
  path: z.string(),
  size: byteCount,
  doneBytes: byteCount,
  state: z.enum(DOWNLOAD_FILE_STATES),
  bytesPerSecond: z.number().nonnegative(),
});

const failureSchema = z.object({ code: z.string(), message: z.string() });

export const downloadStatusSchema = z.object({
  id,
  repo: z.string(),
  revision: z.string(),
  /** Empty until the revision was resolved. */
  commit: z.string(),
  endpoint: z.string(),
  destination: z.string(),
  /** "interrupted": found unfinished from an earlier run of the app (or of `billa download`); resume continues it. */
  state: z.enum(DOWNLOAD_STATES),
  totalBytes: byteCount,
  doneBytes: byteCount,
  bytesPerSecond: z.number().nonnegative(),
  /** null while the speed is unknown or nothing is moving. */
  etaSeconds: z.number().nonnegative().nullable(),
  files: z.array(downloadFileStatusSchema),
  /** What the user should know, e.g. a file that failed its checksum and was put aside. */
  notices: z.array(z.string()),
  error: failureSchema.nullable(),
});
export type DownloadStatus = z.infer<typeof downloadStatusSchema>;
export type DownloadFileStatus = z.infer<typeof downloadFileStatusSchema>;

const downloadId = z.object({ downloadId: id }).strict();

export const downloadRequests = {
  /** The files, sizes and free space of a download, before it starts (nothing is written). */
  "download.plan": { input: downloadRequestSchema, output: downloadPlanSchema },
  /**
   * Starts (or continues) downloading into `destination`; files already there and matching are kept. Progress and
   * the outcome arrive as events. The same destination always gets the same id.
   */
  "download.start": { input: downloadRequestSchema, output: z.object({ downloadId: id }) },
  /** Stops transferring; partial files stay and `download.resume` continues them. */
  "download.pause": { input: downloadId, output: z.object({ paused: z.boolean() }) },
  /** Continues a paused, failed or interrupted download where it stopped. */
  "download.resume": { input: downloadId, output: z.object({ downloadId: id }) },
  /** Ends a download. Partial files stay (starting it again continues them) unless `discard` deletes them. */
  "download.cancel": { input: z.object({ downloadId: id, discard: z.boolean().default(false) }).strict(), output: z.object({ cancelled: z.boolean() }) },
  /** This session's downloads and the unfinished ones left by earlier runs. */
  "download.list": { input: z.object({}).strict(), output: z.object({ downloads: z.array(downloadStatusSchema) }) },
} as const;

export const downloadEvents = {
  /** A download's state, at most a few times a second while bytes arrive, and at each change of state. */
  "download.progress": downloadStatusSchema,
  /** A download ended: verified and complete, or why not (`cancelled` when the user ended it). */
  "download.finished": z.object({
    downloadId: id,
    outcome: z.discriminatedUnion("ok", [
      z.object({ ok: z.literal(true), destination: z.string(), files: z.number().int().nonnegative(), bytes: byteCount }),
      z.object({ ok: z.literal(false), error: failureSchema }),
    ]),
  }),
} as const;
