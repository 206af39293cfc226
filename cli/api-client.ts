import { z } from 'zod';
import { Operation, type OperationRequest } from '../shared/schemas/operation.ts';
import { DeviceResult } from '../shared/schemas/result.ts';

/** An error answer from the winfleet API, with the JSON error body it sent. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(`${status} ${code}: ${message}`);
    this.name = 'ApiError';
  }
}

const ErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

const Accepted = z.looseObject({ operationId: z.string(), total: z.number().int() });
const ResultsPage = z.object({
  items: z.array(DeviceResult.partial().required({ deviceId: true, siteId: true, status: true })),
  nextCursor: z.string().optional(),
});
export type ResultsPage = z.infer<typeof ResultsPage>;
export type ResultItem = ResultsPage['items'][number];

/** A small client of the HTTP API (DESIGN.md contract 3); every answer is parsed with zod. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async submit(request: OperationRequest) {
    return Accepted.parse(await this.request('POST', '/operations', request));
  }

  async operation(operationId: string): Promise<Operation> {
    return Operation.parse(await this.request('GET', `/operations/${operationId}`));
  }

  async resultsPage(operationId: string, cursor?: string): Promise<ResultsPage> {
    const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : '';
    return ResultsPage.parse(
      await this.request('GET', `/operations/${operationId}/results${query}`),
    );
  }

  /** Every result of an operation, following the pagination cursor. */
  async allResults(operationId: string): Promise<ResultItem[]> {
    const items: ResultItem[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.resultsPage(operationId, cursor);
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return items;
  }

  async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const json: unknown = text ? JSON.parse(text) : undefined;
    if (response.ok) return json;
    const parsed = ErrorBody.safeParse(json);
    if (!parsed.success) throw new ApiError(response.status, 'Unknown', text.slice(0, 500));
    const { code, message, details } = parsed.data.error;
    throw new ApiError(response.status, code, message, details);
  }
}
