export { correlateProcessorFactory } from './factory.js';
export { CorrelateProcessor } from './correlate-processor.js';
export { createDefaultConfig, readConfig } from './config.js';
export type { CorrelateConfig } from './config.js';
export type { CorrelationKey } from './matcher.js';
