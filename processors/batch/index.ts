export { batchProcessorFactory } from './factory.js';
export { BatchProcessor } from './processor.js';
export { createDefaultConfig, readConfig } from './config.js';
export type { BatchConfig } from './config.js';
