import type { ProcessorFactory } from '../../pipeline/component.js';
import { createDefaultConfig, readConfig, type ProvenanceConfig } from './config.js';
import { ProvenanceProcessor } from './provenance-processor.js';

/**
 * `provenance`: list it in the traces pipeline after `correlate` (it reads agents' spans and the kernel
 * spans placed under them) and in a logs pipeline (its `aibom.deviation` records go out there).
 */
export const provenanceProcessorFactory: ProcessorFactory<ProvenanceConfig> = {
  kind: 'processor',
  type: 'provenance',
  signals: ['traces', 'logs'],
  createDefaultConfig,
  readConfig,
  create: (settings, config, next) => new ProvenanceProcessor(settings, config, next),
};
