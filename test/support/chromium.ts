import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from './tools.js';

/**
 * Loads a page in a real headless Chromium (Debian package `chromium`), takes a screenshot and returns
 * what the page said on its console (Chromium logs console messages, CSP violations and uncaught
 * errors as `CONSOLE` lines on stderr with --enable-logging=stderr).
 */
export async function loadInChromium(file: string, screenshot: string, size = '1280,2600'): Promise<{ console: string[] }> {
  const bin = requireTool('CHROMIUM_BIN', '/usr/bin/chromium');
  const profile = mkdtempSync(join(tmpdir(), 'aibom-chromium-'));
  const stderr = await new Promise<string>((resolve, reject) => {
    execFile(
      bin,
      ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions', `--user-data-dir=${profile}`, '--enable-logging=stderr', '--v=0', '--hide-scrollbars', `--window-size=${size}`, '--virtual-time-budget=3000', `--screenshot=${screenshot}`, `file://${file}`],
      { timeout: 60_000 },
      (err, _out, errText) => (err ? reject(new Error(`chromium failed: ${err.message}\n${errText}`)) : resolve(errText)),
    );
  });
  return { console: stderr.split('\n').filter((l) => /CONSOLE|Refused to|Uncaught/.test(l)) };
}
