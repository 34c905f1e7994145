/**
 * Exhaustive grid search: trial `number` takes grid point `number`, in `gridOf` order or a seeded
 * shuffle of it (so an early-stopped study has still spread over the grid). A failed trial's point is
 * not retried: the mapping from number to point is fixed, which is what makes a restart safe.
 */
import { CrlError } from '../../../common/errors.js';
import { Rng } from '../../../common/random.js';
import { checkTrialNumber } from '../checks.js';
import type { Sampler, SamplerContext } from '../sampler.js';
import { gridOf, type ParamAssignment, type SearchSpace } from '../space.js';

export class GridSampler implements Sampler {
  readonly name = 'grid';
  /**
   * The last grid built, keyed by the space's JSON, not its identity, so a space edited in place
   * cannot be served a stale grid. A cache only: every result is still a function of the inputs.
   */
  private memo: { key: string; points: ParamAssignment[]; order: number[] | undefined } | undefined;

  constructor(
    private readonly seed: number,
    private readonly shuffle: boolean,
  ) {}

  sample(ctx: SamplerContext, number: number): ParamAssignment {
    checkTrialNumber(number);
    const { points, order } = this.grid(ctx.space);
    if (number >= points.length) {
      throw new CrlError(
        'FAILED_PRECONDITION',
        `the grid has ${points.length} points, all taken; trial ${number} has none left`,
        { field: 'number' },
      );
    }
    const point = points[order === undefined ? number : (order[number] as number)] as ParamAssignment;
    return { ...point };
  }

  capacity(space: SearchSpace): number {
    return this.grid(space).points.length;
  }

  private grid(space: SearchSpace): { points: ParamAssignment[]; order: number[] | undefined } {
    const key = JSON.stringify(space);
    if (this.memo?.key !== key) {
      const points = gridOf(space);
      const order = this.shuffle ? new Rng(`${this.seed}/grid`).permutation(points.length) : undefined;
      this.memo = { key, points, order };
    }
    return this.memo;
  }
}
