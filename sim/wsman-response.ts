import { randomUUID } from 'node:crypto';
import { ACTION, ANONYMOUS_ADDRESS, NS } from '../shared/wsman.ts';
import { escapeXml } from './xml.ts';

/** Prefixes as Windows writes them; clients must not depend on them, and ours do not. */
const ENVELOPE_NS = [
  `xmlns:s="${NS.soap}"`,
  `xmlns:a="${NS.addressing}"`,
  `xmlns:x="${NS.transfer}"`,
  `xmlns:w="${NS.wsman}"`,
  `xmlns:rsp="${NS.shell}"`,
  `xmlns:p="${NS.msWsman}"`,
].join(' ');

/** A complete SOAP envelope answering the request whose MessageID is `relatesTo`. */
export function envelope(action: string, relatesTo: string, body: string): string {
  const messageId = `uuid:${randomUUID().toUpperCase()}`;
  const relates = relatesTo ? `<a:RelatesTo>${escapeXml(relatesTo)}</a:RelatesTo>` : '';
  return (
    `<s:Envelope xml:lang="en-US" ${ENVELOPE_NS}><s:Header>` +
    `<a:Action>${action}</a:Action><a:MessageID>${messageId}</a:MessageID>` +
    `<a:To>${ANONYMOUS_ADDRESS}</a:To>${relates}</s:Header>` +
    `<s:Body>${body}</s:Body></s:Envelope>`
  );
}

/** What a WSManFault says; `code` is the Windows error number in the `Code` attribute. */
export interface FaultSpec {
  code: number;
  /** SOAP fault code: `s:Sender` (the client's mistake) or `s:Receiver`. */
  soapCode: 'Sender' | 'Receiver';
  /** WS-Management subcode, qualified with the `w:` prefix as Windows sends it. */
  subcode: string;
  reason: string;
  /** The WSManFault message when it differs from the reason. */
  message?: string;
  /** Optional `w:FaultDetail` URI. */
  detail?: string;
}

/** A SOAP fault envelope in the shape Windows sends (HTTP 500). */
export function faultEnvelope(relatesTo: string, fault: FaultSpec, machine: string): string {
  const detail = fault.detail ? `<w:FaultDetail>${fault.detail}</w:FaultDetail>` : '';
  const message = escapeXml(fault.message ?? fault.reason);
  const body =
    `<s:Fault><s:Code><s:Value>s:${fault.soapCode}</s:Value>` +
    `<s:Subcode><s:Value>${fault.subcode}</s:Value></s:Subcode></s:Code>` +
    `<s:Reason><s:Text xml:lang="en-US">${escapeXml(fault.reason)}</s:Text></s:Reason>` +
    `<s:Detail>${detail}<f:WSManFault xmlns:f="${NS.wsmanFault}" Code="${fault.code}" ` +
    `Machine="${escapeXml(machine)}"><f:Message>${message}</f:Message></f:WSManFault>` +
    `</s:Detail></s:Fault>`;
  return envelope(ACTION.wsmanFault, relatesTo, body);
}
