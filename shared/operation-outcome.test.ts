import { describe, expect, it } from 'vitest';
import { decideOperationStatus } from './operation-outcome.ts';

describe('decideOperationStatus', () => {
  it('is Pending before any result and InProgress while results are missing', () => {
    expect(decideOperationStatus({}, 3)).toBe('Pending');
    expect(decideOperationStatus({ Success: 2 }, 3)).toBe('InProgress');
  });

  it('is Success when every device succeeded or was served from cache', () => {
    expect(decideOperationStatus({ Success: 2, Cached: 1 }, 3)).toBe('Success');
  });

  it('is Failed when no device succeeded', () => {
    expect(decideOperationStatus({ Failed: 1, Unreachable: 1, TimedOut: 1 }, 3)).toBe('Failed');
  });

  it('is CompletedWithErrors on a mix of success and failure', () => {
    expect(decideOperationStatus({ Success: 2, Failed: 1 }, 3)).toBe('CompletedWithErrors');
  });

  it('is Cancelled when the rest of a successful start was cancelled', () => {
    expect(decideOperationStatus({ Success: 1, Cancelled: 2 }, 3)).toBe('Cancelled');
    expect(decideOperationStatus({ Failed: 1, Cancelled: 2 }, 3)).toBe('CompletedWithErrors');
  });
});
