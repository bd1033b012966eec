/** The two IPC channels between the window and the main process. preload.cts spells them out too (see there). */
export const INVOKE_CHANNEL = "billa:invoke";
export const EVENT_CHANNEL = "billa:event";
