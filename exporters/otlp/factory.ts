import type { ExporterFactory } from '../../pipeline/component.js';
import type { OtlpExporterConfig } from './config.js';
import { createDefaultConfig, readConfig } from './config.js';
import { OtlpExporter } from './exporter.js';

function factory(type: string, protocol: 'grpc' | 'http'): ExporterFactory<OtlpExporterConfig> {
  return {
    kind: 'exporter',
    type,
    signals: ['traces', 'logs'],
    createDefaultConfig: () => createDefaultConfig(protocol),
    readConfig: (section) => readConfig(section, protocol),
    create: (settings, config) => new OtlpExporter(settings, config),
  };
}

/** OTLP/gRPC, type `otlp` as in the OpenTelemetry Collector. */
export const otlpExporterFactory = factory('otlp', 'grpc');
/** Alias of `otlp`, for configs that spell the transport out. */
export const otlpGrpcExporterFactory = factory('otlp_grpc', 'grpc');
/** OTLP/HTTP, protobuf or JSON, type `otlphttp`. */
export const otlpHttpExporterFactory = factory('otlphttp', 'http');
