export { debugExporterFactory } from './factory.js';
export { DebugExporter } from './debug-exporter.js';
export { createDefaultConfig, readConfig } from './config.js';
export type { DebugConfig, Verbosity } from './config.js';
