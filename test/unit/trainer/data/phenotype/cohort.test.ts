import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readKeyedCsv, type KeyedTable } from '../../../../../common/csv.js';
import { isDag, readGraph, type Graph } from '../../../../../common/graph.js';
import { column } from '../../../../../common/matrix.js';
import { readNpy } from '../../../../../trainer/data/formats/npy.js';
import { readManifest, type DatasetManifest } from '../../../../../trainer/data/manifest.js';
import { modalitySpecsOf } from '../../../../../trainer/data/modality-specs.js';
import { PHENOTYPE_EXOGENOUS, writePhenotypeCohort } from '../../../../../trainer/data/phenotype/write.js';
import { naivePearson } from '../../../../helpers/stats.js';
import { tempDir } from '../../../../helpers/tmp.js';

const N = 300;
const S = 32;
const T = 96;

function lines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').slice(0, -1);
}

function edgeNames(g: Graph): string[] {
  return g.edges.map(([a, b, mark]) => `${g.nodes[a]} ${mark} ${g.nodes[b]}`);
}

/** Column `name` of a keyed table, reordered to `ids`. */
function byId(t: KeyedTable, name: string, ids: readonly string[]): Float64Array {
  const j = t.table.columns.indexOf(name);
  expect(j).toBeGreaterThanOrEqual(0);
  const values = column(t.table, j);
  const at = new Map(t.ids.map((id, r) => [id, r]));
  return Float64Array.from(ids, (id) => values[at.get(id)!]!);
}

/** Residuals of y after a separate least-squares line on x within each group. */
function residualWithin(y: Float64Array, x: Float64Array, group: Float64Array): Float64Array {
  const out = new Float64Array(y.length);
  for (const g of new Set(group)) {
    const rows = [...group.keys()].filter((r) => group[r] === g);
    const mx = rows.reduce((a, r) => a + x[r]!, 0) / rows.length;
    const my = rows.reduce((a, r) => a + y[r]!, 0) / rows.length;
    const sxy = rows.reduce((a, r) => a + (x[r]! - mx) * (y[r]! - my), 0);
    const sxx = rows.reduce((a, r) => a + (x[r]! - mx) ** 2, 0);
    for (const r of rows) out[r] = y[r]! - my - (sxy / sxx) * (x[r]! - mx);
  }
  return out;
}

