// Shared XML reading for the report parsers: validate first (so errors carry a line number),
// then parse with attributes kept as plain strings under their own names.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ReportParseError } from './report-error.ts';

export type XmlNode = Record<string, unknown>;

export function parseXml(xml: string, file: string, arrayTags: readonly string[]): XmlNode {
  if (xml.trim() === '') throw new ReportParseError(file, 'empty file');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new ReportParseError(file, `invalid XML at line ${valid.err.line}: ${valid.err.msg}`);
  }
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseAttributeValue: false,
    parseTagValue: false,
    htmlEntities: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    isArray: (name) => arrayTags.includes(name),
  });
  const root: unknown = parser.parse(xml);
  if (!isNode(root)) throw new ReportParseError(file, 'no root element');
  return root;
}

export function isNode(value: unknown): value is XmlNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Child elements named `tag` (always an array; text-only or empty elements become `{}`). */
export function children(node: XmlNode, tag: string): XmlNode[] {
  const value = node[tag];
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.map((item: unknown) => (isNode(item) ? item : { '#text': typeof item === 'string' ? item : '' }));
}

export function attr(node: XmlNode, name: string): string | undefined {
  const value = node[name];
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

/** A numeric attribute; absent or unparsable → `fallback`. */
export function numAttr(node: XmlNode, name: string, fallback = 0): number {
  const raw = attr(node, name);
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  return Number.isFinite(value) ? value : fallback;
}

export function text(node: XmlNode): string {
  const value = node['#text'];
  return typeof value === 'string' ? value : '';
}
