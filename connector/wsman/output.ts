import { type DecodedClixml, decodeClixml, isClixml } from './clixml.ts';
import type { StreamChunk } from './response.ts';

/**
 * Collects a command's output bytes per stream across chunks and responses. Bytes are decoded
 * only once, at the end, so a character split between two chunks (or two Receive responses)
 * comes out whole.
 */
export class OutputCollector {
  readonly #parts = new Map<string, Buffer[]>();
  readonly #ended = new Set<string>();

  add(chunks: readonly StreamChunk[]): void {
    for (const chunk of chunks) {
      if (chunk.bytes.length > 0) this.#bytesOf(chunk.name).push(chunk.bytes);
      if (chunk.end) this.#ended.add(chunk.name);
    }
  }

  /** True once the host sent `End="true"` for the stream. */
  ended(name: string): boolean {
    return this.#ended.has(name);
  }

  text(name: string): string {
    return decodeUtf8(Buffer.concat(this.#parts.get(name) ?? []));
  }

  #bytesOf(name: string): Buffer[] {
    let parts = this.#parts.get(name);
    if (!parts) {
      parts = [];
      this.#parts.set(name, parts);
    }
    return parts;
  }
}

/** UTF-8 (code page 65001) to text; a leading byte order mark is dropped. */
export function decodeUtf8(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { ignoreBOM: false }).decode(bytes);
}

export interface DecodedStderr {
  /** Plain stderr text, or the error lines of CLIXML. */
  text: string;
  /** The other PowerShell streams, when stderr was CLIXML. */
  clixml: DecodedClixml | undefined;
}

/** Decodes stderr: CLIXML into its error text and other streams, anything else as it is. */
export function decodeStderr(text: string): DecodedStderr {
  if (!isClixml(text)) return { text, clixml: undefined };
  const clixml = decodeClixml(text);
  return { text: clixml.error, clixml };
}
