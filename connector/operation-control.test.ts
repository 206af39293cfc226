import { describe, expect, it } from 'vitest';
import { errorLimit } from './operation-control.ts';

describe('errorLimit', () => {
  it('takes a count as it is and a percentage of the operation, rounded down', () => {
    expect(errorLimit(3, 100)).toBe(3);
    expect(errorLimit('10%', 25)).toBe(2);
    expect(errorLimit('0%', 25)).toBe(0);
    expect(errorLimit('100%', 7)).toBe(7);
  });

  it('sets no limit when maxErrors is absent', () => {
    expect(errorLimit(undefined, 10)).toBeUndefined();
  });
});
