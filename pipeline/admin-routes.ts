/** What a route answers. */
export interface AdminResponse {
  status: number;
  contentType: string;
  body: string;
}

/** What a route is asked: the query, and the path parameters its pattern names (`{id}`). */
export interface AdminRequest {
  method: AdminMethod;
  params: Readonly<Record<string, string>>;
}

/**
 * Answers `<method> <path>?<query>`; a thrown error becomes a 500 naming it. The second argument is
 * optional to read, so a GET route that needs no path parameter takes the query only.
 */
export type AdminRoute = (query: URLSearchParams, request: AdminRequest) => AdminResponse | Promise<AdminResponse>;

export type AdminMethod = 'GET' | 'POST';

interface Registered {
  owner: string;
  route: AdminRoute;
  /** Path segments; `{name}` segments match one segment and name it. */
  segments: string[];
}

const PARAM = /^\{([a-z_]+)\}$/;

/**
 * Routes components add to the admin listener (e.g. `GET /v1/aibom`, `POST /v1/baselines/freeze`),
 * registered during `start` and removed at `shutdown`. A path may name one-segment parameters
 * (`/v1/baselines/{id}`); a literal path wins over a pattern. The listener is loopback by default and
 * unauthenticated, so a POST route may only change the collector's own state (never run anything a
 * request names) and must say so in its component's README.
 * The service owns one; components see it through the Host, so none imports the service.
 */
export class AdminRoutes {
  private readonly routes = new Map<string, Registered>();

  /** Throws when another component already serves `method path` (two instances of one type, say). */
  register(path: string, owner: string, route: AdminRoute, method: AdminMethod = 'GET'): void {
    if (!path.startsWith('/v1/')) throw new Error(`admin route ${path} of ${owner}: component routes live under /v1/`);
    const key = `${method} ${path}`;
    const taken = this.routes.get(key);
    if (taken && taken.owner !== owner) throw new Error(`admin route ${key} is already served by ${taken.owner}, so ${owner} cannot serve it`);
    this.routes.set(key, { owner, route, segments: path.split('/') });
  }

  unregister(path: string, owner: string, method: AdminMethod = 'GET'): void {
    const key = `${method} ${path}`;
    if (this.routes.get(key)?.owner === owner) this.routes.delete(key);
  }

  /** The route for `method path` and the parameters it names; `methods` lists what `path` allows when the method is wrong. */
  match(method: string, path: string): { route: AdminRoute; params: Record<string, string> } | { route: undefined; methods: AdminMethod[] } {
    const wanted = method === 'HEAD' ? 'GET' : method;
    const methods = new Set<AdminMethod>();
    let found: { route: AdminRoute; params: Record<string, string>; literal: boolean } | undefined;
    const parts = path.split('/');
    for (const [key, r] of this.routes) {
      const params = matchSegments(r.segments, parts);
      if (!params) continue;
      const m = key.slice(0, key.indexOf(' ')) as AdminMethod;
      methods.add(m);
      const literal = Object.keys(params).length === 0;
      if (m === wanted && (!found || (literal && !found.literal))) found = { route: r.route, params, literal };
    }
    return found ? { route: found.route, params: found.params } : { route: undefined, methods: [...methods] };
  }

  /** The route registered for exactly `method path` (tests call routes this way). */
  get(path: string, method: AdminMethod = 'GET'): AdminRoute | undefined {
    return this.routes.get(`${method} ${path}`)?.route;
  }

  /** `GET /v1/aibom` and the like, for the 404 hint. */
  paths(): string[] {
    return [...this.routes.keys()];
  }
}

function matchSegments(pattern: readonly string[], parts: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = PARAM.exec(pattern[i]!);
    if (p) {
      if (!parts[i]) return undefined;
      try {
        params[p[1]!] = decodeURIComponent(parts[i]!);
      } catch {
        return undefined;
      }
    } else if (pattern[i] !== parts[i]) return undefined;
  }
  return params;
}
