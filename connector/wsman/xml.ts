import { DOMParser, type Document, type Element } from '@xmldom/xmldom';

/**
 * Parses XML from a device. Throws a plain `Error` describing the first fatal or error-level
 * problem; callers wrap it in the error type of their area.
 */
export function parseXml(text: string): Document {
  const problems: string[] = [];
  const parser = new DOMParser({
    onError: (level, message) => {
      if (level !== 'warning') problems.push(message);
    },
  });
  const doc = parser.parseFromString(text, 'text/xml');
  if (problems.length > 0) throw new Error(problems[0]);
  if (!doc.documentElement) throw new Error('no root element');
  return doc;
}

/** Element children of `parent` with the given namespace URI and local name, in order. */
export function childElements(
  parent: Element | Document,
  ns: string,
  localName: string,
): Element[] {
  const found: Element[] = [];
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType !== node.ELEMENT_NODE) continue;
    const el = node as Element;
    if (el.namespaceURI === ns && el.localName === localName) found.push(el);
  }
  return found;
}

/** The first child element with the given namespace URI and local name. */
export function childElement(
  parent: Element | Document | undefined,
  ns: string,
  localName: string,
): Element | undefined {
  if (!parent) return undefined;
  return childElements(parent, ns, localName)[0];
}

/** The first descendant element (document order) with the given namespace URI and local name. */
export function descendant(
  parent: Element | Document | undefined,
  ns: string,
  localName: string,
): Element | undefined {
  if (!parent) return undefined;
  return parent.getElementsByTagNameNS(ns, localName)[0] ?? undefined;
}

/** All descendant elements with the given namespace URI and local name. */
export function descendants(parent: Element | Document, ns: string, localName: string): Element[] {
  return Array.from(parent.getElementsByTagNameNS(ns, localName));
}

/** The element's text content, trimmed; undefined for a missing element. */
export function textOf(el: Element | undefined): string | undefined {
  if (!el) return undefined;
  return (el.textContent ?? '').trim();
}

/** Escapes text for use in XML content or a double-quoted attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ENTITIES[c] ?? c);
}

const XML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};
