import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { SpecVersion } from './config.js';
import type { Entity } from './entity.js';

/** Our own CycloneDX property namespace (k8s-aibom already uses bare `aibom.*`; cdxgen owns `cdx:`). */
export const NS = 'aibom-collector';

type Json = Record<string, unknown>;

export interface BomOptions {
  specVersion: SpecVersion;
  toolVersion: string;
  now?: Date;
}

/**
 * The inventory as CycloneDX JSON (1.6 or 1.7), built by hand because the library's models lack
 * modelCard, component data and services' endpoints/data/trustZone. Conventions follow cdxgen's so a
 * declared cdxgen BOM lines up: MCP servers are services with group `mcp`, their tools components with
 * `cdx:mcp:role=tool` and `cdx:mcp:serviceRef`, and the server `provides` its tools in dependencies.
 * bom-refs are our entity ids, stable across runs.
 */
export function toCycloneDx(entities: readonly Entity[], o: BomOptions): Json {
  const byId = new Map(entities.map((e) => [e.id, e]));
  const components: Json[] = [];
  const services: Json[] = [];
  for (const e of entities) {
    if (e.kind === 'mcp_server' || e.kind === 'endpoint') services.push(service(e, byId));
    else components.push(component(e, byId));
  }
  const refs = new Set(entities.map((e) => e.id));
  const dependencies: Json[] = [];
  for (const e of entities) {
    const dependsOn = unique(e.relations.filter((r) => r.type !== 'exposes' && refs.has(r.to)).map((r) => r.to));
    const provides = unique(e.relations.filter((r) => r.type === 'exposes' && refs.has(r.to)).map((r) => r.to));
    if (dependsOn.length === 0 && provides.length === 0) continue;
    dependencies.push({ ref: e.id, dependsOn, ...(provides.length > 0 ? { provides } : {}) });
  }
  return {
    $schema: `http://cyclonedx.org/schema/bom-${o.specVersion}.schema.json`,
    bomFormat: 'CycloneDX',
    specVersion: o.specVersion,
    serialNumber: `urn:uuid:${randomUUID()}`,
    version: 1,
    metadata: {
      timestamp: (o.now ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      lifecycles: [{ phase: 'operations' }],
      tools: { components: [{ type: 'application', name: 'aibom-collector', version: o.toolVersion }] },
      properties: [prop('bom', 'runtime'), prop('entities', String(entities.length))],
    },
    components,
    services,
    dependencies,
  };
}

function prop(name: string, value: string): Json {
  return { name: `${NS}:${name}`, value };
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}

/** What every entity carries: kind, id, first/last seen, count, source, evidence, its attributes. */
function commonProperties(e: Entity): Json[] {
  const out = [
    prop('kind', e.kind),
    prop('entity_id', e.id),
    prop('source', e.source),
    prop('observations', String(e.count)),
  ];
  if (e.count > 0) out.push(prop('first_seen', new Date(e.firstSeenMs).toISOString()), prop('last_seen', new Date(e.lastSeenMs).toISOString()));
  if (e.evidence.length > 0) out.push(prop('evidence', e.evidence.join(',')));
  if (e.first) out.push(prop('first_span', `${e.first.traceId}/${e.first.spanId}`));
  for (const [k, v] of Object.entries(e.key)) out.push(prop(`key:${k}`, String(v)));
  for (const [k, v] of Object.entries(e.attributes)) {
    const name = k.startsWith(`${NS}:`) ? k.slice(NS.length + 1) : k;
    out.push(prop(name, Array.isArray(v) ? v.join('\n') : String(v)));
  }
  return out;
}

function component(e: Entity, byId: Map<string, Entity>): Json {
  const base: Json = { 'bom-ref': e.id, name: e.name };
  const properties = commonProperties(e);
  switch (e.kind) {
    case 'agent':
      return { type: 'application', ...base, properties };
    case 'model': {
      const provider = String(e.key['gen_ai.provider.name'] ?? 'unknown');
      const responses = (e.attributes['gen_ai.response.model'] as string[] | undefined) ?? [];
      const ops = (e.attributes['gen_ai.operation.name'] as string[] | undefined) ?? [];
      const endpoints = e.relations.filter((r) => r.type === 'reaches').map((r) => byId.get(r.to)?.name).filter((x): x is string => !!x);
      return {
        type: 'machine-learning-model',
        ...base,
        group: provider,
        ...(responses.length > 0 ? { version: responses[responses.length - 1] } : {}),
        modelCard: {
          modelParameters: { task: ops.includes('embeddings') ? 'feature-extraction' : 'text-generation' },
          properties: [prop('provider', provider), ...responses.map((r) => prop('response_model', r)), ...endpoints.map((x) => prop('served_by', x))],
        },
        properties,
      };
    }
    case 'tool': {
      const server = e.relations.find((r) => r.type === 'implemented_by' && byId.get(r.to)?.kind === 'mcp_server');
      const mcp = server ? [{ name: 'cdx:mcp:role', value: 'tool' }, { name: 'cdx:mcp:serviceRef', value: server.to }] : [];
      return { type: 'application', ...base, properties: [...mcp, prop('implementation', implementation(e, byId)), ...properties] };
    }
    case 'data_source':
      return { type: 'data', ...base, data: [{ type: 'dataset', name: e.name }], properties };
    case 'identity':
      return {
        type: 'cryptographic-asset',
        ...base,
        cryptoProperties: {
          assetType: 'related-crypto-material',
          relatedCryptoMaterialProperties: { type: e.attributes[`${NS}:identity`] === 'api_key_env' ? 'secret-key' : 'token' },
        },
        properties,
      };
    case 'infrastructure': {
      const what = e.attributes[`${NS}:infrastructure`];
      const type = what === 'container' ? 'container' : what === 'host' ? 'device' : what === 'pod' ? 'platform' : 'file';
      const sha256 = e.attributes[`${NS}:sha256`];
      return { type, ...base, ...(typeof sha256 === 'string' ? { hashes: [{ alg: 'SHA-256', content: sha256 }] } : {}), properties };
    }
    default:
      return { type: 'application', ...base, properties };
  }
}

/**
 * What implements a tool, as far as the runtime showed: an MCP server, another process, an HTTP API
 * it calls, else a function inside the agent.
 */
function implementation(e: Entity, byId: Map<string, Entity>): string {
  const by = e.relations.filter((r) => r.type === 'implemented_by').map((r) => byId.get(r.to)?.kind);
  if (by.includes('mcp_server')) return 'mcp_server';
  if (by.includes('infrastructure')) return 'process';
  if (e.relations.some((r) => r.type === 'reaches')) return 'http_api';
  return 'function';
}

/** loopback, private (RFC 1918/4193, link-local) or external, from the address of an endpoint. */
export function trustZone(address: string): string {
  if (address === 'localhost' || /^127\./.test(address) || address === '::1') return 'loopback';
  if (isIP(address) && /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.|f[cd]|fe80:)/i.test(address)) return 'private';
  return 'external';
}

