/**
 * Writes a `phenotype` cohort: a synthetic Human Phenotype Project (paper §6.3, appendix D.3)
 * with a known causal graph, keyed by participant ID like the real cohort.
 *
 *   dataset.json              manifest; `generator` names the extra files below
 *   participants.txt          P000001, P000002, ... one per line
 *   fundus_right.npy          [n, S, S, 3] uint8 + fundus_right-ids.txt   (or fundus_right/<id>.png)
 *   fundus_left.npy           [n_left, S, S, 3] + fundus_left-ids.txt      (or fundus_left/<id>.png)
 *   sleep.npy                 [n_sleep, T, 3] float32 + sleep-ids.txt
 *   blood_tests.csv|.parquet  participant_id + ten laboratory values
 *   phenotypes.csv            participant_id, age, sex, bmi, grip_left, grip_right: variables of
 *                             no modality, for `crl analyze` to join with a run's latents
 *   truth/latents.csv         participant_id + z1_1 .. z4_2 (every participant, modality or not)
 *   truth/graph.json          the designed DAG over the latents
 *   truth/analysis-graph.json the designed DAG over latents and phenotypes
 *
 * Participants are processed in chunks and every array is streamed to disk, so memory is the
 * per-participant variables (15 doubles each) plus one chunk, whatever n. Each concern draws from
 * its own forked stream, so the bytes depend only on the seed and the spec: the missing fraction
 * changes which rows are written, not the values of the others.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { formatNumber } from '../../../common/csv.js';
import { formatGraph } from '../../../common/graph.js';
import { StagedDirectory } from '../../../common/output-dir.js';
import { Rng } from '../../../common/random.js';
import { makeTable } from '../../../common/matrix.js';
import { encodePng } from '../formats/image.js';
import { NpyWriter } from '../formats/npy.js';
import { writeParquetTable } from '../formats/parquet.js';
import { MANIFEST_FILE, parseManifest, type DatasetManifest } from '../manifest.js';
import { BLOOD_COLUMNS, BLOOD_DECIMALS, bloodPanel } from './blood.js';
import {
  LATENTS,
  PHENOTYPES,
  analysisGraph,
  designedEdges,
  latentGraph,
  latentsOf,
  sampleCohortVariables,
  type CohortVariables,
} from './causal.js';
import { FundusRenderer } from './fundus.js';
import { missingMask } from './missing.js';
import { SLEEP_CHANNELS, simulateSleep } from './sleep.js';
import {
  ID_COLUMN,
  participantId,
  resolvePhenotypeSpec,
  type PhenotypeOptions,
  type PhenotypeSpec,
} from './spec.js';

/** Participants per chunk: 512 pairs of 32x32 images and sleep series are about 3.5 MB. */
const CHUNK = 512;
/** Text is flushed to disk once this many characters are pending. */
const TEXT_FLUSH = 1 << 20;

/** Decimals of the phenotype columns (PHENOTYPES order): what a clinic records. */
const PHENOTYPE_DECIMALS: readonly number[] = [1, 0, 1, 1, 1];

export async function writePhenotypeCohort(outDir: string, o: PhenotypeOptions): Promise<DatasetManifest> {
  const spec = resolvePhenotypeSpec(o);
  const root = new Rng(spec.seed);
  const vars = sampleCohortVariables(spec.n, root.fork('variables'));
  const noSleep = missingMask(spec.n, spec.missing, root.fork('missing/sleep'));
  const noLeft = missingMask(spec.n, spec.missing, root.fork('missing/fundus_left'));
  const raw = phenotypeManifest(spec, noSleep, noLeft);
  const manifest = parseManifest(raw);

  const dir = StagedDirectory.open(outDir, { overwrite: o.overwrite ?? false, flag: '--out' });
  const open: { abort(): void }[] = [];
  try {
    writeFiles(dir.staging, spec, vars, noSleep, noLeft, root, open);
    dir.write('truth/graph.json', formatGraph(latentGraph()));
    dir.write('truth/analysis-graph.json', formatGraph(analysisGraph()));
    dir.write(MANIFEST_FILE, `${JSON.stringify(raw, null, 2)}\n`);
    dir.commit();
  } catch (err) {
    for (const w of open) w.abort();
    dir.abort();
    throw err;
  }
  return manifest;
}

