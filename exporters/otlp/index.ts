export { otlpExporterFactory, otlpGrpcExporterFactory, otlpHttpExporterFactory } from './factory.js';
export { OtlpExporter } from './exporter.js';
export type { DropReason } from './exporter.js';
export { createDefaultConfig, readConfig } from './config.js';
export type { Compression, Encoding, OtlpExporterConfig, QueueConfig, RetryConfig, TlsConfig } from './config.js';
