import { existsSync, mkdirSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { logRecordsOf, plainAttributes } from './otlp-json.js';
import { Proc, waitFor } from './process.js';
import { ROOT } from './tools.js';

export const APPS = join(ROOT, 'test', 'apps');

/** What test/apps/otel-sdk-app/send.mjs says it sent (see its header comment). */
export interface SentDescription {
  traceIds: string[];
  resource: Record<string, unknown>;
  spanCount: number;
  spans: {
    name: string;
    traceId: string;
    spanId: string;
    parentSpanId: string | null;
    kind: string;
    startTimeUnixNano: string;
    endTimeUnixNano: string;
    attributes: Record<string, unknown>;
    events: { name: string; time: string; attributes: Record<string, unknown> }[];
    links: { traceId: string; spanId: string; attributes: Record<string, unknown> }[];
    status?: { code: string; message?: string };
  }[];
  logs: {
    severityNumber: number;
    severityText: string;
    body: unknown;
    attributes: Record<string, unknown>;
    timeUnixNano: string;
    traceId: string | null;
    spanId: string | null;
  }[];
  export: { spans: { ok: number; failed: number }; logs: { ok: number; failed: number }; errors: string[] };
}

/** Runs a test app with node to completion and parses the JSON it prints last on stdout. */
export async function runApp<T>(script: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<T> {
  const proc = new Proc(process.execPath, [join(APPS, script), ...args], { env: { ...process.env, ...env }, cwd: APPS });
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), timeoutMs);
  const code = await proc.exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${script} exited with ${code}\n${proc.tail()}`);
  const last = proc.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as T;
}

/**
 * Waits until an OTLP JSON-lines file (a file exporter's output) holds the log records the SDK app
 * says it sent, then checks each one: time, severity, attributes, trace context.
 */
export async function expectLogsAsSent(file: string, sent: SentDescription): Promise<void> {
  const service = sent.resource['service.name'];
  const records = await waitFor(`the log records of ${String(service)} in ${file}`, () => {
    const found = logRecordsOf(readFileSync(file, 'utf8')).filter((r) => r.resource['service.name'] === service);
    return found.length >= sent.logs.length ? found : undefined;
  });
  expect(records).toHaveLength(sent.logs.length);
  for (const want of sent.logs) {
    const got = records.find((r) => r.record.timeUnixNano === want.timeUnixNano);
    expect(got, `log "${JSON.stringify(want.body)}"`).toBeDefined();
    expect(got!.record.severityNumber).toBe(want.severityNumber);
    expect(got!.record.severityText).toBe(want.severityText);
    expect(plainAttributes(got!.record.attributes as never)).toEqual(want.attributes);
    expect(got!.record.traceId || null).toBe(want.traceId);
    expect(got!.record.spanId || null).toBe(want.spanId);
  }
}

/** The agents run under a recognisable command name (a symlink `dir/name` -> `target`), which is how the sensor is told to watch them. */
export function agentCommand(name: string, target: string, dir: string): string {
  const link = join(dir, name);
  if (existsSync(link) && readlinkSync(link) === target) return link;
  mkdirSync(dir, { recursive: true });
  if (existsSync(link)) throw new Error(`${link} exists and does not point to ${target}`);
  symlinkSync(target, link);
  return link;
}

/** Where a reference-scenario agent finds its model, services and collector. */
export interface ReferencePeers {
  llm: { ports: number[] };
  services: { ports: number[] };
  otlpPort: number;
}

/** Runs an agent app (agent-js, agent-py) to completion against `peers`; parses the JSON it prints last. */
export async function runReferenceAgent<T>(command: string, args: string[], peers: ReferencePeers, env: NodeJS.ProcessEnv = {}): Promise<T> {
  const [llmPort] = peers.llm.ports;
  const [kbPort, ticketPort] = peers.services.ports;
  const proc = new Proc(command, args, {
    cwd: APPS,
    env: {
      ...process.env,
      FAKE_LLM_URL: `http://127.0.0.1:${llmPort}/v1`,
      KB_URL: `http://127.0.0.1:${kbPort}`,
      TICKET_URL: `http://127.0.0.1:${ticketPort}`,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${peers.otlpPort}`,
      ...env,
    },
  });
  const code = await proc.exited;
  if (code !== 0) throw new Error(`agent exited ${code}\n${proc.tail(60)}`);
  return JSON.parse(proc.stdout.trim().split('\n').pop()!) as T;
}
