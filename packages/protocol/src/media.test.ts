import { describe, expect, it } from 'vitest';
import { describeAttachments } from './media.js';

describe('describeAttachments', () => {
  it('names what a message without text carries, for pushes and chat lists', () => {
    expect(describeAttachments([{ name: 'a.jpg', contentType: 'image/jpeg' }])).toBe('Photo');
    expect(describeAttachments([{ name: 'Voice message.webm', contentType: 'audio/webm' }])).toBe('Voice message');
    expect(describeAttachments([{ name: 'report.pdf', contentType: 'application/pdf' }])).toBe('report.pdf');
    const two = [
      { name: 'a.png', contentType: 'image/png' },
      { name: 'b.txt', contentType: 'text/plain' },
    ];
    expect(describeAttachments(two)).toBe('Photo (+1)');
    expect(describeAttachments([])).toBe('');
  });
});
