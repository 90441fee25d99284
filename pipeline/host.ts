import type { Host } from './component.js';
import { WorkloadRegistry } from './workloads.js';

/** A host for components: the service's, or one for running a component on its own (tests, tools). */
export function createHost(reportFatalError: (err: Error) => void = () => undefined): Host {
  return { workloads: new WorkloadRegistry(), reportFatalError };
}
