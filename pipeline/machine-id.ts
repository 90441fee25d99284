import { readFileSync } from 'node:fs';
import { attr } from './otlp/attributes.js';
import type { Resource } from './otlp/types.js';
import { ATTR } from './semconv.js';

const MACHINE_ID_FILES = ['/etc/machine-id', '/var/lib/dbus/machine-id'];

/**
 * This host's `host.id` as the OpenTelemetry SDKs' host detectors report it on Linux (the machine-id), or
 * undefined when there is none. Kernel-derived telemetry carries the same value as the agents' own, so a
 * backend sees one host: Jaeger's clock-skew adjuster, for one, only compares spans of different hosts
 * and would otherwise shift kernel spans that sit just outside their agent span.
 */
export function readMachineId(files: readonly string[] = MACHINE_ID_FILES): string | undefined {
  for (const f of files) {
    try {
      // The SDKs take the file's trimmed content as it is; so does this, to report the identical value.
      const id = readFileSync(f, 'utf8').trim();
      if (id.length > 0 && id.length <= 128) return id;
    } catch {
      /* next candidate */
    }
  }
  return undefined;
}

/**
 * Gives `resource` this host's `host.id` unless it has one: only for a resource whose process is known
 * to run on this host (checked against /proc or the OTLP connection it came over), which is what an
 * SDK without a host detector (Python's default) leaves out. True when added.
 */
export function addHostId(resource: Resource, hostId: string | undefined): boolean {
  if (hostId === undefined) return false;
  const attributes = (resource.attributes ??= []);
  for (const kv of attributes) if (kv.key === ATTR.hostId) return false;
  attributes.push(attr(ATTR.hostId, hostId));
  return true;
}
