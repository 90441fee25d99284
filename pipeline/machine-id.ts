import { readFileSync } from 'node:fs';

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
