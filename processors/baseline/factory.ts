import type { ProcessorFactory } from '../../pipeline/component.js';
import { BaselineProcessor } from './baseline-processor.js';
import { createDefaultConfig, readConfig, type BaselineConfig } from './config.js';

/**
 * `baseline`: list it in the traces pipeline after `correlate` (it reads agents' spans and the kernel
 * spans placed under them) and in a logs pipeline (its deviation records go out there).
 */
export const baselineProcessorFactory: ProcessorFactory<BaselineConfig> = {
  kind: 'processor',
  type: 'baseline',
  signals: ['traces', 'logs'],
  createDefaultConfig,
  readConfig,
  create: (settings, config, next) => new BaselineProcessor(settings, config, next),
};
