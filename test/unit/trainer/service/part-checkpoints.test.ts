import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { latestCompleteStep, partName, writePart } from '../../../../trainer/service/part-checkpoints.js';
import { tempDir } from '../../../helpers/tmp.js';

const files = { manifest: '{}\n', weights: new Uint8Array(8) };

describe('group checkpoints on a shared volume', () => {
  it('resumes from the latest step every part finished, keeping two steps per part', () => {
    const dir = tempDir();
    const a = partName(['m1'], 0);
    const b = partName(['m2', 'm3'], 0);
    expect(b).toBe('part-m2+m3-s0');
    for (const step of [50, 100, 150]) {
      writePart(dir, step, a, files);
      writePart(dir, step, b, files);
    }
    writePart(dir, 200, a, files); // the group died before b wrote step 200
    expect(latestCompleteStep(dir, [a, b])).toBe(150);
    expect(latestCompleteStep(dir, [a])).toBe(200);
    // Older steps are pruned per part.
    expect(existsSync(join(dir, 'step-50', a))).toBe(false);
    expect(existsSync(join(dir, 'step-150', a))).toBe(true);
    // A part directory without its manifest (a crash mid-write, outside the atomic rename) does not count.
    mkdirSync(join(dir, 'step-250', a), { recursive: true });
    mkdirSync(join(dir, 'step-250', b), { recursive: true });
    writeFileSync(join(dir, 'step-250', a, 'manifest.json'), '{}');
    expect(latestCompleteStep(dir, [a, b])).toBe(150);
    expect(latestCompleteStep(join(dir, 'missing'), [a])).toBeUndefined();
  });
});
