// The auditor's evidence report (`aibom-collector report`): gathered from a running collector or a data
// directory (gather.ts), rendered as self-contained HTML (html.ts, svg.ts) or Markdown (markdown.ts).
export { coverageOf, gatherFromAdmin, gatherFromDataDir, inventoryOf } from './gather.js';
export { renderHtml } from './html.js';
export { renderMarkdown } from './markdown.js';
export type { ReportData } from './model.js';
