import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * vitest globalSetup: every temp dir a test, a collector, a sensor or a peer makes during the run
 * goes under one run directory (TMPDIR, which os.tmpdir() and child processes read), removed when
 * the run ends, so dozens of runs do not leave thousands of directories (and file exporters' output)
 * behind. AIBOM_KEEP_TEST_TMP=1 keeps it for a look after a failure; its path is printed.
 */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'aibom-test-run-'));
  // As open as /tmp (sticky, world-writable): tests run peers as other users that must reach their own dirs in it.
  chmodSync(dir, 0o1777);
  process.env.TMPDIR = dir;
  return () => {
    if (process.env.AIBOM_KEEP_TEST_TMP === '1') {
      process.stdout.write(`test temp files kept in ${dir}\n`);
      return;
    }
    rmSync(dir, { recursive: true, force: true });
  };
}
