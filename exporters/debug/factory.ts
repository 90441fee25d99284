import type { ExporterFactory } from '../../pipeline/component.js';
import type { DebugConfig } from './config.js';
import { createDefaultConfig, readConfig } from './config.js';
import { DebugExporter } from './debug-exporter.js';

export const debugExporterFactory: ExporterFactory<DebugConfig> = {
  kind: 'exporter',
  type: 'debug',
  signals: ['traces', 'logs'],
  createDefaultConfig,
  readConfig,
  create: (settings, config) => new DebugExporter(settings, config),
};
