import { createInterface } from 'node:readline';
import type { CliIO } from './options.js';

/**
 * Ask a yes/no question on stderr and read one line from stdin. Only `y` / `yes` (any case)
 * is a yes; an empty line, anything else, or end of input is a no.
 */
export async function confirm(io: CliIO, question: string): Promise<boolean> {
  io.stderr.write(`${question} [y/N] `);
  const rl = createInterface({ input: io.stdin, terminal: false });
  try {
    const answer = await new Promise<string | null>((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(null));
    });
    if (answer === null) io.stderr.write('\n');
    return /^\s*y(es)?\s*$/i.test(answer ?? '');
  } finally {
    rl.close();
  }
}
