import { describe, expect, it } from 'vitest';
import { ROUTES, SCHEDULES, WORKERS } from '../shared/routes.ts';
import { FUNCTION_ACCESS, functionAccess } from './function-access.ts';

describe('functionAccess', () => {
  it('lists every handler that a route, schedule or worker names', () => {
    const named = [...ROUTES, ...SCHEDULES, ...WORKERS];
    const unlisted = named.filter((r) => !(r.handler in FUNCTION_ACCESS));
    expect(unlisted.map((r) => r.handler)).toEqual([]);
  });

  it("lets an unlisted handler only read its area's table", () => {
    expect(functionAccess('devices-export')).toEqual({ readTables: ['devices'], writeTables: [] });
    expect(functionAccess('health')).toEqual({ readTables: [], writeTables: [] });
  });
});