function service(e: Entity, byId: Map<string, Entity>): Json {
  const properties = commonProperties(e);
  if (e.kind === 'mcp_server') {
    const transport = String(e.attributes['network.transport'] ?? 'pipe');
    const remote = typeof e.key['server.address'] === 'string';
    const exposed = e.relations.filter((r) => r.type === 'exposes').map((r) => byId.get(r.to)?.name).filter((x): x is string => !!x);
    return {
      'bom-ref': e.id,
      group: 'mcp',
      name: e.name,
      ...(remote ? { endpoints: [`http://${e.key['server.address']}:${e.key['server.port']}`] } : {}),
      trustZone: remote ? trustZone(String(e.key['server.address'])) : 'local-process',
      data: [{ flow: 'bi-directional', classification: 'tool-calls' }],
      properties: [
        { name: 'cdx:mcp:transport', value: transport === 'pipe' ? 'stdio' : transport },
        { name: 'cdx:mcp:toolCount', value: String(exposed.length) },
        ...(exposed.length > 0 ? [{ name: 'cdx:mcp:toolNames', value: exposed.join(',') }] : []),
        ...properties,
      ],
    };
  }
  const address = String(e.key['server.address']);
  const port = e.key['server.port'];
  const tls = e.attributes[`${NS}:tls`] === true || port === 443;
  const paths = (e.attributes['url.path'] as string[] | undefined) ?? [];
  const dns = e.attributes[`${NS}:dns`] === true;
  const host = address.includes(':') ? `[${address}]` : address;
  const base = `${tls ? 'https' : 'http'}://${host}${port ? `:${port}` : ''}`;
  const endpoints = dns ? [] : paths.length > 0 ? paths.map((p) => `${base}${encodeURI(p)}`) : [base];
  return {
    'bom-ref': e.id,
    name: e.name,
    ...(endpoints.length > 0 ? { endpoints } : {}),
    trustZone: trustZone(address),
    data: [
      { flow: 'outbound', classification: 'request' },
      { flow: 'inbound', classification: 'response' },
    ],
    properties: [prop('tls', String(tls)), ...properties],
  };
}
