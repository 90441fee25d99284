export { aibomProcessorFactory } from './factory.js';
export { AibomProcessor, AIBOM_ROUTE } from './aibom-processor.js';
export { createDefaultConfig, readConfig } from './config.js';
export type { AibomConfig, SpecVersion } from './config.js';
export { readBom, BomFormatError } from './bom-reader.js';
export type { Bom, BomItem } from './bom-reader.js';
export { diffBoms, findingsTable } from './diff.js';
export type { Finding } from './diff.js';
export { renderTree } from './tree.js';