describe('phenotype cohort (n = 300, npy + csv)', () => {
  const dir = join(tempDir('crl-phenotype-'), 'cohort');
  let returned: DatasetManifest;
  let participants: string[];
  let latents: KeyedTable;
  let phenotypes: KeyedTable;

  beforeAll(async () => {
    returned = await writePhenotypeCohort(dir, { n: N, seed: 11 });
    participants = lines(join(dir, 'participants.txt'));
    latents = readKeyedCsv(join(dir, 'truth/latents.csv'), 'participant_id');
    phenotypes = readKeyedCsv(join(dir, 'phenotypes.csv'), 'participant_id');
  });

  it('writes a keyed manifest that validates, with the shapes it declares', () => {
    const m = readManifest(dir);
    expect(m).toEqual(returned);
    expect(m.participants).toBe('participants.txt');
    expect(m.truth?.id_column).toBe('participant_id');
    expect(m.modalities.map((x) => [x.name, x.kind])).toEqual([
      ['fundus_right', 'image'],
      ['fundus_left', 'image'],
      ['sleep', 'timeseries'],
      ['blood_tests', 'tabular'],
    ]);
    expect(m.generator?.phenotypes).toBe('phenotypes.csv');
    // The truth records no exogenous variables, yet the model the manifest asks for gives every
    // modality slots for its own content, sized by kind.
    for (const spec of modalitySpecsOf(m, 'dataset.json')) {
      expect(spec.exogenous, spec.name).toBe(PHENOTYPE_EXOGENOUS[spec.kind]);
      expect(spec.exogenous).toBeGreaterThan(0);
    }

    const right = readNpy(join(dir, 'fundus_right.npy')).header;
    const left = readNpy(join(dir, 'fundus_left.npy')).header;
    const sleep = readNpy(join(dir, 'sleep.npy')).header;
    expect(right.dtype).toBe('|u1');
    expect(right.shape).toEqual([N, S, S, 3]);
    expect(left.shape).toEqual([N - 15, S, S, 3]);
    expect(sleep.dtype).toBe('<f4');
    expect(sleep.shape).toEqual([N - 15, T, 3]);
    const blood = readKeyedCsv(join(dir, 'blood_tests.csv'), 'participant_id');
    expect(blood.table.columns).toHaveLength(10);
    expect(blood.ids).toEqual(participants);
  });

  it('lists participants once each; 5 % lack sleep, 5 % the left eye, nobody lacks everything', () => {
    expect(participants).toHaveLength(N);
    expect(participants[0]).toBe('P000001');
    expect(participants[N - 1]).toBe('P000300');
    const all = new Set(participants);
    expect(all.size).toBe(N);

    const right = lines(join(dir, 'fundus_right-ids.txt'));
    const left = lines(join(dir, 'fundus_left-ids.txt'));
    const sleep = lines(join(dir, 'sleep-ids.txt'));
    expect(right).toEqual(participants);
    for (const ids of [left, sleep]) {
      expect(ids).toHaveLength(N - 15);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.every((id) => all.has(id))).toBe(true);
      // In participant order, so row r of the array is the r-th present participant.
      expect([...ids].sort()).toEqual(ids);
    }
    // Drawn separately: the two missing sets are not the same participants.
    const noLeft = participants.filter((id) => !left.includes(id));
    const noSleep = participants.filter((id) => !sleep.includes(id));
    expect(noLeft).not.toEqual(noSleep);
    const present = new Map(participants.map((id) => [id, 0]));
    for (const ids of [
      right,
      left,
      sleep,
      lines(join(dir, 'blood_tests.csv')).map((l) => l.split(',')[0]!),
    ]) {
      for (const id of ids) if (present.has(id)) present.set(id, present.get(id)! + 1);
    }
    expect(Math.min(...present.values())).toBeGreaterThanOrEqual(2);
    expect(readManifest(dir).generator?.missing_counts).toEqual({ sleep: 15, fundus_left: 15 });
  });

  it('writes acyclic truth graphs with the designed edges, over the truth files’ columns', () => {
    const g = readGraph(join(dir, 'truth/graph.json'));
    const a = readGraph(join(dir, 'truth/analysis-graph.json'));
    expect(isDag(g)).toBe(true);
    expect(isDag(a)).toBe(true);
    expect(g.nodes).toEqual(latents.table.columns);
    expect(latents.ids).toEqual(participants);
    expect(a.nodes).toEqual([...latents.table.columns, ...phenotypes.table.columns]);
    expect(phenotypes.table.columns).toEqual(['age', 'sex', 'bmi', 'grip_left', 'grip_right']);
    expect(phenotypes.ids).toEqual(participants);

    const latentEdges = edgeNames(g);
    for (const e of ['z4_1 --> z1_2', 'z4_1 --> z2_2', 'z4_2 --> z1_2', 'z3_1 --> z4_2', 'z3_1 --> z3_2']) {
      expect(latentEdges).toContain(e);
    }
    // The eyes correlate through common causes only.
    expect(latentEdges.some((e) => /z1_\d --> z2_|z2_\d --> z1_/.test(e))).toBe(false);
    const all = edgeNames(a);
    for (const e of [
      'age --> z1_1',
      'age --> z2_1',
      'z1_1 --> grip_left',
      'age --> grip_left',
      'sex --> grip_left',
      'age --> grip_right',
      'bmi --> z3_1',
      'bmi --> z4_1',
      'sex --> z1_3',
      ...latentEdges,
    ]) {
      expect(all).toContain(e);
    }
    expect(all).not.toContain('z1_1 --> grip_right');
    const m = readManifest(dir);
    expect(m.generator?.designed_edges).toHaveLength(all.length);
  });

  it('draws the optic disc with the disc-size latent, on the nasal side of each eye', () => {
    const ids = lines(join(dir, 'fundus_left-ids.txt'));
    for (const [eye, latent, rowIds] of [
      ['fundus_right', 'z1_3', participants],
      ['fundus_left', 'z2_3', ids],
    ] as const) {
      const { data } = readNpy(join(dir, `${eye}.npy`));
      const bright = new Float64Array(rowIds.length);
      let colSum = 0;
      for (let r = 0; r < rowIds.length; r++) {
        for (let p = 0; p < S * S; p++) {
          if (data[(r * S * S + p) * 3 + 1]! > 150) {
            bright[r]! += 1;
            colSum += p % S;
          }
        }
      }
      expect(naivePearson(bright, byId(latents, latent, rowIds))).toBeGreaterThan(0.8);
      const meanCol = colSum / bright.reduce((x, y) => x + y, 0);
      if (eye === 'fundus_right') expect(meanCol).toBeGreaterThan(S * 0.6);
      else expect(meanCol).toBeLessThan(S * 0.4);
    }
  });

  it('darkens the fundus with vessel calibre and, at fixed calibre, with vessel density', () => {
    const { data } = readNpy(join(dir, 'fundus_right.npy'));
    const darkness = new Float64Array(N);
    for (let r = 0; r < N; r++) {
      for (let p = 0; p < S * S; p++) {
        const red = data[(r * S * S + p) * 3]!;
        const green = data[(r * S * S + p) * 3 + 1]!;
        // Vessels lower green more than red; the background's green/red ratio is about 0.46.
        if (red > 20) darkness[r]! += Math.max(0, 1 - green / red / 0.46);
      }
    }
    const calibre = byId(latents, 'z1_2', participants);
    const density = byId(latents, 'z1_1', participants);
    expect(naivePearson(darkness, calibre)).toBeGreaterThan(0.5);
    const ones = new Float64Array(N);
    expect(naivePearson(residualWithin(darkness, calibre, ones), density)).toBeGreaterThan(0.4);
  });

  it('makes SpO2 dips below 90 % follow apnea severity and movement follow fragmentation', () => {
    const ids = lines(join(dir, 'sleep-ids.txt'));
    const { data } = readNpy(join(dir, 'sleep.npy'));
    const dips = new Float64Array(ids.length);
    const bursts = new Float64Array(ids.length);
    let min = Infinity;
    let max = -Infinity;
    for (let r = 0; r < ids.length; r++) {
      for (let t = 0; t < T; t++) {
        const spo2 = data[(r * T + t) * 3]!;
        min = Math.min(min, spo2);
        max = Math.max(max, spo2);
        if (spo2 < 90) dips[r]! += 1;
        if (data[(r * T + t) * 3 + 2]! > 0.7) bursts[r]! += 1;
      }
    }
    expect(min).toBeGreaterThanOrEqual(70);
    expect(max).toBeLessThanOrEqual(100);
    expect(naivePearson(dips, byId(latents, 'z3_1', ids))).toBeGreaterThan(0.7);
    expect(naivePearson(bursts, byId(latents, 'z3_2', ids))).toBeGreaterThan(0.5);
  });

  it('drives the blood tests by the metabolic and inflammation latents', () => {
    const blood = readKeyedCsv(join(dir, 'blood_tests.csv'), 'participant_id');
    const metabolic = byId(latents, 'z4_1', participants);
    const inflammation = byId(latents, 'z4_2', participants);
    expect(naivePearson(byId(blood, 'hba1c', participants), metabolic)).toBeGreaterThan(0.6);
    expect(naivePearson(byId(blood, 'insulin', participants).map(Math.log), metabolic)).toBeGreaterThan(0.6);
    expect(naivePearson(byId(blood, 'crp', participants).map(Math.log), inflammation)).toBeGreaterThan(0.6);
  });

  it('gives the phenotypes the designed dependence: age on retinal factors, the right eye on the left grip', () => {
    const age = byId(phenotypes, 'age', participants);
    const sex = byId(phenotypes, 'sex', participants);
    const right = byId(latents, 'z1_1', participants);
    expect(Math.min(...age)).toBeGreaterThanOrEqual(40);
    expect(Math.max(...age)).toBeLessThanOrEqual(70);
    expect(new Set(sex)).toEqual(new Set([0, 1]));
    expect(naivePearson(age, right)).toBeLessThan(-0.5);
    expect(naivePearson(age, byId(latents, 'z2_1', participants))).toBeLessThan(-0.5);

    const rightGivenAge = residualWithin(right, age, sex);
    const partial = (grip: string) =>
      naivePearson(residualWithin(byId(phenotypes, grip, participants), age, sex), rightGivenAge);
    expect(partial('grip_left')).toBeGreaterThan(0.3);
    // grip_right has no edge from the eye: given age and sex the two are independent.
    expect(Math.abs(partial('grip_right'))).toBeLessThan(0.2);
  });
});
