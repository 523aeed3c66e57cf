import { describe, expect, it } from 'vitest';
import { indexText, makeSnippet, queryTerms } from './text.js';

describe('search text', () => {
  it('indexes CJK runs as bigrams and leaves other words alone', () => {
    expect(indexText('我住在東京都')).toBe(' 我住 住在 在東 東京 京都 都 ');
    expect(indexText('café au lait')).toBe('café au lait');
  });
  it('reads a query as prefix words and CJK phrases', () => {
    expect(queryTerms('banan café')).toEqual([
      { kind: 'prefix', text: 'banan' },
      { kind: 'prefix', text: 'café' },
    ]);
    expect(queryTerms('東京都')).toEqual([{ kind: 'phrase', tokens: ['東京', '京都'] }]);
    expect(queryTerms('東')).toEqual([{ kind: 'prefix', text: '東' }]);
    expect(queryTerms('"; DROP TABLE --')).toEqual([
      { kind: 'prefix', text: 'DROP' },
      { kind: 'prefix', text: 'TABLE' },
    ]);
  });
  it('cuts a snippet around the match and marks it, accent-insensitively', () => {
    const body = `${'x'.repeat(200)} un café crème ${'y'.repeat(200)}`;
    const { snippet, highlights } = makeSnippet(body, 'cafe');
    expect(snippet.startsWith('…')).toBe(true);
    expect(highlights).toHaveLength(1);
    const [a, b] = highlights[0]!;
    expect(snippet.slice(a, b)).toBe('café');
  });
});
