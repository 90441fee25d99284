import type { ProcessorFactory } from '../../pipeline/component.js';
import type { EnrichConfig } from './config.js';
import { createDefaultConfig, readConfig } from './config.js';
import { EnrichProcessor } from './enrich-processor.js';

export const enrichProcessorFactory: ProcessorFactory<EnrichConfig> = {
  kind: 'processor',
  type: 'enrich',
  signals: ['traces', 'logs'],
  createDefaultConfig,
  readConfig,
  create: (settings, config, next) => new EnrichProcessor(settings, config, next),
};