function writeFiles(
  staging: string,
  spec: PhenotypeSpec,
  vars: CohortVariables,
  noSleep: Uint8Array,
  noLeft: Uint8Array,
  root: Rng,
  open: { abort(): void }[],
): void {
  const { n, imageSize: S, nights, stepsPerNight } = spec;
  const T = nights * stepsPerNight;
  const imageBytes = S * S * 3;
  const npyImages = spec.imageFormat === 'npy';
  const get = (name: string): Float64Array => vars.get(name) as Float64Array;

  const track = <W extends { abort(): void }>(w: W): W => {
    open.push(w);
    return w;
  };
  const text = (rel: string) => track(new TextFile(join(staging, rel)));
  const participants = text('participants.txt');
  const latents = text('truth/latents.csv');
  const phenotypes = text('phenotypes.csv');
  const sleepIds = text('sleep-ids.txt');
  const rightIds = npyImages ? text('fundus_right-ids.txt') : undefined;
  const leftIds = npyImages ? text('fundus_left-ids.txt') : undefined;
  const bloodCsv = spec.tabularFormat === 'csv' ? text('blood_tests.csv') : undefined;

  const rightNpy = npyImages
    ? track(NpyWriter.create(join(staging, 'fundus_right.npy'), '|u1', [S, S, 3]))
    : undefined;
  const leftNpy = npyImages
    ? track(NpyWriter.create(join(staging, 'fundus_left.npy'), '|u1', [S, S, 3]))
    : undefined;
  const sleepNpy = track(NpyWriter.create(join(staging, 'sleep.npy'), '<f4', [T, 3]));

  latents.write(`${[ID_COLUMN, ...LATENTS.map((l) => l.name)].join(',')}\n`);
  phenotypes.write(`${[ID_COLUMN, ...PHENOTYPES].join(',')}\n`);
  bloodCsv?.write(`${[ID_COLUMN, ...BLOOD_COLUMNS].join(',')}\n`);

  const latentCols = LATENTS.map((l) => get(l.name));
  const phenotypeCols = PHENOTYPES.map((name) => get(name));
  const [rd, rc, rdisc] = ['z1_1', 'z1_2', 'z1_3'].map(get) as [Float64Array, Float64Array, Float64Array];
  const [ld, lc, ldisc] = ['z2_1', 'z2_2', 'z2_3'].map(get) as [Float64Array, Float64Array, Float64Array];
  const [apnea, frag, metabolic, inflammation] = ['z3_1', 'z3_2', 'z4_1', 'z4_2'].map(get) as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];

  const renderer = new FundusRenderer(S);
  const rightRng = root.fork('fundus_right');
  const leftRng = root.fork('fundus_left');
  const sleepRng = root.fork('sleep');
  const bloodRng = root.fork('blood_tests');
  const right = new Uint8Array(CHUNK * imageBytes);
  const left = new Uint8Array(CHUNK * imageBytes);
  const sleep = new Float32Array(CHUNK * T * 3);
  const oneImage = new Uint8Array(imageBytes);
  const oneSeries = new Float32Array(T * 3);
  const panel = new Float64Array(BLOOD_COLUMNS.length);
  // Parquet is written in one call; ten doubles per participant is small beside the images.
  const bloodTable = spec.tabularFormat === 'parquet' ? makeTable([...BLOOD_COLUMNS], n) : undefined;
  const bloodIds: string[] = [];

  for (let start = 0; start < n; start += CHUNK) {
    const end = Math.min(n, start + CHUNK);
    let leftRows = 0;
    let sleepRows = 0;
    for (let r = start; r < end; r++) {
      const id = participantId(r);
      participants.write(`${id}\n`);

      // Every participant is rendered and simulated, present or not, so the random streams
      // advance the same way whichever participants are missing.
      const rightAt = (r - start) * imageBytes;
      renderer.render(right, rightAt, { density: rd[r]!, calibre: rc[r]!, disc: rdisc[r]! }, false, rightRng);
      if (npyImages) rightIds?.write(`${id}\n`);
      else
        encodePng(
          join(staging, 'fundus_right', `${id}.png`),
          image(right.subarray(rightAt, rightAt + imageBytes), S),
        );

      renderer.render(oneImage, 0, { density: ld[r]!, calibre: lc[r]!, disc: ldisc[r]! }, true, leftRng);
      if (noLeft[r] === 0) {
        if (npyImages) {
          left.set(oneImage, leftRows * imageBytes);
          leftIds?.write(`${id}\n`);
        } else encodePng(join(staging, 'fundus_left', `${id}.png`), image(oneImage, S));
        leftRows++;
      }

      simulateSleep(
        oneSeries,
        0,
        nights,
        stepsPerNight,
        { apnea: apnea[r]!, fragmentation: frag[r]! },
        sleepRng,
      );
      if (noSleep[r] === 0) {
        sleep.set(oneSeries, sleepRows * T * 3);
        sleepIds.write(`${id}\n`);
        sleepRows++;
      }

      bloodPanel(panel, 0, metabolic[r]!, inflammation[r]!, bloodRng);
      if (bloodTable !== undefined) {
        bloodTable.data.set(panel, r * BLOOD_COLUMNS.length);
        bloodIds.push(id);
      } else {
        bloodCsv?.write(`${id},${Array.from(panel, (v, k) => fixed(v, BLOOD_DECIMALS[k]!)).join(',')}\n`);
      }

      latents.write(`${id},${latentCols.map((c) => formatNumber(c[r]!)).join(',')}\n`);
      phenotypes.write(
        `${id},${phenotypeCols.map((c, k) => fixed(c[r]!, PHENOTYPE_DECIMALS[k]!)).join(',')}\n`,
      );
    }
    if (npyImages) {
      rightNpy?.append(right.subarray(0, (end - start) * imageBytes));
      leftNpy?.append(left.subarray(0, leftRows * imageBytes));
    }
    sleepNpy.append(sleep.subarray(0, sleepRows * T * 3));
  }

  for (const w of [rightNpy, leftNpy, sleepNpy]) w?.close();
  for (const t of [participants, latents, phenotypes, sleepIds, rightIds, leftIds, bloodCsv]) t?.close();
  if (bloodTable !== undefined) {
    writeParquetTable(join(staging, 'blood_tests.parquet'), {
      columns: [...BLOOD_COLUMNS],
      table: bloodTable,
      ids: bloodIds,
      idColumn: ID_COLUMN,
    });
  }
}

