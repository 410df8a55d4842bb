import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MvfleetError } from 'mvfleet';
import { processAlive } from './process-alive.js';

/** Thrown when another demo already runs from the same `.mvfleet/` folder. */
export class AlreadyRunningError extends MvfleetError {}


/**
 * Claims `<dir>/demo.pid` for this process. A second demo on the same folder fails with a
 * clear message instead of starting a second PostgreSQL on the same data directory; a pid
 * file left by a demo that died is taken over.
 */
export async function claimInstance(dir: string): Promise<{ release(): Promise<void> }> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'demo.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, String(process.pid), { flag: 'wx' });
      return { release: () => rm(file, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner)) {
        throw new AlreadyRunningError(`a demo is already running from ${dir} (pid ${owner}); stop it first or run from another folder`);
      }
      await rm(file, { force: true });
    }
  }
  throw new AlreadyRunningError(`could not claim ${file}`);
}
