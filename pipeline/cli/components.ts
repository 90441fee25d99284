import { debugExporterFactory } from '../../exporters/debug/index.js';
import { fileExporterFactory } from '../../exporters/file/index.js';
import { otlpExporterFactory, otlpGrpcExporterFactory, otlpHttpExporterFactory } from '../../exporters/otlp/index.js';
import { aibomProcessorFactory } from '../../processors/aibom/index.js';
import { baselineProcessorFactory } from '../../processors/baseline/index.js';
import { batchProcessorFactory } from '../../processors/batch/index.js';
import { correlateProcessorFactory } from '../../processors/correlate/index.js';
import { enrichProcessorFactory } from '../../processors/enrich/index.js';
import { historyProcessorFactory } from '../../processors/history/index.js';
import { normalizeProcessorFactory } from '../../processors/normalize/index.js';
import { provenanceProcessorFactory } from '../../processors/provenance/index.js';
import { ebpfReceiverFactory } from '../../receiver/ebpf/index.js';
import { otlpReceiverFactory } from '../../receiver/otlp/index.js';
import type { ComponentKind, Factory } from '../component.js';

/** Every component this build of aibom-collector knows, by kind and type. */
const FACTORIES: readonly Factory[] = [
  otlpReceiverFactory,
  ebpfReceiverFactory,
  batchProcessorFactory,
  enrichProcessorFactory,
  normalizeProcessorFactory,
  correlateProcessorFactory,
  aibomProcessorFactory,
  baselineProcessorFactory,
  provenanceProcessorFactory,
  historyProcessorFactory,
  otlpExporterFactory,
  otlpGrpcExporterFactory,
  otlpHttpExporterFactory,
  debugExporterFactory,
  fileExporterFactory,
] as Factory[];

export function findFactory(kind: ComponentKind, type: string): Factory | undefined {
  return FACTORIES.find((f) => f.kind === kind && f.type === type);
}
