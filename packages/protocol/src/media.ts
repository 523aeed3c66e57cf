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
