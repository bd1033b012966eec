// The main window's size and position, remembered in a small JSON file in the data directory. Whatever is
// read back is treated as untrusted: a hand-edited, truncated or stale file (a monitor since unplugged) is
// ignored or pulled back onto a display, never allowed to put the window where nobody can reach it.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface WindowState extends Rect {
  maximized: boolean;
}

export interface SizeLimits {
  minWidth: number;
  minHeight: number;
}

export const WINDOW_STATE_FILE = "window-state.json";

/** How much of the window's top edge (where the title bar is) must lie on a display for it to count as reachable. */
const GRAB_WIDTH = 100;
const TITLE_BAR_HEIGHT = 32;
/** No screen is this big; anything larger is a corrupt file, not a window. */
const MAX_EXTENT = 100_000;

export function windowStatePath(dataDir: string): string {
  return join(dataDir, WINDOW_STATE_FILE);
}

function isCoordinate(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && Math.abs(value) <= MAX_EXTENT;
}

function overlap(a: Rect, b: Rect): Rect | null {
  const x = Math.max(a.x, b.x);
  const y = Math.max(a.y, b.y);
  const width = Math.min(a.x + a.width, b.x + b.width) - x;
  const height = Math.min(a.y + a.height, b.y + b.height) - y;
  return width > 0 && height > 0 ? { x, y, width, height } : null;
}

/**
 * The saved state if it is well-formed and its title bar is reachable on one of `workAreas` (the displays'
 * usable areas), fitted inside that display; null (use the default placement) otherwise.
 */
export function restoreWindowState(saved: unknown, workAreas: readonly Rect[], limits: SizeLimits): WindowState | null {
  if (typeof saved !== "object" || saved === null) return null;
  const { x, y, width, height, maximized } = saved as Record<string, unknown>;
  if (!isCoordinate(x) || !isCoordinate(y) || !isCoordinate(width) || !isCoordinate(height)) return null;
  if (width < limits.minWidth || height < limits.minHeight) return null;
  if (maximized !== undefined && typeof maximized !== "boolean") return null;

  const titleBar = { x, y, width, height: TITLE_BAR_HEIGHT };
  const home = workAreas
    .filter((area) => area.width > 0 && area.height > 0)
    .map((area) => ({ area, grab: overlap(titleBar, area) }))
    .filter(({ grab }) => grab !== null && grab.width >= Math.min(GRAB_WIDTH, width) && grab.height >= TITLE_BAR_HEIGHT / 2)
    .sort((a, b) => b.grab!.width - a.grab!.width)[0]?.area;
  if (home === undefined) return null;

  // Fit inside the display it is on: no bigger than it, and moved in from any edge it hangs over.
  const fittedWidth = Math.min(width, home.width);
  const fittedHeight = Math.min(height, home.height);
  return {
    x: Math.min(Math.max(x, home.x), home.x + home.width - fittedWidth),
    y: Math.min(Math.max(y, home.y), home.y + home.height - fittedHeight),
    width: fittedWidth,
    height: fittedHeight,
    maximized: maximized === true,
  };
}

/** The saved state as the file holds it, or undefined when there is none or it is not JSON. */
export function readWindowState(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as unknown;
  } catch {
    return undefined;
  }
}

/** Written beside the target and renamed over it, so a crash mid-write leaves the old file, not half a new one. */
export function writeWindowState(file: string, state: WindowState): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state)}\n`);
  renameSync(temporary, file);
}
