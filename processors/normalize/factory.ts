import type { ProcessorFactory } from '../../pipeline/component.js';
import type { NormalizeConfig } from './config.js';
import { createDefaultConfig, readConfig } from './config.js';
import { NormalizeProcessor } from './processor.js';

export const normalizeProcessorFactory: ProcessorFactory<NormalizeConfig> = {
  kind: 'processor',
  type: 'normalize',
  signals: ['traces'],
  createDefaultConfig,
  readConfig,
  create: (settings, config, next) => new NormalizeProcessor(settings, config, next),
};
