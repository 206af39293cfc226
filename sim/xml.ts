import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** One element of a parsed request, its name and attributes resolved to namespace URIs. */
export interface XmlElement {
  ns: string;
  local: string;
  /** Attributes keyed by local name (unprefixed, or prefixed attributes by `{uri}local`). */
  attrs: Map<string, string>;
  children: XmlElement[];
  text: string;
}

/** The request body is not well-formed XML, or uses a prefix it never declared. */
export class MalformedXmlError extends Error {
  override name = 'MalformedXmlError';
}

type OrderedNode = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

const XML_NS = 'http://www.w3.org/XML/1998/namespace';

/**
 * Parses an XML document and resolves every prefix against the `xmlns` declarations in scope,
 * so callers match elements by namespace URI and never by the prefix a client happened to use.
 */
export function parseXml(text: string): XmlElement {
  const nodes = parseNodes(text);
  if (!Array.isArray(nodes)) throw new MalformedXmlError('invalid XML: no root element');
  const roots = nodes.map((node) => toElement(node as OrderedNode, new Map([['xml', XML_NS]])));
  const root = roots.find((element) => element !== undefined);
  if (!root) throw new MalformedXmlError('invalid XML: no root element');
  return root;
}

/**
 * The parser's node list. fast-xml-parser's validator and parser can both throw plain errors on
 * truncated input (`<A/` makes the validator itself fail), so every failure is a
 * MalformedXmlError: a device answers garbage with a fault, never a 500 of its own.
 */
function parseNodes(text: string): unknown {
  try {
    const valid = XMLValidator.validate(text);
    if (valid !== true) throw new MalformedXmlError(`invalid XML: ${valid.err.msg}`);
    return parser.parse(text) as unknown;
  } catch (error) {
    if (error instanceof MalformedXmlError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new MalformedXmlError(`invalid XML: ${message}`, { cause: error });
  }
}

function toElement(node: OrderedNode, scope: Map<string, string>): XmlElement | undefined {
  const tag = Object.keys(node).find((key) => key !== ':@' && key !== '#text');
  if (tag === undefined || tag.startsWith('?') || tag.startsWith('!')) return undefined;
  const rawAttrs = (node[':@'] ?? {}) as Record<string, string>;
  const inner = declareNamespaces(rawAttrs, scope);
  const [ns, local] = resolveName(tag, inner, true);
  const element: XmlElement = {
    ns,
    local,
    attrs: resolveAttrs(rawAttrs, inner),
    children: [],
    text: '',
  };
  const content = node[tag];
  if (!Array.isArray(content)) return element;
  for (const child of content as OrderedNode[]) {
    if (typeof child['#text'] === 'string') {
      element.text += child['#text'];
      continue;
    }
    const childElement = toElement(child, inner);
    if (childElement) element.children.push(childElement);
  }
  return element;
}

function declareNamespaces(
  attrs: Record<string, string>,
  scope: Map<string, string>,
): Map<string, string> {
  let inner = scope;
  for (const [name, value] of Object.entries(attrs)) {
    if (name !== 'xmlns' && !name.startsWith('xmlns:')) continue;
    if (inner === scope) inner = new Map(scope);
    inner.set(name === 'xmlns' ? '' : name.slice(6), value);
  }
  return inner;
}

function resolveName(
  qname: string,
  scope: Map<string, string>,
  useDefault: boolean,
): [string, string] {
  const colon = qname.indexOf(':');
  if (colon < 0) return [useDefault ? (scope.get('') ?? '') : '', qname];
  const prefix = qname.slice(0, colon);
  const ns = scope.get(prefix);
  if (ns === undefined) throw new MalformedXmlError(`invalid XML: undeclared prefix '${prefix}'`);
  return [ns, qname.slice(colon + 1)];
}

function resolveAttrs(
  raw: Record<string, string>,
  scope: Map<string, string>,
): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const [name, value] of Object.entries(raw)) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
    const [ns, local] = resolveName(name, scope, false);
    attrs.set(ns === '' ? local : `{${ns}}${local}`, value);
  }
  return attrs;
}

/** The first child element with this namespace and local name. */
export function child(element: XmlElement | undefined, ns: string, local: string) {
  return element?.children.find((c) => c.ns === ns && c.local === local);
}

/** Every child element with this namespace and local name. */
export function children(element: XmlElement | undefined, ns: string, local: string) {
  return element?.children.filter((c) => c.ns === ns && c.local === local) ?? [];
}

/** Escapes text for element content and attribute values. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