function image(data: Uint8Array, size: number) {
  return { height: size, width: size, channels: 3, data };
}

/** Rounded to `decimals` and printed without trailing noise. */
function fixed(v: number, decimals: number): string {
  const scale = 10 ** decimals;
  return formatNumber(Math.round(v * scale) / scale);
}

/**
 * Exogenous slots the model fits per modality (the manifest's `exogenous`: a model size, not the
 * truth's, which records none). The paper's model gives every modality eta for the content that its
 * reconstruction needs and no other modality shares: the eyes' disc position, illumination and
 * vessel layout, the sleep series' baselines, night-to-night variation and event timing, the blood
 * panel's per-test noise. Without it (the default is the truth's count, 0 here) the latent slots
 * must carry that content too, and are no longer the model of §3. Measured on seed 1 (README): it
 * does not raise the scores; the fundus vessel factors are lost either way.
 */
export const PHENOTYPE_EXOGENOUS = { image: 8, timeseries: 4, tabular: 2 } as const;

/** The manifest as written (before schema defaults are filled in). */
function phenotypeManifest(spec: PhenotypeSpec, noSleep: Uint8Array, noLeft: Uint8Array) {
  const S = spec.imageSize;
  const T = spec.nights * spec.stepsPerNight;
  const truthOf = (m: Parameters<typeof latentsOf>[0]) => ({ latents: latentsOf(m), exogenous: [] });
  const eye = (name: 'fundus_right' | 'fundus_left') =>
    spec.imageFormat === 'npy'
      ? {
          name,
          kind: 'image' as const,
          format: 'npy' as const,
          path: `${name}.npy`,
          ids: `${name}-ids.txt`,
          height: S,
          width: S,
          channels: 3,
          latents: 3,
          exogenous: PHENOTYPE_EXOGENOUS.image,
          truth: truthOf(name),
        }
      : {
          name,
          kind: 'image' as const,
          format: 'png' as const,
          path: name,
          height: S,
          width: S,
          channels: 3,
          latents: 3,
          exogenous: PHENOTYPE_EXOGENOUS.image,
          truth: truthOf(name),
        };
  const count = (mask: Uint8Array) => mask.reduce((a, b) => a + b, 0);
  return {
    format: 'crl-dataset' as const,
    version: 1 as const,
    name: 'phenotype',
    participants: 'participants.txt',
    modalities: [
      eye('fundus_right'),
      eye('fundus_left'),
      {
        name: 'sleep',
        kind: 'timeseries' as const,
        format: 'npy' as const,
        layout: 'array' as const,
        path: 'sleep.npy',
        ids: 'sleep-ids.txt',
        length: T,
        channels: SLEEP_CHANNELS.length,
        latents: 2,
        exogenous: PHENOTYPE_EXOGENOUS.timeseries,
        truth: truthOf('sleep'),
      },
      {
        name: 'blood_tests',
        kind: 'tabular' as const,
        format: spec.tabularFormat,
        path: `blood_tests.${spec.tabularFormat}`,
        dims: BLOOD_COLUMNS.length,
        id_column: ID_COLUMN,
        latents: 2,
        exogenous: PHENOTYPE_EXOGENOUS.tabular,
        truth: truthOf('blood_tests'),
      },
    ],
    truth: { latents: 'truth/latents.csv', graph: 'truth/graph.json', id_column: ID_COLUMN },
    generator: {
      kind: 'phenotype',
      seed: spec.seed,
      n: spec.n,
      image_size: S,
      nights: spec.nights,
      steps_per_night: spec.stepsPerNight,
      sleep_channels: [...SLEEP_CHANNELS],
      blood_columns: [...BLOOD_COLUMNS],
      image_format: spec.imageFormat,
      tabular_format: spec.tabularFormat,
      missing: spec.missing,
      missing_counts: { sleep: count(noSleep), fundus_left: count(noLeft) },
      phenotypes: 'phenotypes.csv',
      phenotype_id_column: ID_COLUMN,
      analysis_graph: 'truth/analysis-graph.json',
      latent_labels: Object.fromEntries(LATENTS.map((l) => [l.name, `${l.modality}.${l.label}`])),
      designed_edges: designedEdges().map(([a, b]) => `${a} -> ${b}`),
    },
  };
}

/** A text file written in large pieces straight to its descriptor: no whole-file string. */
class TextFile {
  private fd: number | undefined;
  private pending: string[] = [];
  private size = 0;

  constructor(file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.fd = openSync(file, 'w');
  }

  write(s: string): void {
    this.pending.push(s);
    this.size += s.length;
    if (this.size >= TEXT_FLUSH) this.flush();
  }

  close(): void {
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  abort(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private flush(): void {
    if (this.fd === undefined || this.size === 0) return;
    const bytes = Buffer.from(this.pending.join(''), 'utf8');
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done);
    this.pending = [];
    this.size = 0;
  }
}
