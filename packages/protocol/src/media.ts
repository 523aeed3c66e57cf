// Media uploads: what POST /v1/uploads answers, and what a message's attachments will carry.

export interface Upload {
  id: string;
  name: string;
  /** Sniffed from the bytes; the client's word only for text. */
  contentType: string;
  /** Bytes of the stored file: for images the re-encoded one, without EXIF/GPS. */
  size: number;
  /** Hex SHA-256 of the stored bytes. */
  sha256: string;
  width: number | null;
  height: number | null;
  durationMs: number | null;
  /** Signed, works without a header (an `<img src>`), expires after at least an hour. */
  url: string;
  /** Images only; at most 320 px on its longest side. */
  thumbnailUrl: string | null;
  createdAt: string;
}

export interface UploadResponse {
  upload: Upload;
}

/** A file as a message carries it: `url` and `thumbnailUrl` are signed each time it is served. */
export interface Attachment {
  id: string;
  name: string;
  contentType: string;
  size: number;
  width: number | null;
  height: number | null;
  durationMs: number | null;
  url: string;
  /** Images only. */
  thumbnailUrl: string | null;
}

/** What a chat list or a push says for a message without text. */
export function describeAttachments(list: readonly Pick<Attachment, 'name' | 'contentType'>[]): string {
  const first = list[0];
  if (!first) return '';
  const kind = first.contentType;
  const label = kind.startsWith('image/')
    ? 'Photo'
    : kind.startsWith('audio/')
      ? 'Voice message'
      : kind.startsWith('video/')
        ? 'Video'
        : first.name;
  return list.length > 1 ? `${label} (+${list.length - 1})` : label;
}
