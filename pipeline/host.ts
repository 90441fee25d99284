import { AdminRoutes } from './admin-routes.js';
import type { Host } from './component.js';
import { WorkloadRegistry } from './workloads.js';

/** A host for components: the service's, or one for running a component on its own (tests, tools). */
export function createHost(reportFatalError: (err: Error) => void = () => undefined, admin: AdminRoutes = new AdminRoutes()): Host {
  return { workloads: new WorkloadRegistry(), reportFatalError, admin };
}
