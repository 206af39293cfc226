import { randomBytes } from 'node:crypto';

/** Base-36 digits of the millisecond clock: 9 of them last until the year 5188. */
const TIME_DIGITS = 9;
const RANDOM_DIGITS = 12;

/**
 * A new operation id: `op-`, the creation time in base 36 (so ids sort by time), then 12
 * random base-36 digits. Matches `OperationId` in `shared/`.
 */
export function newOperationId(nowMs = Date.now()): string {
  const time = nowMs.toString(36).padStart(TIME_DIGITS, '0');
  return `op-${time}${randomDigits(RANDOM_DIGITS)}`;
}

function randomDigits(count: number): string {
  let digits = '';
  while (digits.length < count) {
    for (const byte of randomBytes(count)) {
      // 252 is the largest multiple of 36 below 256: rejecting bytes above it keeps digits uniform.
      if (byte < 252 && digits.length < count) digits += (byte % 36).toString(36);
    }
  }
  return digits;
}
