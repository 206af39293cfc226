import { NS } from '../shared/wsman.ts';
import { child, children, MalformedXmlError, parseXml, type XmlElement } from './xml.ts';

/** The parts of a WS-Management request the simulated device acts on. */
export interface WsmanRequest {
  action: string;
  messageId: string;
  resourceUri: string;
  selectors: Map<string, string>;
  options: Map<string, string>;
  /** OperationTimeout from the header; Windows' default of 60 s when absent. */
  operationTimeoutMs: number;
  /** The first element of the SOAP body, if any. */
  body: XmlElement | undefined;
}

const DEFAULT_OPERATION_TIMEOUT_MS = 60_000;

/** Parses a SOAP envelope; throws MalformedXmlError when it is not one. */
export function parseWsmanRequest(text: string): WsmanRequest {
  const envelope = parseXml(text);
  if (envelope.ns !== NS.soap || envelope.local !== 'Envelope') {
    throw new MalformedXmlError(
      `expected a SOAP 1.2 Envelope, got {${envelope.ns}}${envelope.local}`,
    );
  }
  const header = child(envelope, NS.soap, 'Header');
  const body = child(envelope, NS.soap, 'Body');
  const headerText = (ns: string, local: string) => child(header, ns, local)?.text.trim() ?? '';
  return {
    action: headerText(NS.addressing, 'Action'),
    messageId: headerText(NS.addressing, 'MessageID'),
    resourceUri: headerText(NS.wsman, 'ResourceURI'),
    selectors: namedValues(child(header, NS.wsman, 'SelectorSet'), 'Selector'),
    options: namedValues(child(header, NS.wsman, 'OptionSet'), 'Option'),
    operationTimeoutMs: parseDurationMs(headerText(NS.wsman, 'OperationTimeout')),
    body: body?.children[0],
  };
}

function namedValues(set: XmlElement | undefined, local: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const element of children(set, NS.wsman, local)) {
    const name = element.attrs.get('Name');
    if (name !== undefined) values.set(name, element.text.trim());
  }
  return values;
}

/**
 * Parses an xs:duration such as `PT20S`, `PT60.000S` or `PT1M30S` into milliseconds;
 * the default when absent or unreadable.
 */
export function parseDurationMs(text: string): number {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) return DEFAULT_OPERATION_TIMEOUT_MS;
  const [, days = '0', hours = '0', minutes = '0', seconds = '0'] = match;
  const totalSeconds =
    Number(days) * 86_400 + Number(hours) * 3_600 + Number(minutes) * 60 + Number(seconds);
  return Math.round(totalSeconds * 1000);
}
