import { describe, expect, it } from 'vitest';
import { isSingleEmoji } from './emoji.js';

describe('isSingleEmoji', () => {
  it.each(['👍', '👍🏽', '👨‍👩‍👧', '🇫🇷', '❤️', '1️⃣', '🏳️‍🌈', '😂', '☕'])('accepts %s', (e) => {
    expect(isSingleEmoji(e)).toBe(true);
  });
  it.each(['', 'abc', 'a', '👍👍', 'a👍', '👍 ', '1', '#', '🇫', 'é'])('refuses %j', (e) => {
    expect(isSingleEmoji(e)).toBe(false);
  });
});
