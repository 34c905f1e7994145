/** Independent uniform sampling; trial `number` draws from the stream `${seed}/random/${number}`. */
import { Rng } from '../../../common/random.js';
import { checkTrialNumber } from '../checks.js';
import type { Sampler, SamplerContext } from '../sampler.js';
import type { ParamAssignment } from '../space.js';
import { drawUniform } from './uniform.js';

export class RandomSampler implements Sampler {
  readonly name = 'random';

  constructor(private readonly seed: number) {}

  sample(ctx: SamplerContext, number: number): ParamAssignment {
    checkTrialNumber(number);
    return drawUniform(ctx.space, new Rng(`${this.seed}/random/${number}`));
  }

  capacity(): number {
    return Infinity;
  }
}
