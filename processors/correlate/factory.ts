import type { ProcessorFactory } from '../../pipeline/component.js';
import { createDefaultConfig, readConfig, type CorrelateConfig } from './config.js';
import { CorrelateProcessor } from './correlate-processor.js';

/** `correlate`: list it in both a traces and a logs pipeline (kernel events arrive as logs). */
export const correlateProcessorFactory: ProcessorFactory<CorrelateConfig> = {
  kind: 'processor',
  type: 'correlate',
  signals: ['traces', 'logs'],
  createDefaultConfig,
  readConfig,
  create: (settings, config, next) => new CorrelateProcessor(settings, config, next),
};
