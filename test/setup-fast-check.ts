import fc from 'fast-check';

/**
 * Property tests run from one fixed seed, so that a run of `npm test` (and CI) is repeatable:
 * a failure can be replayed exactly, and a change cannot turn CI red by drawing new inputs.
 * `FC_SEED=random` explores new inputs (do it when changing a parser); `FC_SEED=<n>` replays.
 */
const seedSetting = process.env.FC_SEED ?? '20261203';
if (seedSetting !== 'random') {
  const seed = Number.parseInt(seedSetting, 10);
  if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer or "random"`);
  fc.configureGlobal({ seed });
}
