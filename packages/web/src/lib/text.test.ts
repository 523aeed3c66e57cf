import { describe, expect, it } from 'vitest';
import { highlight, initials, linkify, safeHref } from './text.js';

describe('linkify', () => {
  it('keeps markup as text', () => {
    expect(linkify('<img src=x onerror=alert(1)>')).toEqual([{ kind: 'text', text: '<img src=x onerror=alert(1)>' }]);
  });

  it('links http and https only, without trailing punctuation', () => {
    expect(linkify('see https://example.org/a?b=1, then http://x.io.')).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.org/a?b=1', href: 'https://example.org/a?b=1' },
      { kind: 'text', text: ', then ' },
      { kind: 'link', text: 'http://x.io', href: 'http://x.io/' },
      { kind: 'text', text: '.' },
    ]);
    expect(linkify('javascript:alert(1) ftp://x data:text/html,hi')).toEqual([
      { kind: 'text', text: 'javascript:alert(1) ftp://x data:text/html,hi' },
    ]);
  });

  it('keeps a balanced parenthesis', () => {
    const parts = linkify('(https://en.wikipedia.org/wiki/Foo_(bar))');
    expect(parts[1]).toEqual({
      kind: 'link',
      text: 'https://en.wikipedia.org/wiki/Foo_(bar)',
      href: 'https://en.wikipedia.org/wiki/Foo_(bar)',
    });
    expect(parts[2]).toEqual({ kind: 'text', text: ')' });
  });

  it('refuses non-web schemes', () => {
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('https://ok.example')).toBe('https://ok.example/');
  });
});

describe('highlight', () => {
  it('marks ranges and tolerates bad ones', () => {
    expect(
      highlight('hello world', [
        [6, 11],
        [0, 1],
        [3, 2],
        [20, 30],
      ]),
    ).toEqual([
      { text: 'h', marked: true },
      { text: 'ello ', marked: false },
      { text: 'world', marked: true },
    ]);
    expect(
      highlight('abc', [
        [0, 2],
        [1, 3],
      ]),
    ).toEqual([
      { text: 'ab', marked: true },
      { text: 'c', marked: true },
    ]);
  });
});

describe('initials', () => {
  it('takes first and last word', () => {
    expect(initials('Ann Marie Lee')).toBe('AL');
    expect(initials('bob')).toBe('B');
    expect(initials('  ')).toBe('?');
    expect(initials('Weekend hike 🥾')).toBe('WH');
  });
});
