import { afterEach, describe, expect, it, vi } from 'vitest';
import { errorOf } from '../../helpers/errors.js';
import { TrainerRegistry, type TrainerEntry } from '../../../coordinator/registry.js';

function fakeClock(start = 1_000_000) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

describe('TrainerRegistry', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('refuses a second live trainer under one id, and allows it once the first is declared dead', () => {
    const clock = fakeClock();
    const reg = new TrainerRegistry({ heartbeatTimeoutMs: 5000, clock, timer: false });
    reg.register('t1', '127.0.0.1:1', 'wasm');
    const err = errorOf(() => reg.register('t1', '127.0.0.1:2', 'wasm'));
    expect(err.code).toBe('ALREADY_EXISTS');
    expect(err.where.field).toBe('trainer_id');
    expect(err.message).toMatch(/t1 is registered and alive \(at 127\.0\.0\.1:1/);
    clock.t += 5001;
    expect(reg.checkLiveness().map((t) => t.id)).toEqual(['t1']);
    expect(reg.register('t1', '127.0.0.1:2', 'webgpu').address).toBe('127.0.0.1:2');
  });

  it('names missing fields', () => {
    const reg = new TrainerRegistry({ heartbeatTimeoutMs: 5000, timer: false });
    expect(errorOf(() => reg.register('', 'h:1', 'x')).where.field).toBe('trainer_id');
    expect(errorOf(() => reg.register('t', '', 'x')).where.field).toBe('address');
  });

  it('answers a heartbeat of an unknown trainer with NOT_FOUND (so it registers again)', () => {
    const reg = new TrainerRegistry({ heartbeatTimeoutMs: 5000, timer: false });
    expect(errorOf(() => reg.heartbeat('ghost')).code).toBe('NOT_FOUND');
  });

  it('declares a trainer dead after the timeout without heartbeat, and tells the listeners', () => {
    const clock = fakeClock();
    const reg = new TrainerRegistry({ heartbeatTimeoutMs: 5000, clock, timer: false });
    const deaths: [string, string][] = [];
    reg.onDeath((t, why) => deaths.push([t.id, why]));
    reg.register('t1', 'h:1', 'wasm');
    reg.register('t2', 'h:2', 'wasm');
    clock.t += 4000;
    reg.heartbeat('t2');
    expect(reg.checkLiveness()).toEqual([]);
    clock.t += 1001;
    expect(reg.checkLiveness().map((t) => t.id)).toEqual(['t1']);
    expect(deaths).toEqual([['t1', 'no heartbeat for 5001 ms (timeout 5000 ms)']]);
    expect(reg.list().map((t) => t.id)).toEqual(['t2']);
    expect(errorOf(() => reg.heartbeat('t1')).code).toBe('NOT_FOUND');
  });

  it('checks liveness on its own timer', () => {
    vi.useFakeTimers();
    const clock = fakeClock();
    const reg = new TrainerRegistry({ heartbeatTimeoutMs: 1000, checkIntervalMs: 100, clock });
    const dead: TrainerEntry[] = [];
    reg.onDeath((t) => dead.push(t));
    reg.register('t1', 'h:1', 'cpu');
    clock.t += 1200;
    vi.advanceTimersByTime(100);
    expect(dead.map((t) => t.id)).toEqual(['t1']);
    reg.close();
  });

  it('a suspect trainer is not offered to trials until it heartbeats again', () => {
    const clock = fakeClock();
    const reg = new TrainerRegistry({ heartbeatTimeoutMs: 5000, clock, timer: false });
    reg.register('t1', '127.0.0.1:1', 'wasm');
    reg.register('t2', '127.0.0.1:2', 'wasm');
    reg.suspect('t2');
    expect(reg.idle().map((t) => t.id)).toEqual(['t1']);
    expect(reg.counts()).toEqual({ idle: 2, busy: 0 });
    clock.t += 100;
    reg.heartbeat('t2');
    expect(reg.idle().map((t) => t.id)).toEqual(['t1', 't2']);
    // A suspect that never heartbeats is declared dead by the timeout as usual.
    reg.suspect('t1');
    clock.t += 5100;
    reg.heartbeat('t2');
    expect(reg.checkLiveness().map((t) => t.id)).toEqual(['t1']);
  });

  it('tracks idle and busy, claiming all or none', () => {
    const reg = new TrainerRegistry({ heartbeatTimeoutMs: 5000, timer: false });
    let changes = 0;
    reg.onChange(() => changes++);
    for (const id of ['t10', 't2', 't1']) reg.register(id, `h:${id}`, 'cpu');
    expect(reg.idle().map((t) => t.id)).toEqual(['t1', 't2', 't10']);
    reg.claim(['t1', 't2'], 'trial-a');
    expect(reg.counts()).toEqual({ idle: 1, busy: 2 });
    expect(reg.stateOf(reg.get('t1')!)).toBe('busy');
    expect(errorOf(() => reg.claim(['t10', 't2'], 'trial-b')).code).toBe('FAILED_PRECONDITION');
    expect(reg.get('t10')!.trialId).toBeUndefined();
    reg.release(['t1', 't2'], 'trial-other');
    expect(reg.counts().busy).toBe(2);
    reg.release(['t1', 't2'], 'trial-a');
    expect(reg.counts()).toEqual({ idle: 3, busy: 0 });
    expect(changes).toBe(5);
  });
});
