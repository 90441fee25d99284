export { baselineProcessorFactory } from './factory.js';
export { BaselineProcessor, BASELINE_SCOPE } from './baseline-processor.js';
export { BASELINES_ROUTE } from './admin.js';
export { createDefaultConfig, readConfig } from './config.js';
export type { BaselineConfig } from './config.js';
export { BaselineStoreError } from './store.js';
export { RULES } from './rules/index.js';
