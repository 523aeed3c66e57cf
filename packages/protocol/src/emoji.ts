// A reaction is exactly one grapheme cluster that is an emoji (skin tones, ZWJ sequences, flags, keycaps).

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const pictographic = /\p{Extended_Pictographic}/u;
const regionalPair = /^\p{Regional_Indicator}{2}$/u;
const keycap = /^[0-9#*]\uFE0F?\u20E3$/u;
const emojiPresentation = /\p{Emoji_Presentation}/u;
const lettersOrDigits = /[\p{L}\p{N}]/u;

export function isSingleEmoji(value: string): boolean {
  if (value.length === 0 || value.length > 64) return false;
  const graphemes = [...segmenter.segment(value)];
  if (graphemes.length !== 1) return false;
  if (regionalPair.test(value) || keycap.test(value)) return true;
  // A lone regional indicator is half a flag.
  if (/\p{Regional_Indicator}/u.test(value)) return false;
  if (!(pictographic.test(value) || emojiPresentation.test(value))) return false;
  // A pictograph glued to letters by a combining mark is not an emoji.
  return !lettersOrDigits.test(value.replace(/\p{Extended_Pictographic}|\p{Emoji_Component}|\uFE0F|\u200D/gu, ''));
}
