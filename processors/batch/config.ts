import type { Section } from '../../pipeline/config/section.js';

export interface BatchConfig {
  /** Items (spans or log records) that trigger a send; 0 = only the timeout triggers. */
  sendBatchSize: number;
  /** Upper bound of one batch; larger batches are split. 0 = no limit. */
  sendBatchMaxSize: number;
  /** How long the first item of a batch waits at most; 0 = send at once. */
  timeoutMs: number;
  /** Items held (waiting for a batch + being handed to the next consumer) before `consume` pushes back. */
  maxPendingItems: number;
}

export const DEFAULT_SEND_BATCH_SIZE = 8192;
export const DEFAULT_SEND_BATCH_MAX_SIZE = 0;
export const DEFAULT_TIMEOUT_MS = 200;
export const DEFAULT_MAX_PENDING_ITEMS = 100_000;

export function createDefaultConfig(): BatchConfig {
  return {
    sendBatchSize: DEFAULT_SEND_BATCH_SIZE,
    sendBatchMaxSize: DEFAULT_SEND_BATCH_MAX_SIZE,
    timeoutMs: DEFAULT_TIMEOUT_MS,
    maxPendingItems: DEFAULT_MAX_PENDING_ITEMS,
  };
}

/** Reads the user's section over the defaults. The caller calls `section.done()`. */
export function readConfig(section: Section): BatchConfig {
  const d = createDefaultConfig();
  const config: BatchConfig = {
    sendBatchSize: section.int('send_batch_size', d.sendBatchSize),
    sendBatchMaxSize: section.int('send_batch_max_size', d.sendBatchMaxSize),
    timeoutMs: section.duration('timeout', d.timeoutMs),
    maxPendingItems: section.int('max_pending_items', d.maxPendingItems, 1),
  };
  if (config.sendBatchMaxSize > 0 && config.sendBatchMaxSize < config.sendBatchSize) {
    section.error('send_batch_max_size', `must be 0 or at least send_batch_size (${config.sendBatchSize}), got ${config.sendBatchMaxSize}`);
  }
  if (config.maxPendingItems < config.sendBatchSize) {
    section.error('max_pending_items', `must be at least send_batch_size (${config.sendBatchSize}), got ${config.maxPendingItems}`);
  }
  return config;
}
