/** Patterns that stand for many concrete values: file paths and URL paths. */

/** `/srv/data/customers.csv` -> `/srv/data/*.csv`: one data source per directory and file type. */
export function filePattern(path: string): string {
  if (path.endsWith('/*')) return path;
  const slash = path.lastIndexOf('/');
  const dir = slash <= 0 ? '' : path.slice(0, slash);
  const base = path.slice(slash + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? `${dir}/*${base.slice(dot)}` : `${dir}/*`;
}

const ID_SEGMENT = /^(?:\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,}|[A-Za-z0-9_-]{24,})$/i;

/** `/tickets/123` -> `/tickets/{id}`: ids, uuids and long tokens become one placeholder. */
export function pathPattern(path: string): string {
  const q = path.search(/[?#]/);
  const clean = q >= 0 ? path.slice(0, q) : path;
  return clean
    .split('/')
    .map((s) => (ID_SEGMENT.test(s) ? '{id}' : s))
    .join('/');
}

/**
 * The package an MCP stdio server runs, from its command line: an npm package under node_modules
 * (`@modelcontextprotocol/server-filesystem`), an `npx`/`uvx` argument, else the script's file name.
 */
export function mcpPackage(args: readonly string[]): string {
  for (const a of args) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(a);
    if (m) return m[1]!;
  }
  const runner = args.findIndex((a) => /(?:^|\/)(?:npx|uvx|pipx|bunx)$/.test(a));
  if (runner >= 0) {
    const pkg = args.slice(runner + 1).find((a) => !a.startsWith('-'));
    if (pkg) return pkg;
  }
  const script = [...args].reverse().find((a) => /\.(?:m?js|cjs|ts|py)$/.test(a));
  if (script) return script.slice(script.lastIndexOf('/') + 1);
  const exe = args[0] ?? 'mcp-server';
  return exe.slice(exe.lastIndexOf('/') + 1);
}
