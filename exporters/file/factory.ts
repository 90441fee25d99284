import type { ExporterFactory } from '../../pipeline/component.js';
import type { FileConfig } from './config.js';
import { createDefaultConfig, readConfig } from './config.js';
import { FileExporter } from './file-exporter.js';

export const fileExporterFactory: ExporterFactory<FileConfig> = {
  kind: 'exporter',
  type: 'file',
  signals: ['traces', 'logs'],
  createDefaultConfig,
  readConfig,
  create: (settings, config) => new FileExporter(settings, config),
};
