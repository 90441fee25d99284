export { enrichProcessorFactory } from './factory.js';
export { EnrichProcessor, type SkipReason } from './enrich-processor.js';
export { createDefaultConfig, readConfig } from './config.js';
export type { EnrichConfig } from './config.js';
