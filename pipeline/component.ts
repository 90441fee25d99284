import type { Consumers } from './consumer.js';
import type { Section } from './config/section.js';
import type { Signal } from './otlp/types.js';
import type { Logger } from './telemetry/logger.js';
import type { Metrics } from './telemetry/metrics.js';
import type { AdminRoutes } from './admin-routes.js';
import type { WorkloadRegistry } from './workloads.js';

/**
 * Lifecycle shared by every receiver, processor and exporter.
 * The constructor (factory `create`) only allocates; `start` opens listeners and connections and,
 * if it fails half-way, undoes what it did before rejecting. `shutdown` flushes what the component
 * holds within its deadline, is idempotent, and works even if `start` never ran.
 */
export interface Component {
  start(host: Host): Promise<void>;
  shutdown(): Promise<void>;
}

export interface Host {
  /** A component hit an error it cannot recover from after start; the service shuts down. */
  reportFatalError(err: Error): void;
  /** Processes known to be AI workloads, announced by whoever recognises one. */
  readonly workloads: WorkloadRegistry;
  /** Read-only HTTP routes a component serves on the admin listener (when one is configured). */
  readonly admin: AdminRoutes;
}

export type ComponentKind = 'receiver' | 'processor' | 'exporter';

/** Facts about this build that components stamp on what they make (e.g. an instrumentation scope's version). */
export interface BuildInfo {
  version: string;
}

/** What a factory gets besides its config: who it is, where to report, and the build it runs in. */
export interface CreateSettings {
  /** Full id as written in config, e.g. `otlp/upstream`. */
  id: string;
  /** The `name` after the slash, or '' */
  name: string;
  logger: Logger;
  metrics: Metrics;
  /** Given by the service; absent when a component runs on its own (tests, tools). */
  build?: BuildInfo;
}

interface FactoryBase<C> {
  /** Component type as written before the slash in config, e.g. `otlp`. */
  readonly type: string;
  readonly signals: readonly Signal[];
  /** A complete config with every default filled in. */
  createDefaultConfig(): C;
  /** Reads the user's section over the defaults; records every error on `section.errors`. */
  readConfig(section: Section): C;
}

/** A receiver gets the consumers of every pipeline it feeds, one per signal it is used for. */
export interface ReceiverFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'receiver';
  create(settings: CreateSettings, config: C, next: Consumers): Component;
}

/**
 * One processor instance per id, shared by the pipelines (at most one per signal) that list it, so a
 * processor that joins signals (correlation) sees both. `next` holds the following hop per signal.
 */
export interface ProcessorFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'processor';
  create(settings: CreateSettings, config: C, next: Consumers): Component & Consumers;
}

/** One exporter instance per id; it treats the data it consumes as read-only. */
export interface ExporterFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'exporter';
  create(settings: CreateSettings, config: C): Component & Consumers;
}

export type Factory = ReceiverFactory | ProcessorFactory | ExporterFactory;
