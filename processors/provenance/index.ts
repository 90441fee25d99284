export { provenanceProcessorFactory } from './factory.js';
export { ProvenanceProcessor } from './provenance-processor.js';
export { createDefaultConfig, readConfig } from './config.js';
export type { ProvenanceConfig } from './config.js';
export { ARGUMENT_RULE, INSTRUCTION_RULE, KERNEL_RULE } from './rules.js';
