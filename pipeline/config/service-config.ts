import YAML from 'yaml';
import type { ComponentKind, Factory } from '../component.js';
import type { Signal } from '../otlp/types.js';
import type { LogLevel } from '../telemetry/logger.js';
import { checkEndpoint, ConfigError, ConfigErrors, describe, Section } from './section.js';
import { substituteEnv } from './substitute-env.js';

export interface ComponentConfig {
  id: string;
  name: string;
  factory: Factory;
  config: unknown;
}

export interface PipelineConfig {
  id: string;
  signal: Signal;
  receivers: string[];
  processors: string[];
  exporters: string[];
}

export interface ServiceConfig {
  receivers: Map<string, ComponentConfig>;
  processors: Map<string, ComponentConfig>;
  exporters: Map<string, ComponentConfig>;
  pipelines: PipelineConfig[];
  logLevel: LogLevel;
  /** Admin listener (/healthz, /readyz, /metrics); '' disables it. */
  adminEndpoint: string;
}

export const DEFAULT_ADMIN_ENDPOINT = '127.0.0.1:8888';
const SECTIONS = { receivers: 'receiver', processors: 'processor', exporters: 'exporter' } as const;
const ID = /^([a-z][a-z0-9_]*)(?:\/([^/\s]+))?$/;
const PIPELINE_ID = /^(traces|logs)(?:\/([^/\s]+))?$/;

export type FactoryLookup = (kind: ComponentKind, type: string) => Factory | undefined;

/** Parses, substitutes, validates and fills defaults; throws ConfigError listing every problem. */
export function parseServiceConfig(
  text: string,
  factories: FactoryLookup,
  env: NodeJS.ProcessEnv = process.env,
): ServiceConfig {
  const errors = new ConfigErrors();
  let doc: unknown;
  try {
    doc = YAML.parse(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    // The first line says what and where; the code frame after it would quote the line, maybe a secret.
    throw new ConfigError([`YAML: ${(err as Error).message.split('\n')[0]!.replace(/:$/, '')}`]);
  }
  const top = new Section(substituteEnv(doc, env, errors), '', errors);

  const components = {} as Record<keyof typeof SECTIONS, Map<string, ComponentConfig>>;
  for (const [key, kind] of Object.entries(SECTIONS) as [keyof typeof SECTIONS, ComponentKind][]) {
    components[key] = readComponents(top.section(key), kind, factories);
  }

  const service = top.section('service');
  const telemetry = service.section('telemetry');
  const logs = telemetry.section('logs');
  const logLevel = logs.oneOf('level', ['debug', 'info', 'warn', 'error'] as const, 'info');
  logs.done();
  telemetry.done();
  const admin = service.section('admin');
  const adminEndpoint = admin.string('endpoint', DEFAULT_ADMIN_ENDPOINT);
  if (adminEndpoint !== '') checkEndpoint(admin, 'endpoint', adminEndpoint);
  admin.done();

  const pipelines = readPipelines(service.section('pipelines'), components);
  service.done();
  top.done();

  if (!errors.empty) throw new ConfigError(errors.list);
  return { ...components, pipelines, logLevel, adminEndpoint };
}

function readComponents(section: Section, kind: ComponentKind, factories: FactoryLookup): Map<string, ComponentConfig> {
  const out = new Map<string, ComponentConfig>();
  for (const id of section.keys()) {
    const m = ID.exec(id);
    const path = `${section.path}.${id}`;
    if (!m) {
      section.errors.add(path, `invalid component id (expected "type" or "type/name")`);
      section.raw(id);
      continue;
    }
    const factory = factories(kind, m[1]!);
    if (!factory) {
      section.errors.add(path, `unknown ${kind} type "${m[1]}"`);
      section.raw(id);
      continue;
    }
    const own = section.section(id);
    const config = factory.readConfig(own);
    own.done();
    out.set(id, { id, name: m[2] ?? '', factory, config });
  }
  section.done();
  return out;
}

function readPipelines(
  section: Section,
  components: Record<keyof typeof SECTIONS, Map<string, ComponentConfig>>,
): PipelineConfig[] {
  const out: PipelineConfig[] = [];
  if (section.keys().length === 0) section.errors.add(section.path, 'at least one pipeline is required');
  const processorSignals = new Map<string, string>();
  for (const id of section.keys()) {
    const m = PIPELINE_ID.exec(id);
    const p = section.section(id);
    if (!m) {
      section.errors.add(p.path, 'pipeline id must be "traces", "logs", "traces/<name>" or "logs/<name>"');
      section.raw(id);
      continue;
    }
    const signal = m[1] as Signal;
    const lists = {} as Record<keyof typeof SECTIONS, string[]>;
    for (const key of Object.keys(SECTIONS) as (keyof typeof SECTIONS)[]) {
      lists[key] = p.stringList(key, []);
      for (const ref of lists[key]) {
        const c = components[key].get(ref);
        if (!c) p.error(key, `references ${SECTIONS[key]} "${ref}" which is not configured`);
        else if (!c.factory.signals.includes(signal)) {
          p.error(key, `${SECTIONS[key]} "${ref}" does not support ${signal}`);
        }
      }
      if (new Set(lists[key]).size !== lists[key].length) p.error(key, `lists a component twice: ${describe(lists[key])}`);
    }
    if (lists.receivers.length === 0) p.error('receivers', 'at least one receiver is required');
    if (lists.exporters.length === 0) p.error('exporters', 'at least one exporter is required');
    for (const ref of lists.processors) {
      const key = `${ref}|${signal}`;
      const other = processorSignals.get(key);
      if (other) p.error('processors', `processor "${ref}" is already used by ${other}; give each its own name (${ref.split('/')[0]}/${id.replace('/', '_')})`);
      processorSignals.set(key, `pipeline "${id}"`);
    }
    p.done();
    out.push({ id, signal, ...lists });
  }
  section.done();
  return out;
}
