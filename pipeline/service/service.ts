import type { BuildInfo, Component, CreateSettings } from '../component.js';
import { PermanentError, type Consumer, type Consumers } from '../consumer.js';
import type { ComponentConfig, ServiceConfig } from '../config/service-config.js';
import type { Signal, SignalData } from '../otlp/types.js';
import type { Logger } from '../telemetry/logger.js';
import { Metrics } from '../telemetry/metrics.js';
import { AdminRoutes } from '../admin-routes.js';
import { createHost } from '../host.js';
import { AdminServer } from './admin-server.js';
import { fanout } from './fanout.js';

type State = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

interface Built {
  id: string;
  component: Component;
}

/**
 * Builds the component graph from a validated config and runs it.
 * Data flows one way: receivers -> processors (in pipeline order) -> exporters (fan-out).
 * Start order is exporters, processors, receivers, so nothing sends into a component that is not
 * ready; shutdown runs the reverse, so receivers stop taking data first, processors flush into
 * exporters, and exporters drain their queues last.
 */
export class Service {
  readonly metrics = new Metrics();
  private readonly exporters: Built[] = [];
  private readonly processors: Built[] = [];
  private readonly receivers: Built[] = [];
  private readonly admin: AdminServer | undefined;
  private readonly routes = new AdminRoutes();
  private state: State = 'created';
  private fatal: ((err: Error) => void) | undefined;
  private readonly fatalError: Promise<Error>;

  constructor(
    private readonly config: ServiceConfig,
    private readonly logger: Logger,
    private readonly buildInfo?: BuildInfo,
  ) {
    this.fatalError = new Promise((resolve) => (this.fatal = resolve));
    this.build();
    this.admin = config.adminEndpoint ? new AdminServer(config.adminEndpoint, this.metrics, () => this.state === 'running', logger, this.routes) : undefined;
  }

  private settings(c: ComponentConfig, kind: string): CreateSettings {
    return { id: c.id, name: c.name, logger: this.logger.child({ component: `${kind}/${c.id}` }), metrics: this.metrics, build: this.buildInfo };
  }

  private build(): void {
    const { config } = this;
    const exporterInstances = new Map<string, Component & Consumers>();
    const used = (kind: 'exporters' | 'processors' | 'receivers') => new Set(config.pipelines.flatMap((p) => p[kind]));
    for (const id of used('exporters')) {
      const c = config.exporters.get(id)!;
      if (c.factory.kind !== 'exporter') continue;
      const inst = c.factory.create(this.settings(c, 'exporter'), c.config);
      exporterInstances.set(id, inst);
      this.exporters.push({ id, component: inst });
    }

    // Processors are created once per id; each one's `next` is resolved when data flows, because the
    // following hop of every pipeline it belongs to is only known once all of them are built.
    const nextOf = new Map<string, Consumers>();
    const processorInstances = new Map<string, Component & Consumers>();
    for (const id of used('processors')) {
      const c = config.processors.get(id)!;
      if (c.factory.kind !== 'processor') continue;
      const slots: Consumers = {};
      nextOf.set(id, slots);
      const missing = (signal: string) => Promise.reject(new PermanentError(`processor ${id} is not in any ${signal} pipeline, so what it produces for ${signal} has nowhere to go`));
      const late: Consumers = {
        traces: { consume: (d) => (slots.traces ? slots.traces.consume(d) : missing('traces')) },
        logs: { consume: (d) => (slots.logs ? slots.logs.consume(d) : missing('logs')) },
      };
      const inst = c.factory.create(this.settings(c, 'processor'), c.config, late);
      processorInstances.set(id, inst);
      this.processors.push({ id, component: inst });
    }

    const receiverInputs = new Map<string, { traces: Consumer<SignalData<'traces'>>[]; logs: Consumer<SignalData<'logs'>>[] }>();
    for (const p of config.pipelines) {
      let head = fanout(p.signal, p.exporters.map((id) => pick(exporterInstances.get(id)!, p.signal, `exporter ${id}`)), false);
      for (const id of [...p.processors].reverse()) {
        (nextOf.get(id)! as Record<Signal, unknown>)[p.signal] = head;
        head = pick(processorInstances.get(id)!, p.signal, `processor ${id}`);
      }
      for (const id of p.receivers) {
        const inputs = receiverInputs.get(id) ?? { traces: [], logs: [] };
        (inputs[p.signal] as Consumer<unknown>[]).push(head as Consumer<unknown>);
        receiverInputs.set(id, inputs);
      }
    }
    for (const [id, inputs] of receiverInputs) {
      const c = config.receivers.get(id)!;
      if (c.factory.kind !== 'receiver') continue;
      const next: Consumers = {};
      if (inputs.traces.length > 0) next.traces = fanout('traces', inputs.traces, true);
      if (inputs.logs.length > 0) next.logs = fanout('logs', inputs.logs, true);
      this.receivers.push({ id, component: c.factory.create(this.settings(c, 'receiver'), c.config, next) });
    }
  }

  /** Starts everything; a failure stops what already started and rejects. */
  async start(): Promise<void> {
    if (this.state !== 'created') return;
    this.state = 'starting';
    const host = createHost((err) => {
      this.logger.error({ err }, 'component reported a fatal error');
      this.fatal?.(err);
    }, this.routes);
    const started: Built[] = [];
    try {
      await this.admin?.start();
      for (const b of [...this.exporters, ...[...this.processors].reverse(), ...this.receivers]) {
        await b.component.start(host);
        started.push(b);
      }
    } catch (err) {
      this.logger.error({ err }, 'start failed; stopping what already started');
      for (const b of started.reverse()) await b.component.shutdown().catch(() => undefined);
      await this.admin?.shutdown();
      this.state = 'stopped';
      throw err;
    }
    this.state = 'running';
    this.logger.info(
      { receivers: this.receivers.length, processors: this.processors.length, exporters: this.exporters.length, admin: this.admin?.address },
      'aibom-collector is running',
    );
  }

  /** Resolves with the error a component reported as fatal. */
  whenFatal(): Promise<Error> {
    return this.fatalError;
  }

  /** Stops receivers, flushes processors, drains exporters. Idempotent. */
  async shutdown(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'stopping';
    for (const b of [...this.receivers, ...this.processors, ...this.exporters]) {
      try {
        await b.component.shutdown();
      } catch (err) {
        this.logger.error({ err, component: b.id }, 'shutdown failed');
      }
    }
    await this.admin?.shutdown();
    this.state = 'stopped';
    this.logger.info('aibom-collector stopped');
  }
}

function pick<S extends Signal>(c: Consumers, signal: S, what: string): Consumer<SignalData<S>> {
  const consumer = c[signal] as Consumer<SignalData<S>> | undefined;
  if (!consumer) throw new Error(`${what} does not consume ${signal}`);
  return consumer;
}
