export { fileExporterFactory } from './factory.js';
export { FileExporter } from './file-exporter.js';
export { createDefaultConfig, createDefaultRotation, readConfig } from './config.js';
export type { FileConfig, RotationConfig } from './config.js';
