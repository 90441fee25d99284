import type { ProcessorFactory } from '../../pipeline/component.js';
import type { BatchConfig } from './config.js';
import { createDefaultConfig, readConfig } from './config.js';
import { BatchProcessor } from './processor.js';

export const batchProcessorFactory: ProcessorFactory<BatchConfig> = {
  kind: 'processor',
  type: 'batch',
  signals: ['traces', 'logs'],
  createDefaultConfig,
  readConfig,
  create: (settings, config, next) => new BatchProcessor(settings, config, next),
};
