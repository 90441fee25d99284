export { historyProcessorFactory } from './factory.js';
export { HISTORY_ROUTE, HistoryProcessor } from './history-processor.js';
export { createDefaultConfig, readConfig } from './config.js';
export type { HistoryConfig } from './config.js';
export { HISTORY_EVENTS, type HistoryEntry, type HistoryKind } from './entry.js';
export { HistoryError, HistoryStore, readHistory } from './store.js';
