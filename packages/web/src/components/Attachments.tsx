// A message's files: photos in a grid (thumbnails, a lightbox on click), voice and other audio
// with a player, anything else as a card with its name, size and a download link.
import { useEffect, useRef, useState } from 'react';
import type { Attachment, LinkPreview } from '@messenger/protocol';
import { Icon, IconButton } from './Icons.js';

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function Attachments({ list }: { list: Attachment[] }) {
  const [open, setOpen] = useState<Attachment | null>(null);
  if (list.length === 0) return null;
  const images = list.filter((a) => a.thumbnailUrl !== null);
  const audio = list.filter((a) => a.thumbnailUrl === null && a.contentType.startsWith('audio/'));
  const files = list.filter((a) => a.thumbnailUrl === null && !a.contentType.startsWith('audio/'));
  return (
    <div className="attachments">
      {images.length > 0 && (
        <div className={`photo-grid n${Math.min(images.length, 4)}`}>
          {images.map((a) => (
            <button
              key={a.id}
              type="button"
              className="photo"
              aria-label={`Open photo ${a.name}`}
              onClick={() => setOpen(a)}
            >
              <img
                src={a.thumbnailUrl ?? a.url}
                alt={a.name}
                width={a.width ?? undefined}
                height={a.height ?? undefined}
              />
            </button>
          ))}
        </div>
      )}
      {audio.map((a) => (
        <VoicePlayer key={a.id} attachment={a} />
      ))}
      {files.map((a) => (
        <a key={a.id} className="file-card" href={a.url} download={a.name} aria-label={`Download ${a.name}`}>
          <Icon>
            <path d="M7 3h7l5 5v13H7z" />
            <path d="M14 3v5h5" />
          </Icon>
          <span className="file-card-text">
            <span className="file-name">{a.name}</span>
            <span className="file-size">{formatSize(a.size)}</span>
          </span>
        </a>
      ))}
      {open && <Lightbox attachment={open} onClose={() => setOpen(null)} />}
    </div>
  );
}

/** The page a message links to, as the server read it. Its image is the site's: the page's CSP keeps it out. */
export function LinkCard({ preview }: { preview: LinkPreview }) {
  const host = (() => {
    try {
      return new URL(preview.url).host;
    } catch {
      return preview.url;
    }
  })();
  return (
    <a className="link-card" href={preview.url} target="_blank" rel="noopener noreferrer">
      {/* The server's own copy (a signed URL on this origin): the reader's browser never asks the linked site. */}
      {preview.thumbnailUrl && <img className="link-image" src={preview.thumbnailUrl} alt="" loading="lazy" />}
      <span className="link-host">{host}</span>
      {preview.title && <span className="link-title">{preview.title}</span>}
      {preview.description && <span className="link-description">{preview.description}</span>}
    </a>
  );
}

function Lightbox({ attachment, onClose }: { attachment: Attachment; onClose(): void }) {
  const close = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    close.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [onClose]);
  return (
    <div className="lightbox" role="dialog" aria-modal="true" aria-label={attachment.name}>
      <img src={attachment.url} alt={attachment.name} />
      <div className="lightbox-bar">
        <a href={attachment.url} download={attachment.name}>
          Download
        </a>
        <button ref={close} type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </div>
  );
}

/** A play button and a progress bar over a hidden <audio>. */
export function VoicePlayer({ attachment }: { attachment: Pick<Attachment, 'url' | 'name' | 'durationMs'> }) {
  const audio = useRef<HTMLAudioElement>(null);
  const [playing, setPlaying] = useState(false);
  const [at, setAt] = useState(0);
  const [length, setLength] = useState((attachment.durationMs ?? 0) / 1000);
  const toggle = () => {
    const el = audio.current;
    if (!el) return;
    if (el.paused) void el.play();
    else el.pause();
  };
  return (
    <div className="voice">
      <IconButton className="icon-button small" label={playing ? 'Pause' : 'Play voice message'} onClick={toggle}>
        <Icon>{playing ? <path d="M8 5v14M16 5v14" strokeWidth="3" /> : <path d="M7 4l13 8-13 8z" />}</Icon>
      </IconButton>
      <progress aria-label="Played" max={length || 1} value={Math.min(at, length || 1)} />
      <span className="voice-time">{formatDuration((playing || at > 0 ? at : length) * 1000)}</span>
      {/* biome-ignore lint/a11y/useMediaCaption: a voice message has no captions to offer */}
      <audio
        ref={audio}
        src={attachment.url}
        preload="metadata"
        onPlay={() => setPlaying(true)}
        onPause={() => setPlaying(false)}
        onEnded={() => {
          setPlaying(false);
          setAt(0);
        }}
        onTimeUpdate={(e) => setAt(e.currentTarget.currentTime)}
        onLoadedMetadata={(e) => {
          const d = e.currentTarget.duration;
          if (Number.isFinite(d) && d > 0) setLength(d);
        }}
      />
    </div>
  );
}
