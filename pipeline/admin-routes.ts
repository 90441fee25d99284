/** What a route answers. */
export interface AdminResponse {
  status: number;
  contentType: string;
  body: string;
}

/** Answers `GET <path>?<query>`; a thrown error becomes a 500 naming it. */
export type AdminRoute = (query: URLSearchParams) => AdminResponse | Promise<AdminResponse>;

/**
 * Routes components add to the admin listener (e.g. `GET /v1/aibom`), registered during `start` and
 * removed at `shutdown`. Read-only GETs only: the listener is loopback by default and unauthenticated.
 * The service owns one; components see it through the Host, so none imports the service.
 */
export class AdminRoutes {
  private readonly routes = new Map<string, { owner: string; route: AdminRoute }>();

  /** Throws when another component already serves `path` (two instances of one type, say). */
  register(path: string, owner: string, route: AdminRoute): void {
    if (!path.startsWith('/v1/')) throw new Error(`admin route ${path} of ${owner}: component routes live under /v1/`);
    const taken = this.routes.get(path);
    if (taken && taken.owner !== owner) throw new Error(`admin route ${path} is already served by ${taken.owner}, so ${owner} cannot serve it`);
    this.routes.set(path, { owner, route });
  }

  unregister(path: string, owner: string): void {
    if (this.routes.get(path)?.owner === owner) this.routes.delete(path);
  }

  get(path: string): AdminRoute | undefined {
    return this.routes.get(path)?.route;
  }

  paths(): string[] {
    return [...this.routes.keys()];
  }
}
