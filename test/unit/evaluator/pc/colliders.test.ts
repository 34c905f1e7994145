import { describe, expect, it } from 'vitest';
import {
  orientColliders,
  priorityFromCausalLearn,
  type ColliderPriority,
} from '../../../../evaluator/pc/colliders.js';
import { PC_DEFAULTS } from '../../../../evaluator/pc/pc.js';
import { Pdag } from '../../../../evaluator/pc/pdag.js';
import { Sepsets } from '../../../../evaluator/pc/sepsets.js';
import { adjacencyPairs, unshieldedTriples } from '../../../../evaluator/pc/triples.js';
import { edgeList } from './cpdag.js';
import { graphOf, ScriptedTest } from './helpers.js';

// Path x - y - z - w whose separating sets make both y and z colliders: x -> y <- z and y -> z <- w
// cannot both hold, so the priority decides.
const v = ['x', 'y', 'z', 'w'];
const skeleton = Pdag.fromGraph(graphOf(v, 'x--y, y--z, z--w'));
const sepsets = new Sepsets(4);
sepsets.add(0, 2, []); // x, z separated by {}: y is a collider
sepsets.add(1, 3, []); // y, w separated by {}: z is a collider
sepsets.add(0, 3, [1]);
// p-values for the ranked priorities: x _||_ z is far clearer given y than y _||_ w given z.
const test = new ScriptedTest(v, (a, b, s) => {
  if (a === 0 && b === 2) return s.includes(1) ? 0.001 : 0.5;
  if (a === 1 && b === 3) return s.includes(2) ? 0.01 : 0.3;
  return 0;
});
const orient = (priority: ColliderPriority): string[] =>
  edgeList(
    orientColliders(skeleton, { rule: 'sepset', priority, sepsets, test, alpha: 0.05 }).graph.toGraph(v),
  );

describe('collider orientation', () => {
  it('existing (2): the first collider in causal-learn order wins, the conflicting one is skipped', () => {
    expect(orient('existing')).toEqual(edgeList(graphOf(v, 'x->y, z->y, z--w')));
  });

  it('overwrite (0): later colliders overwrite earlier arrows', () => {
    expect(orient('overwrite')).toEqual(edgeList(graphOf(v, 'x->y, y->z, w->z')));
  });

  it('bidirected (1): an edge wanted both ways becomes <->', () => {
    const g = orientColliders(skeleton, {
      rule: 'sepset',
      priority: 'bidirected',
      sepsets,
      test,
      alpha: 0.05,
    }).graph;
    expect(g.isBidirected(1, 2)).toBe(true);
    expect(g.isDirected(0, 1) && g.isDirected(3, 2)).toBe(true);
    expect(g.toGraph(v).meta).toEqual({ bidirected: [[1, 2]] });
  });

  it('stronger (3): colliders visited by increasing max p given the middle node', () => {
    // max p(x,z | S with y) = 0.001 < max p(y,w | S with z) = 0.01: the y collider goes first.
    expect(orient('stronger')).toEqual(edgeList(graphOf(v, 'x->y, z->y, z--w')));
  });

  it('stronger-star (4): colliders visited by decreasing max p without the middle node', () => {
    // max p(x,z | S without y) = 0.5 > 0.3: again the y collider first.
    expect(orient('stronger-star')).toEqual(edgeList(graphOf(v, 'x->y, z->y, z--w')));
    const swapped = new ScriptedTest(v, (a, b, s) => {
      if (a === 0 && b === 2) return s.includes(1) ? 0.001 : 0.2;
      if (a === 1 && b === 3) return s.includes(2) ? 0.01 : 0.6;
      return 0;
    });
    const g = orientColliders(skeleton, {
      rule: 'sepset',
      priority: 'stronger-star',
      sepsets,
      test: swapped,
      alpha: 0.05,
    });
    expect(edgeList(g.graph.toGraph(v))).toEqual(edgeList(graphOf(v, 'x--y, y->z, w->z')));
  });

  it('uses y in the sepset union, not a single set: y in any separating set blocks the collider', () => {
    const s = new Sepsets(3);
    s.add(0, 2, [1]);
    const g = orientColliders(Pdag.fromGraph(graphOf(['a', 'b', 'c'], 'a--b, b--c')), {
      rule: 'sepset',
      sepsets: s,
      test,
      alpha: 0.05,
    });
    expect(g.graph.isUndirected(0, 1) && g.graph.isUndirected(1, 2)).toBe(true);
  });

  it("PC's default priority is causal-learn pc()'s: existing (uc_priority 2)", () => {
    expect(PC_DEFAULTS.ucPriority).toBe('existing');
    expect(priorityFromCausalLearn(2)).toBe('existing');
    expect(priorityFromCausalLearn(-1)).toBeUndefined();
    expect(() => priorityFromCausalLearn(5)).toThrow(/uc_priority/);
  });

  it('definite-maxp rejects the overwrite and bidirected priorities', () => {
    expect(() =>
      orientColliders(skeleton, { rule: 'definite-maxp', priority: 'overwrite', sepsets, test, alpha: 0.05 }),
    ).toThrow(/definite-maxp/);
  });
});

describe("causal-learn's enumeration order", () => {
  it('lists adjacencies and unshielded triples as CausalGraph does', () => {
    // Star 0 - 1 - {2, 3}, all undirected: find_adj scans the matrix row-major for tails.
    const g = Pdag.fromGraph(graphOf(['a', 'b', 'c', 'd'], 'a--b, b--c, b--d'));
    expect(adjacencyPairs(g)).toEqual([
      [1, 0],
      [0, 1],
      [2, 1],
      [3, 1],
      [1, 2],
      [1, 3],
    ]);
    expect(unshieldedTriples(g)).toEqual([
      [0, 1, 2],
      [0, 1, 3],
      [2, 1, 0],
      [2, 1, 3],
      [3, 1, 0],
      [3, 1, 2],
    ]);
  });

  it('puts arrowhead pairs after tail pairs', () => {
    const g = Pdag.fromGraph(graphOf(['a', 'b', 'c'], 'a->b, b--c'));
    // a -> b: (b, a) has a tail at a, (a, b) an arrowhead at b.
    expect(adjacencyPairs(g)).toEqual([
      [1, 0],
      [2, 1],
      [1, 2],
      [0, 1],
    ]);
  });
});
