import type { ProcessorFactory } from '../../pipeline/component.js';
import { createDefaultConfig, readConfig, type HistoryConfig } from './config.js';
import { HistoryProcessor } from './history-processor.js';

/** `history`: list it in the logs pipeline after the detectors (baseline, provenance, aibom) so it sees their records. */
export const historyProcessorFactory: ProcessorFactory<HistoryConfig> = {
  kind: 'processor',
  type: 'history',
  signals: ['logs'],
  createDefaultConfig,
  readConfig,
  create: (settings, config, next) => new HistoryProcessor(settings, config, next),
};
