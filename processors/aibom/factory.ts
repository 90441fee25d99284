import type { ProcessorFactory } from '../../pipeline/component.js';
import { AibomProcessor } from './aibom-processor.js';
import { createDefaultConfig, readConfig, type AibomConfig } from './config.js';

/**
 * `aibom`: list it in the traces pipeline after `correlate` (it reads agents' spans and the kernel spans
 * placed under them) and in a logs pipeline (its entity events and findings go out there).
 */
export const aibomProcessorFactory: ProcessorFactory<AibomConfig> = {
  kind: 'processor',
  type: 'aibom',
  signals: ['traces', 'logs'],
  createDefaultConfig,
  readConfig,
  create: (settings, config, next) => new AibomProcessor(settings, config, next),
};
