/**
 * Where studies survive the coordinator: NATS JetStream KV (the cluster already runs NATS with
 * JetStream; bucket `crl_studies`, one key per study, the whole study as JSON), or memory for
 * tests. What is kept is everything the study needs to go on: the spec text, every trial's
 * parameters, outcome, intermediate values and attempts. The samplers are pure functions of the
 * seed and this history, so nothing else of theirs needs saving.
 */
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { StudyState } from '../../proto/gen/crl/v1/study.js';
import type { TrialRecord } from './history.js';

export interface PersistedStudy {
  format: 'crl-study';
  version: 1;
  id: string;
  specText: string;
  state: StudyState;
  reason: string;
  createdMs: number;
  startedMs: number;
  records: TrialRecord[];
  attempts: string[][];
  reasons: string[];
}

export interface StudyStore {
  save(study: PersistedStudy): Promise<void>;
  loadAll(): Promise<PersistedStudy[]>;
}

export class MemoryStudyStore implements StudyStore {
  readonly studies = new Map<string, string>();

  save(study: PersistedStudy): Promise<void> {
    this.studies.set(study.id, JSON.stringify(study));
    return Promise.resolve();
  }

  loadAll(): Promise<PersistedStudy[]> {
    return Promise.resolve([...this.studies.values()].map((s) => JSON.parse(s) as PersistedStudy));
  }
}

export const STUDY_BUCKET = 'crl_studies';

export class KvStudyStore implements StudyStore {
  private constructor(private readonly kv: KV) {}

  /** Opens (creating if needed) the bucket on the connection's JetStream. */
  static async open(nc: NatsConnection, bucket = STUDY_BUCKET): Promise<KvStudyStore> {
    // history 1: only the latest state of a study matters; server 2.9 has no per-key TTL, and
    // studies are kept until deleted.
    const kv = await new Kvm(nc).create(bucket, { history: 1 });
    return new KvStudyStore(kv);
  }

  async save(study: PersistedStudy): Promise<void> {
    await this.kv.put(keyOf(study.id), JSON.stringify(study));
  }

  async loadAll(): Promise<PersistedStudy[]> {
    const out: PersistedStudy[] = [];
    for await (const key of await this.kv.keys('study.>')) {
      const entry = await this.kv.get(key);
      if (entry === null || entry.length === 0) continue;
      const study = entry.json<PersistedStudy>();
      if (study.format === 'crl-study' && study.version === 1) out.push(study);
    }
    return out;
  }
}

function keyOf(id: string): string {
  return `study.${id}`;
}
