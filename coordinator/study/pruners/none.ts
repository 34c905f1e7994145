/** The pruner of a study that runs every trial to the end. */
import type { Pruner } from '../pruner.js';

export class NopPruner implements Pruner {
  readonly name = 'none';

  shouldPrune(): boolean {
    return false;
  }
}
